/* Doorbells (ioeventfd, in KVM's words): a guest's write to an IPA bound
 * to a notification signals it in the kernel and the guest goes on, with
 * no exit to its VMM.  A virtio queue's notify register is the use: the
 * backend server waits on the notification, and the VMM is not in the way
 * of a request.  What the guest wrote is not kept (a doorbell says "look",
 * the queues say what). */
#include "hyp/syscall.h"
#include "ipc/ipc.h"
#include "mm/aspace.h"
#include "vcpu/vcpu.h"

static struct doorbell *free_entry(struct aspace *as)
{
	for (unsigned i = 0; i < AS_DOORBELLS; i++)
		if (!as->db[i].ntfn)
			return &as->db[i];
	return NULL;
}

err_t guest_reg_decode(struct thread *t, uint64_t align, struct aspace **as, uint64_t *ipa)
{
	struct cap *a;
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_ASPACE, R_WRITE, &a);
	if (e)
		return e;
	*as = (struct aspace *)a->obj;
	*ipa = arg(t, 0);
	if (*ipa >> USER_VA_BITS)
		return E_RANGE;
	return *ipa & (align - 1) ? E_ALIGN : E_OK;
}

/* x9 address space, x0 IPA, x1 notification (0: unbind), x2 bits. */
err_t sys_as_bind_doorbell(struct thread *t)
{
	struct cap *nc;
	struct aspace *as;
	uint64_t ipa, bits = arg(t, 2);
	err_t e = guest_reg_decode(t, 4, &as, &ipa);
	if (e)
		return e;
	struct doorbell *db = aspace_doorbell(as, ipa);
	if (arg(t, 1) == 0) {
		if (!db)
			return E_NOENT;
		obj_put(db->ntfn);
		*db = (struct doorbell){ 0 };
		return E_OK;
	}
	if ((e = lookup_cap(t, arg(t, 1), OBJ_NOTIFICATION, R_WRITE, &nc)))
		return e;
	if (!bits)
		return E_INVAL;
	if (db || aspace_status(as, ipa)) /* one register, one meaning */
		return E_BUSY;
	if (!(db = free_entry(as)))
		return E_FULL;
	obj_get(nc->obj);
	*db = (struct doorbell){ .ipa = ipa, .bits = bits, .ntfn = nc->obj };
	return E_OK;
}

bool doorbell_ring(struct aspace *as, uint64_t ipa)
{
	struct doorbell *db = aspace_doorbell(as, ipa);
	if (db)
		ntfn_signal((struct notification *)db->ntfn, db->bits);
	return db != NULL;
}
