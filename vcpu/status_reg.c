/* Status registers: a guest's interrupt status register served in the
 * kernel, from a word of memory that its VMM and the device's backend
 * share.  virtio-mmio is the use: Linux reads InterruptStatus and writes
 * InterruptACK on every interrupt of a device, and each of those was an
 * exit to the VMM and back (two switches between the guest and a native
 * thread, which under QEMU are a TLB flush each).  With the register bound
 * the kernel answers both and the guest goes on: the backend sets bits in
 * the word (an atomic or), the guest's acknowledgement clears them (an
 * atomic and-not), and the VMM reads it when it must.  Only 32-bit
 * accesses of the two kinds are served: anything else at those addresses
 * is an exit as before, for the VMM to judge. */
#include "hyp/syscall.h"
#include "mm/aspace.h"
#include "vcpu/vcpu.h"

static struct status_reg *free_entry(struct aspace *as)
{
	for (unsigned i = 0; i < AS_STATUS_REGS; i++)
		if (!as->st[i].frame)
			return &as->st[i];
	return NULL;
}

static err_t unbind(struct aspace *as, uint64_t ipa)
{
	struct status_reg *s = aspace_status(as, ipa);
	if (!s || s->ipa != ipa)
		return E_NOENT;
	obj_put(&s->frame->o);
	*s = (struct status_reg){ 0 };
	as->nstatus--;
	return E_OK;
}

/* x9 address space, x0 IPA, x1 frame (0: unbind), x2 the word's offset. */
err_t sys_as_bind_status(struct thread *t)
{
	struct cap *fc;
	struct aspace *as;
	uint64_t ipa, off = arg(t, 2);
	err_t e = guest_reg_decode(t, 8, &as, &ipa); /* both registers in one aligned pair */
	if (e)
		return e;
	if (arg(t, 1) == 0)
		return unbind(as, ipa);
	if ((e = lookup_cap(t, arg(t, 1), OBJ_FRAME, R_READ | R_WRITE, &fc)))
		return e;
	struct frame *f = (struct frame *)fc->obj;
	if (f->device) /* the kernel reads and writes the word: memory only */
		return E_BADTYPE;
	if (off >= (1ull << f->bits))
		return E_RANGE;
	if (off & 3)
		return E_ALIGN;
	if (aspace_status(as, ipa) || aspace_status(as, ipa + 4) || aspace_doorbell(as, ipa) ||
	    aspace_doorbell(as, ipa + 4))
		return E_BUSY;
	struct status_reg *s = free_entry(as);
	if (!s)
		return E_FULL;
	obj_get(&f->o);
	*s = (struct status_reg){ .ipa = ipa, .off = off, .frame = f };
	as->nstatus++;
	return E_OK;
}

bool status_reg_access(struct aspace *as, const uint64_t *w, uint64_t *mr)
{
	uint64_t acc = w[3];
	struct status_reg *s = aspace_status(as, w[0]);
	if (!s || !(acc & VMACC_VALID) || (acc & VMACC_SIZE_MASK) != 2)
		return false;
	bool ack = w[0] != s->ipa;
	if (ack != !!(acc & VMACC_WRITE))
		return false; /* a write to the status or a read of the acknowledge */
	uint32_t *word = (uint32_t *)((uint8_t *)frame_kva(s->frame) + s->off);
	mr[0] = VMREPLY_ADVANCE;
	if (ack) {
		__atomic_fetch_and(word, ~(uint32_t)w[4], __ATOMIC_RELEASE);
	} else {
		mr[0] |= VMREPLY_READ;
		mr[1] = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	}
	return true;
}
