/* CNode invocations: copy, mint, move, delete, revoke, identify.  The CNode
 * named in x9 holds the destination slot (or the slot acted on); the
 * source is (x1 CNode, x2 index).  Rights can only shrink. */
#include "hyp/syscall.h"

/* The slot acted on: index x0 of the CNode in x9. */
static err_t this_slot(struct thread *t, struct cap **c)
{
	return lookup_slot(t, arg(t, REG_CAP), arg(t, 0), c);
}

static err_t src_dst(struct thread *t, struct cap **src, struct cap **dst)
{
	err_t e;
	if ((e = this_slot(t, dst)) ||
	    (e = lookup_slot(t, arg(t, 1), arg(t, 2), src)))
		return e;
	if (cap_empty(*src))
		return E_BADCAP;
	if (!cap_empty(*dst))
		return E_SLOT;
	return E_OK;
}

/* Copy and mint: source and destination, and a rights mask (x3) that
 * names only rights, checked whole (a bit above R_ALL is no right). */
static err_t derive_args(struct thread *t, struct cap **src, struct cap **dst)
{
	err_t e = src_dst(t, src, dst);
	if (e)
		return e;
	return arg(t, 3) & ~(uint64_t)R_ALL ? E_INVAL : E_OK;
}

static void derive(struct cap *dst, struct cap *src, uint64_t rights)
{
	struct cap v = *src;
	v.rights = src->rights & rights;
	obj_get(src->obj);
	cap_install(dst, &v, src);
}

err_t sys_cnode_copy(struct thread *t)
{
	struct cap *src, *dst;
	err_t e = derive_args(t, &src, &dst);
	if (e)
		return e;
	derive(dst, src, arg(t, 3));
	return E_OK;
}

/* Mint: a copy with a badge (endpoints, notifications, once) or a guard
 * (CNodes: x4 guard, x5 guard length). */
err_t sys_cnode_mint(struct thread *t)
{
	struct cap *src, *dst;
	err_t e = derive_args(t, &src, &dst);
	uint64_t word = arg(t, 4), bits = arg(t, 5);
	if (e)
		return e;
	switch (src->type) {
	case OBJ_ENDPOINT:
	case OBJ_NOTIFICATION:
		if (src->badge)
			return E_INVAL; /* a badge is set once */
		break;
	case OBJ_CNODE:
		/* written so that no huge bits can wrap the sum */
		if (bits > 64u - ((struct cnode *)src->obj)->bits ||
		    (bits < 64 && word >> bits))
			return E_INVAL;
		break;
	default:
		return E_BADTYPE;
	}
	derive(dst, src, arg(t, 3));
	if (src->type == OBJ_CNODE)
		dst->guard_bits = bits, dst->guard = word;
	else
		dst->badge = word;
	return E_OK;
}

err_t sys_cnode_move(struct thread *t)
{
	struct cap *src, *dst;
	err_t e = src_dst(t, &src, &dst);
	if (e)
		return e;
	cap_move(dst, src);
	return E_OK;
}

err_t sys_cnode_delete(struct thread *t)
{
	struct cap *c;
	err_t e = this_slot(t, &c);
	if (e)
		return e;
	cap_delete(c);
	return E_OK;
}

err_t sys_cnode_revoke(struct thread *t)
{
	struct cap *c;
	err_t e = this_slot(t, &c);
	if (e)
		return e;
	cap_revoke(c);
	return E_OK;
}

err_t sys_cnode_identify(struct thread *t)
{
	struct cap *c;
	err_t e = this_slot(t, &c);
	if (e)
		return e;
	set_ret(t, 0, c->type);
	set_ret(t, 1, c->rights);
	set_ret(t, 2, c->type == OBJ_FRAME ? cap_map_va(c) : c->badge);
	set_ret(t, 3, c->first_child != NULL);
	return E_OK;
}
