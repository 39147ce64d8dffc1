/* AddressSpace and Frame invocations: map, unmap, protect, info. */
#include "hyp/syscall.h"
#include "mm/aspace.h"

static err_t args(struct thread *t, struct aspace **as, struct cap **frame)
{
	struct cap *a;
	err_t e;
	if ((e = lookup_cap(t, arg(t, REG_CAP), OBJ_ASPACE, R_WRITE, &a)) ||
	    (e = lookup_cap(t, arg(t, 0), OBJ_FRAME, 0, frame)))
		return e;
	*as = (struct aspace *)a->obj;
	return E_OK;
}

/* Map rights, checked as the whole register before anything narrows it
 * to unsigned: R, W, X only, and R always. */
static err_t map_rights(uint64_t rights)
{
	return rights & ~(uint64_t)(R_READ | R_WRITE | R_EXEC) || !(rights & R_READ) ?
		E_INVAL : E_OK;
}

err_t sys_as_map(struct thread *t)
{
	struct aspace *as;
	struct cap *f;
	err_t e;
	if ((e = args(t, &as, &f)) || (e = map_rights(arg(t, 2))) ||
	    (e = aspace_map_check(f, arg(t, 1), arg(t, 2))))
		return e;
	return aspace_map(as, f, arg(t, 1), arg(t, 2));
}

static err_t mapped_here(struct thread *t, struct cap **f)
{
	struct aspace *as;
	err_t e = args(t, &as, f);
	if (e)
		return e;
	return (*f)->map_as == as ? E_OK : E_NOENT;
}

err_t sys_as_unmap(struct thread *t)
{
	struct cap *f;
	err_t e = mapped_here(t, &f);
	if (e)
		return e;
	aspace_unmap_frame(f);
	return E_OK;
}

err_t sys_as_protect(struct thread *t)
{
	struct cap *f;
	uint64_t rights = arg(t, 1);
	err_t e;
	if ((e = mapped_here(t, &f)) || (e = map_rights(rights)))
		return e;
	if (rights & ~(uint64_t)f->rights)
		return E_RIGHTS;
	aspace_protect(f, rights);
	return E_OK;
}

/* x0 what (GUEST_FENCE_* bits, at least one, the whole register). */
err_t sys_as_guest_fence(struct thread *t)
{
	struct cap *a;
	uint64_t what = arg(t, 0);
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_ASPACE, R_WRITE, &a);
	if (e)
		return e;
	if (!what || what & ~(uint64_t)(GUEST_FENCE_TLB | GUEST_FENCE_ICACHE) ||
	    ((struct aspace *)a->obj)->io)
		return E_INVAL;
	return aspace_guest_fence((struct aspace *)a->obj, (unsigned)what);
}

err_t sys_frame_info(struct thread *t)
{
	struct cap *f;
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_FRAME, 0, &f);
	if (e)
		return e;
	set_ret(t, 0, 1ull << f->size_bits);
	set_ret(t, 1, cap_map_va(f));
	set_ret(t, 2, ((struct frame *)f->obj)->pa.pa);
	return E_OK;
}
