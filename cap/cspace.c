/* CSpace lookup: guarded page-table-like resolution of a capability
 * address through a tree of CNodes, O(levels). */
#include "cap/cap.h"

err_t cspace_lookup(struct cap *root, cptr_t cptr, unsigned depth, struct cap **slot)
{
	struct cap *c = root;
	if (depth > 64)
		return E_BADCAP;
	for (;;) {
		if (c->type != OBJ_CNODE)
			return E_BADCAP;
		struct cnode *cn = (struct cnode *)c->obj;
		unsigned g = c->guard_bits, r = cn->bits;
		if (g + r > depth)
			return E_BADCAP;
		depth -= g;
		uint64_t gmask = g ? (~0ull >> (64 - g)) : 0;
		if (g && ((cptr >> depth) & gmask) != c->guard)
			return E_BADCAP;
		depth -= r;
		uint64_t idx = (cptr >> depth) & ((1ull << r) - 1);
		if (idx == 0)
			return E_BADCAP; /* slot 0 holds the CNode header */
		struct cap *s = &cnode_slots(cn)[idx];
		if (depth == 0 || s->type != OBJ_CNODE) {
			*slot = s;
			return E_OK;
		}
		c = s;
	}
}
