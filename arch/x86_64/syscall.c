/* x86_64's system calls (entry.S's syscall entry, and int $0x80 from
 * uspace.c): the fast paths of ipc/fastpath.h inline, as arch/riscv64's
 * riscv_ecall holds them, sharing the big lock (hyp/bkl.h), with this
 * port's way in to the thread it switched to (sys_enter) and the shared
 * ways out; and a guest's exit to its VMM and the answer (x86_exit_fast,
 * sys_reply_guest).
 *
 * A file of its own for one flag: rbx, r12 and r13 are caller-saved here
 * (arch.mk).  x86_syscall is jumped to and never returns, and the
 * thread's registers are saved in its frame, so what its prologue pushed
 * kept nothing anyone needs.  All six caller-saved cost more than they
 * saved: spills around the yield path's timer call (`make bench`:
 * ipc_call_reply 428 -> 416 with these three).  Functions it calls
 * elsewhere keep the normal convention, which only makes its assumptions
 * conservative; none of this file's functions may be called from
 * outside it, but x86_syscall and x86_exit_fast, which never return. */
#include "arch/x86_64/hv.h"
#include "arch/x86_64/x86.h"
#include "hyp/arch.h"
#include "hyp/fp.h"
#include "hyp/kernel.h"

/* The clock inline, as arch_timer_now: the fast paths then call nothing. */
static inline uint64_t fast_tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
#define fastpath_now() fast_tsc()
#include "ipc/fastpath.h"
#include "mm/aspace.h"

/* Leave for next, which a fast path made current: inline for the common
 * case (no FP state to switch, a native thread, a space whose PCID is
 * current: as aarch64's svc_enter), its space loaded before the lock goes
 * (another CPU may then give next another space and free this one), else
 * in full. */
static inline __attribute__((always_inline)) struct thread *sys_enter(struct thread *next,
								      struct cpu *c, struct sched *s)
{
	struct aspace *as = next->as;
	if (__builtin_expect(((c->fp_live || next->enter_more) && /* one test, commonly */
			      (((c->fp_live || next->fp_used) && c->fp_live != next) || next->vcpu)) ||
			     (c->active_as != as && !as->hw_root), 0))
		return fastpath_enter_whole(next, c);
	c->active_as = as;
	x86_switch_space(pcpu_this(), as->pt.root_pa, as->vmid);
	bkl_unshare(s);
	return next;
}

static __attribute__((noinline)) struct thread *sys_decline(struct thread *t, struct cpu *c)
{
	return fastpath_decline(t, c, sys_enter);
}

/* The VMM's answer to its guest's exit or hypercall (reply_recv, sharing
 * the lock), as riscv64's ecall_reply_guest: applied here and the guest
 * entered (svm.c's or vmx.c's enter) when its VCPU is parked here with
 * nothing to inject and its VMID current (vcpu_switch would do nothing),
 * its FP state back in the registers (kernel_enter's fp_switch).  An abort
 * (an exception to inject), or anything else, takes the lock whole with
 * nothing done. */
static __attribute__((noinline)) struct thread *sys_reply_guest(struct thread *t, struct cpu *c)
{
	struct thread *g = t->caller; /* fault_pending */
	struct vcpu *v = g->vcpu;
	struct aspace *as = g->as;
	uint64_t info = arg(t, REG_INFO);
	const uint64_t *mr = regs_gpr(&t->regs, REG_MR0);
	unsigned len = MIN(msginfo_len(info), MSG_WORDS);
	struct endpoint *ep;
	bool exit = g->fault_kind == KMSG_VMEXIT;
	if (g->fault_kind == KMSG_FAULT || !v || (exit && len && (mr[0] & VMREPLY_ABORT)) ||
	    v->hw_cpu != (int)c->id || v->exception || v->pending_words || !as->hw_root ||
	    !(ep = reply_recv_ok(t, g, c->sched, c->id, info)))
		return fastpath_reply_guest_whole(t, c);
	g->fault_pending = false;
	if (exit && len && g->fault_label == VMEXIT_HVC) { /* arch_vcpu_exit_reply's case */
		static const uint8_t abcd[4] = { 8, 9, 12, 2 }; /* rax rbx rcx rdx (role_of) */
		uint64_t how = mr[0]; /* once: each store to g could change it, says C */
#pragma GCC unroll 4
		for (unsigned i = 0; i < 4; i++)
			if ((how & VMREPLY_REGS) && i + 1 < len)
				g->regs.x[abcd[i]] = mr[i + 1];
		if (how & VMREPLY_ADVANCE)
			g->regs.pc = g->fault[1] + 3; /* VMMCALL's length, and VMCALL's */
	} else if (exit && len)
		arch_vcpu_exit_reply(&v->arch, &g->regs, g->fault_label, g->fault, mr, len);
	else if (!exit)
		vcpu_hypercall_reply(g, msginfo_label(info), mr, len);
	reply_recv_done(t, g, c->sched, ep);
	fp_switch(g, c->id);
	arch_vcpu_resume(&v->arch); /* vcpu_enter_parked's case */
	c->vcpu_in = v;
	c->active_as = as;
	paddr_t root = as->pt.root_pa; /* before the lock goes, as kernel_enter reads them */
	unsigned vmid = as->vmid;
	bkl_unshare(c->sched);
	x86_vcpu_enter(pcpu_this(), &g->regs, root, vmid);
}

/* A guest's exit `l`, its words composed (vmexit.c: a VMMCALL outside
 * Cairn's hypercalls, a port, an MSR, CPUID, an MMIO access): sent to its
 * VMM, the VCPU parked and the VMM entered, sharing the lock, as
 * arch/aarch64's exit_fast and riscv64's riscv_guest_ecall; the guest's
 * FP state saved (fp_switch).  A VMM not waiting on this CPU, a write to
 * a doorbell or an access to a status register (kernel_vcpu_exit answers
 * them), or closed fast paths take the general way with nothing done. */
_Noreturn void x86_exit_fast(struct thread *t, enum vmexit_label l, unsigned cpu)
{
	struct cpu *c = &cpus[cpu];
	struct sched *s = c->sched;
	struct cap *fep = &t->fault_ep;
	uint64_t *w = t->fault;
	struct thread *vmm;
	if (!bkl_share(s))
		kernel_vcpu_exit(t, l, cpu);
	if (fep->type != OBJ_ENDPOINT || !(fep->rights & R_WRITE) ||
	    (l == VMEXIT_DATA_ABORT && (((w[3] & VMACC_WRITE) && aspace_doorbell(t->as, w[0])) ||
					aspace_status(t->as, w[0]))) ||
	    !(vmm = call_partner(s, (struct endpoint *)fep->obj, cpu))) {
		bkl_unshare(s);
		kernel_vcpu_exit(t, l, cpu);
	}
	vcpu_count(t->vcpu, vc_label(l));
	uint64_t *mr = regs_gpr(&vmm->regs, REG_MR0);
	_Static_assert(VMEXIT_WORDS == 6, "the words sent");
	mr[0] = w[0], mr[1] = w[1], mr[2] = w[2], mr[3] = w[3], mr[4] = w[4], mr[5] = w[5];
	exit_sent(s, t, vmm, l, fep->badge, c);
	fp_switch(vmm, cpu);
	x86_leave(pcpu_this(), &sys_enter(vmm, c, s)->regs);
}

/* A system call, by syscall or int $0x80 (interrupts masked either way). */
_Noreturn void x86_syscall(struct arch_regs *r, struct cpu *c)
{
	struct thread *t = thread_of(r);
	struct thread *next = fastpath_entry(t, c->sched, c, c->id, arg(t, REG_NR), sys_enter,
					     sys_reply_guest, sys_decline);
	x86_leave(pcpu_this(), &next->regs); /* its space loaded (sys_enter), or t's, which stays */
}
