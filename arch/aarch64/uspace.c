/* Native threads on AArch64: how they are translated, how they enter the
 * kernel, and the TLB and IPI operations generic code asks for.
 *
 * Design: native threads run at EL0 under HCR_EL2.{TGE,VM,DC} = 1 without
 * VHE.  TGE sends every EL0 exception (SVC, aborts, interrupts) to EL2 and
 * turns EL1&0 stage 1 off; DC makes that untranslated stage 1 Normal
 * write-back memory; VM leaves stage 2 on.  So a native address space is
 * just a stage-2 table tagged by a VMID in VTTBR_EL2 (as seL4 and Fiasco
 * do on non-VHE CPUs): a switch is one VTTBR write, the kernel keeps its
 * own EL2 translation and never shares a table with user space, and guests
 * (the next object type) use the very same tables and VMIDs.  It needs no
 * VHE, so CPUs without it are served as well as `-cpu max`.  The cost is
 * that EL0 cannot have stage-1 features such as per-page user/kernel
 * split, which a native thread does not need.  docs/ARCHITECTURE.md has
 * the measurements (an address-space switch costs 2 instructions more than
 * a switch within one space). */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/sysreg.h"
#include "hyp/arch.h"
#include "hyp/fp.h"
#include "hyp/kernel.h"
#include "mm/aspace.h"
#include "mm/pt.h"
#include "vcpu/vcpu.h"

#include "arch/aarch64/fast.h"

#define S2_AF (1ull << 10)
#define S2_SH_INNER (3ull << 8)
#define S2AP_R (1ull << 6)
#define S2AP_W (1ull << 7)
#define S2_XN (1ull << 54)
#define S2_NORMAL_WB (0xfull << 2)
#define S2_DEVICE_nGnRE (0x1ull << 2)

/* Stage 2, 4 KiB granule, 40-bit IPA (guests need at least that: their
 * DTBs put RAM and devices up there) starting at level 0: four levels,
 * 1 GiB blocks at level 1 and 2 MiB ones at level 2.  Level 0 uses two
 * entries; the alternative, two concatenated level-1 tables, would save a
 * page per space at the cost of a second root shape in the walker. */
static const struct pt_format stage2 = {
	.levels = 4,
	.block_min_level = 1,
	.oa_mask = 0x0000fffffffff000ull,
	.table_mask = 3, .table = 3,
	.valid = 1,
	.block = 1 | S2_AF | S2AP_R,
	.page = 3 | S2_AF | S2AP_R,
	.attr_set = { [0] = S2AP_W, [3] = S2_DEVICE_nGnRE },
	.attr_clear = { [1] = S2_XN, [3] = S2_NORMAL_WB | S2_SH_INNER },
};

const struct pt_format *arch_user_pt_format(void) { return &stage2; }

unsigned arch_vmid_bits(void)
{
	return ((read_sysreg(id_aa64mmfr1_el1) >> 4) & 0xf) == 2 ? 16 : 8;
}

uint64_t arch_space_root(paddr_t root, unsigned vmid)
{
	return pa_addr(root) | (uint64_t)vmid << 48;
}

#define VTCR_RES1 (1ull << 31)
#define VTCR_VS16 (1ull << 19)

/* Per CPU, before the first thread runs. */
void arch_user_init_cpu(void)
{
	uint64_t parange = read_sysreg(id_aa64mmfr0_el1) & 7;
	/* T0SZ 24 (40-bit IPA), SL0 2 (start at level 0), walks cacheable
	 * inner shareable, 4 KiB granule, PS from the CPU (every CPU with EL2
	 * has at least 40 bits: QEMU's cortex-a57 44, max 52). */
	write_sysreg(vtcr_el2, (64 - USER_VA_BITS) | (2 << 6) | (1 << 8) | (1 << 10) | (3 << 12) |
			       (MIN(parange, 5ull) << 16) | VTCR_RES1 |
			       (arch_vmid_bits() == 16 ? VTCR_VS16 : 0));
	write_sysreg(vttbr_el2, 0);
	write_sysreg(hcr_el2, HCR_EL2_RW | HCR_EL2_TGE | HCR_EL2_VM | HCR_EL2_DC |
			      HCR_EL2_AMO | HCR_EL2_IMO | HCR_EL2_FMO);
	/* FP/SIMD traps (TFP) until a thread with FP state runs (hyp/fp.c);
	 * EL1's own FP control must let EL0 through. */
	write_sysreg(cpacr_el1, 3ull << 20);
	arch_fp_trap(true);
	/* EL0 may read the counters, use the EL1 physical timer (a user-level
	 * driver's interrupt source; the virtual timer is the guests'), and
	 * read the cycle counter, which counts EL0 and EL2 (PMCCFILTR.NSH)
	 * for the benchmarks. */
	write_sysreg(cntkctl_el1, 1 | 2 | (1 << 9));
	uint64_t n = (read_sysreg(pmcr_el0) >> 11) & 0x1f;
	write_sysreg(mdcr_el2, n);
	write_sysreg(pmccfiltr_el0, 1ull << 27);
	write_sysreg(pmcntenset_el0, 1ull << 31);
	write_sysreg(pmcr_el0, 1 | 4); /* enable, reset the cycle counter */
	/* CR only, not EN: EL0 may read PMCCNTR_EL0 but every other PMU
	 * access (PMCR, PMSELR, PMXEV*, PMCNTEN*: CPU-global state) traps,
	 * and reaches the thread as FAULT_UNDEFINED. */
	write_sysreg(pmuserenr_el0, 4);
	aarch64_vcpu_init_cpu(n);
	__asm__ volatile("tlbi alle1; dsb nsh" ::: "memory");
	isb();
}

/* The RES1 bits and TZ: SVE stays trapped (its wider registers are not
 * switched), so it reaches the thread as an undefined instruction. */
#define CPTR_EL2_BASE 0x33ff
#define CPTR_EL2_TFP (1u << 10)

void arch_fp_trap(bool trap)
{
	write_sysreg(cptr_el2, CPTR_EL2_BASE | (trap ? CPTR_EL2_TFP : 0));
	isb();
}

void arch_regs_init(struct arch_regs *r)
{
	*r = (struct arch_regs){ .spsr = 0 }; /* EL0t, interrupts unmasked */
}

/* TLB maintenance by IPA needs the VMID loaded; with stage 1 off, the
 * combined entries go with a stage-1 invalidation of the same VMID. */
void arch_tlb_flush_page(unsigned vmid, uint64_t va)
{
	uint64_t old = read_sysreg(vttbr_el2);
	write_sysreg(vttbr_el2, (uint64_t)vmid << 48);
	isb();
	dsb(ishst);
	__asm__ volatile("tlbi ipas2e1is, %0" : : "r"(va >> 12) : "memory");
	dsb(ish);
	__asm__ volatile("tlbi vmalle1is" ::: "memory");
	dsb(ish);
	write_sysreg(vttbr_el2, old);
	isb();
}

/* A guest's own TLBI ...IS and IC IALLUIS reach every CPU: no VMM asks. */
err_t arch_guest_fence(unsigned vmid, paddr_t root, unsigned what)
{
	(void)vmid, (void)root, (void)what;
	return E_NOSYS;
}

void arch_tlb_flush_all(void)
{
	dsb(ishst);
	__asm__ volatile("tlbi alle1is" ::: "memory");
	dsb(ish);
	isb();
}

void arch_ipi_send(unsigned cpu)
{
	uint64_t mpidr = cpus[cpu].hwid;
	uint64_t aff0 = mpidr & 0xf, aff1 = (mpidr >> 8) & 0xff;
	uint64_t aff2 = (mpidr >> 16) & 0xff, aff3 = (mpidr >> 32) & 0xff;
	dsb(ishst);
	write_sysreg(ICC_SGI1R_EL1, aff3 << 48 | aff2 << 32 | aff1 << 16 | (1ull << aff0));
	isb();
}

unsigned arch_ipi_irq(void) { return 0; } /* SGI 0 */

enum { EC_UNKNOWN = 0x00, EC_FP = 0x07, EC_HVC64 = 0x16, EC_IABT_LOW = 0x20, EC_PC_ALIGN = 0x22,
       EC_DABT_LOW = 0x24, EC_SP_ALIGN = 0x26 };

_Static_assert(__builtin_offsetof(struct thread, regs) == 0x30, "vectors.S THREAD_REGS");

/* The general path, with the lock held.  It never returns; declared as if
 * it did, so that the fast paths reach it by a tail call (a branch). */
static __attribute__((noinline, noipa)) struct thread *aarch64_svc_general(struct thread *t,
								      struct cpu *c)
{
	kernel_syscall_general(t, c->id);
}

/* kernel_enter's work in full, in its order: the space before the VCPU,
 * whose load flushes by the VMID it runs with (the eret synchronizes the
 * VTTBR write). */
static inline __attribute__((always_inline)) struct thread *svc_enter_full(struct thread *next,
									   struct cpu *c)
{
	fp_switch(next, c->id);
	aspace_activate(next->as, c->id);
	vcpu_switch(next, c->id);
	write_sysreg(vttbr_el2, next->as->hw_root);
	bkl_unlock();
	return next;
}

__attribute__((noinline)) struct thread *svc_enter_slow(struct thread *next, struct cpu *c)
{
	return svc_enter_full(next, c);
}

/* The same from a fast path that shares the lock: taken whole, and
 * kernel_exit does the rest (next is current: the scheduler keeps it
 * unless another CPU changed something here while the lock was free). */
__attribute__((noinline, noipa)) struct thread *svc_enter_whole(struct thread *next, struct cpu *c)
{
	/* the thread that left may hold this CPU's FP registers: saved
	 * before the lock is free, since another CPU may then free or run it
	 * (fp_switch touches this CPU's registers and the two threads, both
	 * this CPU's while it shares) */
	fp_switch(next, c->id);
	bkl_whole(c->sched);
	kernel_exit();
}

/* The fast path that calls out (a guest's answer applied), kept out of
 * aarch64_svc so that it saves no registers.  It takes the lock whole. */
__attribute__((noinline)) struct thread *svc_reply_guest(struct thread *t, struct cpu *c)
{
	bkl_whole(c->sched); /* and a look again at what was seen sharing */
	if (sched_closed(c->sched) || !t->caller || !t->caller->fault_pending)
		return aarch64_svc_general(t, c);
	struct thread *next = fastpath_reply_recv(t, sched_of(c->id), c->id, true);
	return next ? svc_enter_full(next, c) : aarch64_svc_general(t, c);
}

static inline __attribute__((always_inline)) struct thread *svc_enter_native(struct thread *next,
									     struct cpu *c,
									     struct sched *s)
{
	return svc_enter(next, c, s, ENTER_NATIVE, true);
}

/* Signal's fast path (sharing the lock), out of line: it calls out. */
static __attribute__((noinline, noipa)) struct thread *svc_signal(struct thread *t,
								  struct cpu *c)
{
	struct thread *next = fastpath_signal(t, c->sched, c->id);
	if (next == t) {
		bkl_unshare(c->sched);
		return t;
	}
	if (next)
		return svc_enter(next, c, c->sched, ENTER_NATIVE, true);
	bkl_whole(c->sched);
	return aarch64_svc_general(t, c);
}

/* A call no fast path in aarch64_svc took (sharing the lock): signal's,
 * or the general way, with the lock taken whole. */
static inline __attribute__((always_inline)) struct thread *svc_decline(struct thread *t,
									struct cpu *c)
{
	if (arg(t, REG_NR) == SYS_SIGNAL && bkl_sharing(c->sched)) /* sharing: its fast paths are open */
		return svc_signal(t, c);
	bkl_whole(c->sched);
	return aarch64_svc_general(t, c);
}

/* A system call, entered from svc_entry (vectors.S) with thread t's
 * registers saved in it (all but ESR and FAR, which a call does not need),
 * on the kernel stack of CPU c: the fast paths, from the lock to the
 * partner's address space, in one function that calls nothing on its
 * common paths.  Returns the thread to return to user mode to (the lock
 * dropped; thread_restore loads its registers); the general path
 * (aarch64_svc_general, a tail call) never returns.  Cost (make bench,
 * docs/PERF.md): 95 instructions for a call that switches spaces, 103
 * for a reply_recv; with the entry and exit around them, 157 a direction,
 * and 95 for a yield with nothing to yield to.  Sharing the lock rather
 * than holding it costs 6 a direction, and the endpoint's lock 7. */
struct thread *aarch64_svc(struct thread *t, struct cpu *c)
{
	unsigned cpu = c->id;
	struct sched *s = c->sched;
	uint64_t nr = arg(t, REG_NR);
	return fastpath_entry(t, s, c, cpu, nr, svc_enter_native, aarch64_reply_hvc, svc_decline);
}

/* Entered from user_trap (every exception from EL0 but a system call)
 * with the thread's registers saved in r, on the kernel stack of CPU c. */
_Noreturn void aarch64_user_trap(struct arch_regs *r, unsigned kind, struct cpu *c)
{
	struct thread *t = thread_of(r);
	if ((kind & 3) != 0) {
		if (t->vcpu) /* the guest was interrupted (no lock: vcpu_count) */
			vcpu_count(t->vcpu, VC_IRQ);
		kernel_interrupt(gic_handle_irq);
	}
	unsigned ec = r->esr >> 26;
	if (t->vcpu) { /* a guest: its exits, never a native fault */
		if (ec == EC_HVC64 && r->x[0] >> 16 == HC_BASE >> 16)
			kernel_vcpu_hypercall(t, c->id); /* ELR is past the HVC already */
		aarch64_guest_trap(t, r, ec, c->id);
	}
	switch (ec) {
	case EC_FP:
		kernel_fp_unavailable(t);
	case EC_IABT_LOW:
	case EC_DABT_LOW:
		if ((r->esr & 0x3f) == 0x21)
			kernel_fault(t, FAULT_ALIGN, r->far, r->esr, false);
		kernel_fault(t, FAULT_PAGE, r->far, r->esr,
			     ec == EC_DABT_LOW && (r->esr & (1u << 6)));
	case EC_PC_ALIGN:
	case EC_SP_ALIGN:
		kernel_fault(t, FAULT_ALIGN, r->far, r->esr, false);
	default:
		kernel_fault(t, FAULT_UNDEFINED, r->pc, r->esr, false);
	}
}
