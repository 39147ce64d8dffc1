/* The VMM library (vm.h). */
#include "servers/vmm/vm.h"

/* Where this task maps each VM's RAM: 64 GiB up, 8 GiB per VM. */
#define VM_RAM_WINDOW 0x1000000000ull
#define VM_RAM_STRIDE 0x200000000ull
#define BIG (1ull << FRAME_BITS_2M)

err_t vm_create(struct vm *vm, unsigned index, cptr_t ep, uint64_t ram_ipa, uint64_t ram_size,
		const void *image, uint64_t size)
{
	err_t e;
	*vm = (struct vm){ .ep = ep, .index = index, .ram_ipa = ram_ipa, .ram_size = ram_size };
	unsigned bits = ram_size % BIG == 0 && ram_ipa % BIG == 0 ? FRAME_BITS_2M : FRAME_BITS_4K;
	uint64_t frame = 1ull << bits, pages = ram_size >> bits;
	if (!pages || ram_size % PAGE_SIZE_U || size > ram_size || ram_size > VM_RAM_STRIDE ||
	    index >= 64)
		return E_RANGE;
	vm->ram_va = (uint8_t *)(VM_RAM_WINDOW + index * VM_RAM_STRIDE);
	if (!(vm->as = new_obj(OBJ_ASPACE, AS_GUEST)) || !(vm->ram = slot_alloc_range(pages)))
		return E_NOMEM;
	vm->npages = (unsigned)pages;
	if (!(vm->ram_guest = slot_alloc_range(pages)))
		return E_NOMEM;
	for (unsigned i = 0; i < pages; i++) {
		uint64_t off = i * frame;
		cptr_t f = vm->ram + i, g = vm->ram_guest + i;
		if ((e = retype(ROOT_MEMORY, OBJ_FRAME, bits, ROOT_CNODE, f)) ||
		    (e = INV3(SYS_AS_MAP, ROOT_ASPACE, f, (uint64_t)vm->ram_va + off,
			      R_READ | R_WRITE)) ||
		    (e = INV4(SYS_CNODE_COPY, ROOT_CNODE, g, ROOT_CNODE, f, R_ALL)) ||
		    (e = INV3(SYS_AS_MAP, vm->as, g, ram_ipa + off, R_READ | R_WRITE | R_EXEC)))
			return e;
	}
	memcpy(vm->ram_va, image, size);
	return E_OK;
}

/* The guest's registers at entry: AArch64 x0-x2 and the MPIDR it reads;
 * an ISA's uarch.h may say otherwise (riscv64: a0-a2, no such register). */
#ifndef UARCH_VREG_ARG0
#define UARCH_VREG_ARG0 VREG_X0
#define UARCH_VREG_CPUID VREG_MPIDR
#define UARCH_CPUID(i) (1ull << 31 | (i))
#endif

static err_t vcpu_setup(struct vm *vm, struct vm_vcpu *v, unsigned i)
{
	err_t e;
	if (!(v->vcpu = new_obj(OBJ_VCPU, 0)) || !(v->thread = new_obj(OBJ_THREAD, 0)) ||
	    !(v->cnode = new_obj(OBJ_CNODE, 4)) || !(v->cspace = slot_alloc()) ||
	    !(v->fault_ep = slot_alloc()))
		return E_NOMEM;
	if ((e = inv(SYS_CNODE_MINT, ROOT_CNODE, v->cspace, ROOT_CNODE, v->cnode, R_ALL, 0, 60,
		     0)) ||
	    (e = inv(SYS_CNODE_MINT, ROOT_CNODE, v->fault_ep, ROOT_CNODE, vm->ep, R_WRITE,
		     (uint64_t)vm->index << 8 | i, 0, 0)))
		return e;
	return INV3(SYS_THREAD_CONFIGURE, v->thread, v->cspace, vm->as, v->fault_ep);
}

err_t vm_add_vcpu(struct vm *vm, uint64_t pc, uint64_t x0, uint64_t x1, uint64_t x2,
		  unsigned cpu, unsigned prio)
{
	if (vm->nvcpus == VM_MAX_VCPUS)
		return E_FULL;
	unsigned i = vm->nvcpus++;
	struct vm_vcpu *v = &vm->v[i];
	err_t e;
	if ((e = vcpu_setup(vm, v, i)) ||
	    (e = INV1(SYS_VCPU_BIND, v->vcpu, v->thread)) ||
	    (e = INV2(SYS_VCPU_WRITE_REG, v->vcpu, VREG_PC, pc)) ||
	    (e = INV2(SYS_VCPU_WRITE_REG, v->vcpu, UARCH_VREG_ARG0, x0)) ||
	    (e = INV2(SYS_VCPU_WRITE_REG, v->vcpu, UARCH_VREG_ARG0 + 1, x1)) ||
	    (e = INV2(SYS_VCPU_WRITE_REG, v->vcpu, UARCH_VREG_ARG0 + 2, x2)) ||
	    (UARCH_VREG_CPUID &&
	     (e = INV2(SYS_VCPU_WRITE_REG, v->vcpu, UARCH_VREG_CPUID, UARCH_CPUID(i)))) ||
	    (e = INV2(SYS_THREAD_SET_PRIORITY, v->thread, prio, prio)) ||
	    (e = INV1(SYS_THREAD_SET_AFFINITY, v->thread, cpu)))
		return e;
	return E_OK;
}

err_t vm_give(struct vm *vm, unsigned i, uint64_t slot, cptr_t src, unsigned rights)
{
	return INV4(SYS_CNODE_COPY, vm->v[i].cnode, slot, ROOT_CNODE, src, rights);
}

void vm_destroy_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vm_vcpu *v = &vm->v[i];
		cptr_t all[] = { v->thread, v->vcpu, v->fault_ep, v->cspace, v->cnode };
		for (unsigned k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			if (all[k])
				slot_free(all[k]);
		*v = (struct vm_vcpu){ 0 };
	}
	vm->nvcpus = 0;
}

void vm_destroy(struct vm *vm)
{
	vm_destroy_vcpus(vm);
	for (unsigned i = 0; i < vm->npages; i++) { /* empty slots too: their range goes */
		if (vm->ram_guest)
			slot_free(vm->ram_guest + i);
		slot_free(vm->ram + i);
	}
	if (vm->as)
		slot_free(vm->as);
	*vm = (struct vm){ 0 };
}

static err_t exit_of(struct sysregs *r, struct vm_exit *x, err_t e)
{
	x->label = msginfo_label(r->info);
	x->badge = r->cap;
	for (unsigned i = 0; i < VMEXIT_WORDS; i++)
		x->w[i] = r->mr[i];
	return e;
}

err_t vm_wait(cptr_t ep, struct vm_exit *x)
{
	struct sysregs r = { .nr = SYS_RECV, .cap = ep };
	return exit_of(&r, x, sys(&r));
}

/* The VMM's loop, so only the registers it needs (make bench counts the
 * VMM's instructions too): a five-word reply, the next exit's six words. */
err_t vm_reply_wait(cptr_t ep, const uint64_t reply[5], struct vm_exit *x)
{
	struct sysregs r;
	err_t e = ipc_reply_recv5(ep, reply, x->w, &r);
	x->label = msginfo_label(r.info);
	x->badge = r.cap;
	return e;
}

/* --- SBI (riscv64 guests) ------------------------------------------------- */

#define SBI_ERR_NOT_SUPPORTED (-2ll)
#define SBI_ERR_INVALID_PARAM (-3ll)
#define SBI_ERR_ALREADY_AVAILABLE (-6ll)
#define SBI_HART_STARTED 0
#define SBI_HART_STOPPED 1
#define SBI_ALL_HARTS (~0ull) /* hart_mask_base: every hart, the mask unread */
#define VREG_RV_A0 10
#define SSTATUS_SIE 2ull

static bool sbi_has(uint64_t ext)
{
	return ext == SBI_EXT_LEGACY_PUTCHAR || ext == SBI_EXT_BASE || ext == SBI_EXT_TIME ||
	       ext == SBI_EXT_IPI || ext == SBI_EXT_HSM || ext == SBI_EXT_SRST ||
	       ext == SBI_EXT_RFENCE;
}

/* The base extension's functions: version, implementation, probe, the
 * machine ids (0: none). */
static int64_t sbi_base(uint64_t fid, uint64_t a0, uint64_t *value)
{
	static const uint64_t fixed[] = { VM_SBI_VERSION, 0xca12, 1 };
	if (fid < 3)
		*value = fixed[fid];
	else if (fid == 3)
		*value = sbi_has(a0);
	else if (fid <= 6)
		*value = 0;
	else
		return SBI_ERR_NOT_SUPPORTED;
	return 0;
}

/* A hart mask (a0) from hart `base` (a1; SBI_ALL_HARTS: all) names only
 * harts the VM has (VM_MAX_VCPUS: a hart not yet started is stopped, not
 * absent, as hart_get_status says). */
static bool sbi_harts_exist(uint64_t mask, uint64_t base)
{
	if (base == SBI_ALL_HARTS || !mask)
		return true;
	return base < VM_MAX_VCPUS && mask >> (VM_MAX_VCPUS - base) == 0;
}

/* RFENCE: fence.i (0), sfence.vma (1), sfence.vma_asid (2) on the harts
 * named.  The kernel's AS_GUEST_FENCE does it for every hart the guest ran
 * on, which covers any mask, address range and ASID: those are not read
 * (a2-a4 are not in the exit).  It returns once done, so the caller's
 * ecall completes after the fence, as the SBI asks. */
static int64_t sbi_rfence(struct vm *vm, uint64_t fid, uint64_t mask, uint64_t base)
{
	if (fid > 2)
		return SBI_ERR_NOT_SUPPORTED; /* the hfence calls: no nested guests */
	if (!sbi_harts_exist(mask, base))
		return SBI_ERR_INVALID_PARAM;
	unsigned what = fid == 0 ? GUEST_FENCE_ICACHE : GUEST_FENCE_TLB;
	return INV1(SYS_AS_GUEST_FENCE, vm->as, what) ? SBI_ERR_FAILED : 0;
}

/* hart_stop from VCPU i: its thread suspended, which cancels its exit (the
 * reply to it finds no caller: the call does not return). */
static int64_t sbi_hart_stop(struct vm *vm, unsigned i)
{
	if (INV0(SYS_THREAD_SUSPEND, vm->v[i].thread))
		return SBI_ERR_FAILED;
	vm->v[i].stopped = true;
	return 0;
}

/* hart_start of stopped VCPU i as the SBI starts a hart: at pc in VS-mode,
 * a0 its number, a1 opaque, translation off and interrupts masked. */
static int64_t sbi_hart_restart(struct vm *vm, unsigned i, uint64_t pc, uint64_t opaque)
{
	cptr_t v = vm->v[i].vcpu;
	uint64_t st[5] = { 0 };
	if (inv(SYS_VCPU_READ_REG, v, VREG_RV_VSSTATUS, 0, 0, 0, 0, 0, st) ||
	    INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_VSSTATUS, st[0] & ~SSTATUS_SIE) ||
	    INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_VSATP, 0) ||
	    INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_MODE, 1) ||
	    INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_PC, pc) ||
	    INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_A0, i) ||
	    INV2(SYS_VCPU_WRITE_REG, v, VREG_RV_A0 + 1, opaque) || vm_start(vm, i))
		return SBI_ERR_FAILED;
	vm->v[i].stopped = false;
	return 0;
}

/* hart_start (a2, the opaque word, is not in the exit) of a VCPU that
 * exists: one stopped starts again, one running is ALREADY_AVAILABLE. */
static int64_t sbi_hart_start(struct vm *vm, const struct vm_exit *x, uint64_t a0, uint64_t a1)
{
	uint64_t out[5] = { 0 };
	if (a0 >= vm->nvcpus)
		return SBI_ERR_INVALID_PARAM;
	if (!vm->v[a0].stopped)
		return SBI_ERR_ALREADY_AVAILABLE;
	if (inv(SYS_VCPU_READ_REG, vm->v[vm_exit_vcpu(x)].vcpu, 12, 0, 0, 0, 0, 0, out))
		return SBI_ERR_FAILED;
	return sbi_hart_restart(vm, (unsigned)a0, a1, out[0]);
}

/* hart_get_status: a hart not yet made is stopped. */
static int64_t sbi_hart_status(struct vm *vm, uint64_t a0, uint64_t *value)
{
	if (a0 >= VM_MAX_VCPUS)
		return SBI_ERR_INVALID_PARAM;
	*value = a0 >= vm->nvcpus || vm->v[a0].stopped ? SBI_HART_STOPPED : SBI_HART_STARTED;
	return 0;
}

enum vm_sbi vm_sbi(struct vm *vm, const struct vm_exit *x, uint64_t reply[5])
{
	uint64_t ext = x->w[0], fid = x->w[3], a0 = x->w[4], a1 = x->w[5], value = 0;
	int64_t err = 0;
	if (x->label != VMEXIT_HVC || x->w[2] != SBI_ECALL_VS)
		return VM_SBI_NONE;
	if (ext == SBI_EXT_SRST && fid == 0)
		return VM_SBI_RESET;
	if (ext == SBI_EXT_HSM && fid == 0 && a0 < VM_MAX_VCPUS && a0 == vm->nvcpus) {
		uint64_t out[5] = { 0 }; /* a2, the opaque word, is not in the exit */
		inv(SYS_VCPU_READ_REG, vm->v[vm_exit_vcpu(x)].vcpu, 12, 0, 0, 0, 0, 0, out);
		reply[0] = VMREPLY_ADVANCE | VMREPLY_REGS;
		reply[2] = a0, reply[3] = a1, reply[4] = out[0];
		return VM_SBI_HART_START;
	}
	if (ext == SBI_EXT_BASE) {
		err = sbi_base(fid, a0, &value);
	} else if (ext == SBI_EXT_LEGACY_PUTCHAR) {
		char c = (char)a0;
		struct sysregs r = { .nr = SYS_DEBUG_WRITE, .cap = ROOT_CONSOLE,
				     .info = 1, .mr = { (uint8_t)c } };
		sys(&r);
	} else if (ext == SBI_EXT_HSM && fid == 0) {
		err = sbi_hart_start(vm, x, a0, a1);
	} else if (ext == SBI_EXT_HSM && fid == 1) {
		err = sbi_hart_stop(vm, vm_exit_vcpu(x));
	} else if (ext == SBI_EXT_HSM && fid == 2) {
		err = sbi_hart_status(vm, a0, &value);
	} else if (ext == SBI_EXT_RFENCE) {
		err = sbi_rfence(vm, fid, a0, a1);
	} else if (ext == SBI_EXT_IPI && fid == 0) { /* a1 the first hart a0's bit 0 names */
		for (unsigned i = 0; i < vm->nvcpus; i++)
			if (a1 == ~0ull || (i >= a1 && i - a1 < 64 && (a0 >> (i - a1) & 1)))
				INV1(SYS_VCPU_INJECT, vm->v[i].vcpu, VIRQ_RV_SOFT);
	} else {
		err = SBI_ERR_NOT_SUPPORTED;
	}
	reply[0] = VMREPLY_ADVANCE | VMREPLY_REGS;
	reply[1] = (uint64_t)err;
	reply[2] = value;
	return VM_SBI_DONE;
}
