/* A small VMM library for native servers: a guest's RAM and stage-2 space,
 * its VCPU threads, and the exit loop's receive and reply.  The root task's
 * VM tests use it; a VMM server is built on it. */
#pragma once
#include "cairn/vcpu.h"
#include "servers/root/root.h"

#define VM_MAX_VCPUS 4

struct vm_vcpu {
	cptr_t vcpu, thread, cnode, cspace, fault_ep;
	bool stopped;                 /* by SBI HSM hart_stop: its thread suspended */
};

struct vm {
	cptr_t as;                    /* the guest's stage-2 address space */
	cptr_t ep;                    /* where its exits arrive (not owned) */
	unsigned index;               /* badges: index << 8 | vcpu */
	cptr_t ram, ram_guest;        /* first slots of its frames and their guest copies */
	unsigned npages;              /* frames: 2 MiB where the RAM is whole 2 MiB, else 4 KiB */
	uint64_t ram_ipa, ram_size;
	uint8_t *ram_va;              /* the guest's RAM as this task sees it */
	struct vm_vcpu v[VM_MAX_VCPUS];
	unsigned nvcpus;
};

/* One exit as the VMM receives it. */
struct vm_exit {
	uint64_t label, badge;
	uint64_t w[VMEXIT_WORDS];
};
static inline unsigned vm_exit_vm(const struct vm_exit *x) { return x->badge >> 8; }
static inline unsigned vm_exit_vcpu(const struct vm_exit *x) { return x->badge & 0xff; }

/* RAM of ram_size bytes (up to 8 GiB) at ram_ipa (2 MiB frames where it is
 * whole 2 MiB, else 4 KiB ones) with `image` copied to its start; exits go
 * to endpoint ep.  index (below 64) names the VM in badges. */
err_t vm_create(struct vm *vm, unsigned index, cptr_t ep, uint64_t ram_ipa, uint64_t ram_size,
		const void *image, uint64_t size);
/* A VCPU entering at pc with x0-x2 set, on `cpu` at `prio`; vm_start
 * starts it. */
err_t vm_add_vcpu(struct vm *vm, uint64_t pc, uint64_t x0, uint64_t x1, uint64_t x2,
		  unsigned cpu, unsigned prio);
static inline err_t vm_start(struct vm *vm, unsigned i)
{
	return INV0(SYS_THREAD_RESUME, vm->v[i].thread);
}
/* Give VCPU i's CSpace a copy of root capability src at `slot`. */
err_t vm_give(struct vm *vm, unsigned i, uint64_t slot, cptr_t src, unsigned rights);
void vm_destroy(struct vm *vm);
/* Its VCPUs only (a reset guest keeps its RAM and space). */
void vm_destroy_vcpus(struct vm *vm);

/* The SBI calls of a riscv64 guest (VMEXIT_HVC with syndrome 10, an ecall
 * from VS-mode: w[0] a7 the extension, w[3] a6 the function, w[4] a0,
 * w[5] a1), as far as a VMM serves them: the base extension (spec version
 * VM_SBI_VERSION), the legacy console putchar, IPI (to its VCPUs), RFENCE
 * (remote_fence_i, remote_sfence_vma and _asid, through AS_GUEST_FENCE),
 * HSM (hart i is VCPU i, of VM_MAX_VCPUS harts; hart_stop suspends the
 * caller's thread, whose reply then finds no caller, and hart_start starts
 * it again) and SRST.  TIME is the kernel's.  VM_SBI_NONE: not an SBI call
 * (AArch64's exits never are); VM_SBI_RESET: the guest asked for a reset
 * or power off (reply not filled in); VM_SBI_HART_START: a hart_start of
 * the next VCPU, reply[2] its number, reply[3] its pc, reply[4] its a1:
 * the VMM makes it (vm_add_vcpu, a0 the number) and puts the SBI error in
 * reply[1]. */
enum { SBI_EXT_LEGACY_PUTCHAR = 1, SBI_EXT_LEGACY_GETCHAR = 2, SBI_EXT_BASE = 0x10,
       SBI_EXT_TIME = 0x54494d45, SBI_EXT_IPI = 0x735049, SBI_EXT_HSM = 0x48534d,
       SBI_EXT_SRST = 0x53525354, SBI_EXT_RFENCE = 0x52464e43 };
#define SBI_ECALL_VS 10 /* the exit's syndrome: an ecall from VS-mode */
#define SBI_ERR_FAILED (-1ll)
enum vm_sbi { VM_SBI_NONE, VM_SBI_DONE, VM_SBI_RESET, VM_SBI_HART_START };
#define VM_SBI_VERSION 3 /* 0.3: SRST is there */
enum vm_sbi vm_sbi(struct vm *vm, const struct vm_exit *x, uint64_t reply[5]);

/* Receive the next exit on ep; reply to the last one and receive the next. */
err_t vm_wait(cptr_t ep, struct vm_exit *x);
err_t vm_reply_wait(cptr_t ep, const uint64_t reply[5], struct vm_exit *x);
