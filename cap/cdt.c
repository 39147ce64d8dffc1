/* The capability derivation tree.
 *
 * Each capability knows its parent, its first child and its siblings.
 * Deleting a capability gives its children to its parent, so revoking an
 * ancestor still reaches them.  Revoke walks the subtree iteratively,
 * always deleting a leaf, so the kernel stack does not grow with the depth
 * of the tree and every node is visited a bounded number of times. */
#include "cap/cap.h"
#include "hyp/panic.h"
#include "hyp/string.h"
#include "mm/aspace.h"

static void link_child(struct cap *parent, struct cap *c)
{
	c->parent = parent;
	c->prev_sib = NULL;
	c->next_sib = parent ? parent->first_child : NULL;
	if (c->next_sib)
		c->next_sib->prev_sib = c;
	if (parent)
		parent->first_child = c;
}

static void unlink_sibling(struct cap *c)
{
	if (c->prev_sib)
		c->prev_sib->next_sib = c->next_sib;
	else if (c->parent)
		c->parent->first_child = c->next_sib;
	if (c->next_sib)
		c->next_sib->prev_sib = c->prev_sib;
}

/* Store capability `val` (object reference already taken) in empty slot
 * `dst`, as a child of `parent` (NULL: a root of the tree).  A frame
 * capability starts unmapped: its mapping stays with the original. */
void cap_install(struct cap *dst, const struct cap *val, struct cap *parent)
{
	assert(cap_empty(dst) && val->obj);
	*dst = *val;
	dst->map_as = NULL;
	if (dst->type == OBJ_FRAME)
		dst->map_va = 0;
	dst->first_child = NULL;
	link_child(parent, dst);
}

/* Move the capability in `src` to empty slot `dst`; its place in the tree
 * and its mapping (for frames) go with it. */
void cap_move(struct cap *dst, struct cap *src)
{
	assert(cap_empty(dst) && !cap_empty(src) && dst != src);
	*dst = *src;
	if (dst->prev_sib)
		dst->prev_sib->next_sib = dst;
	else if (dst->parent)
		dst->parent->first_child = dst;
	if (dst->next_sib)
		dst->next_sib->prev_sib = dst;
	for (struct cap *k = dst->first_child; k; k = k->next_sib)
		k->parent = dst;
	memset(src, 0, sizeof(*src));
}

/* Empty slot c.  Its children move up to its parent. */
void cap_delete(struct cap *c)
{
	if (cap_empty(c))
		return;
	if (c->type == OBJ_FRAME && c->map_as)
		aspace_unmap_frame(c);
	struct cap *k = c->first_child;
	while (k) {
		struct cap *next = k->next_sib;
		unlink_sibling(k);
		link_child(c->parent, k);
		k = next;
	}
	unlink_sibling(c);
	struct obj *o = c->obj;
	memset(c, 0, sizeof(*c));
	obj_put(o);
}

void cap_revoke(struct cap *root)
{
	struct cap *c = root->first_child;
	while (c) {
		if (c->first_child) {
			c = c->first_child;
			continue;
		}
		struct cap *up = c->parent;
		cap_delete(c);
		c = up == root ? root->first_child : up;
	}
}
