/* riscv64's ecalls (entry.S): a native thread's system call (from
 * VU-mode), with the fast paths of ipc/fastpath.h inline from the lock to
 * the partner, as arch/aarch64's aarch64_svc holds them, and the VMM's
 * answer to a guest; a guest's SBI call (from VS-mode) to its VMM, as
 * aarch64_hvc.
 *
 * A file of its own for one flag: it is built with s1-s11 caller-saved
 * (arch.mk; GCC keeps s0, the frame pointer's register, callee-saved).
 * entry.S saved the thread's registers and reloads them all
 * (user_restore), so riscv_ecall need not keep any for its caller, and
 * without the flag its prologue and epilogue spent 14 instructions a
 * direction saving five of them.  Functions it calls elsewhere keep the
 * normal convention, which only makes its assumptions conservative; none
 * of this file's own functions may be called from outside it, or by
 * pointer from code built without the flag. */
#include "arch/riscv64/riscv.h"
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/fp.h"
#include "hyp/kernel.h"

/* The fast paths' timer operations, inline where the hart has Sstc (the
 * SBI call otherwise is timer.c's): the fast paths then call nothing. */
static inline void fast_timer_set(uint64_t at)
{
	if (__builtin_expect(riscv_has_sstc(), 1))
		csr_write(0x14d, at); /* stimecmp */
	else
		arch_timer_oneshot(at);
}
#define fastpath_now() csr_read(time)
#define fastpath_timer_set(at) fast_timer_set(at)
#define fastpath_slice() (riscv_timer_freq / 1000000 * TIMESLICE_US)
#include "ipc/fastpath.h"
#include "mm/aspace.h"

extern uint64_t riscv_vmid_harts[]; /* uspace.c */
#define EXC_ECALL_VS 10 /* scause: an ecall from VS-mode */

/* The space of a thread a fast path made current, its VMID current
 * (root), as arch_user_enter loads it. */
static inline __attribute__((always_inline)) void ecall_space(struct cpu *c, struct aspace *as,
							      uint64_t root)
{
	if (c->active_as != as) {
		uint64_t bit = 1ull << c->id;
		c->active_as = as;
		if (!(riscv_vmid_harts[as->vmid] & bit))
			__atomic_fetch_or(&riscv_vmid_harts[as->vmid], bit, __ATOMIC_SEQ_CST);
		csr_write(hgatp, root);
	}
}

/* Leave for next, a native thread a fast path made current: as
 * arch/aarch64's svc_enter, inline for the common case (no FP state to
 * switch, a space whose VMID is current), else in full.  It stops sharing
 * the lock. */
static inline __attribute__((always_inline)) struct thread *ecall_enter(struct thread *next,
									   struct cpu *c,
									   struct sched *s)
{
	struct aspace *as = next->as;
	uint64_t root = as->hw_root; /* 0: its VMID is stale */
	if (__builtin_expect(((c->fp_live || next->enter_more) && /* one test, commonly */
			      (((c->fp_live || next->fp_used) && c->fp_live != next) || next->vcpu)) ||
			     (c->active_as != as && !root), 0))
		return fastpath_enter_whole(next, c);
	ecall_space(c, as, root);
	bkl_unshare(s);
	return next;
}

/* The VMM's answer to its guest's exit (reply_recv, sharing the lock):
 * as arch/aarch64's aarch64_reply_hvc, applied here and the guest entered
 * inline when its VCPU is parked here with nothing to inject, no FP
 * state to switch and its VMID current (vcpu_switch would do nothing),
 * out through user_restore, which sets sstatus.SPP for it (the answer to
 * a hypercall too, as fastpath_reply_guest applies it).  An abort (an
 * exception to inject), or anything else, takes the lock whole with
 * nothing done (kernel_enter's way, not kernel_exit's). */
static __attribute__((noinline)) struct thread *ecall_reply_guest(struct thread *t, struct cpu *c)
{
	struct thread *g = t->caller; /* fault_pending */
	struct vcpu *v = g->vcpu;
	struct aspace *as = g->as;
	uint64_t root = as->hw_root, info = arg(t, REG_INFO);
	const uint64_t *mr = regs_gpr(&t->regs, REG_MR0);
	unsigned len = MIN(msginfo_len(info), MSG_WORDS);
	struct endpoint *ep;
	bool exit = g->fault_kind == KMSG_VMEXIT;
	if (g->fault_kind == KMSG_FAULT || !v || (exit && len && (mr[0] & VMREPLY_ABORT)) ||
	    v->hw_cpu != (int)c->id || v->exception || v->pending_words ||
	    ((c->fp_live || g->fp_used) && c->fp_live != g) || (c->active_as != as && !root) ||
	    !(ep = reply_recv_ok(t, g, c->sched, c->id, info)))
		return fastpath_reply_guest_whole(t, c);
	g->fault_pending = false;
	if (exit && len && g->fault_label == VMEXIT_HVC) { /* arch_vcpu_exit_reply's SBI case */
		uint64_t *x = g->regs.x;
		if ((mr[0] & VMREPLY_REGS) && len > 1) /* the SBI's error and value */
			x[0] = mr[1], x[1] = len > 2 ? mr[2] : x[1];
		if (mr[0] & VMREPLY_ADVANCE)
			g->regs.pc = g->fault[1] + 4;
	} else if (exit && len) { /* vcpu_exit_reply's work: no abort, so no exception */
		arch_vcpu_exit_reply(&v->arch, &g->regs, g->fault_label, g->fault, mr, len);
	} else if (!exit)
		vcpu_hypercall_reply(g, msginfo_label(info), mr, len);
	reply_recv_done(t, g, c->sched, ep);
	arch_vcpu_resume(&v->arch); /* vcpu_enter_parked's case */
	c->vcpu_in = v;
	ecall_space(c, as, root);
	bkl_unshare(c->sched);
	riscv_user_restore(&g->regs);
}

static __attribute__((noinline)) struct thread *ecall_decline(struct thread *t, struct cpu *c)
{
	return fastpath_decline(t, c, ecall_enter);
}

/* A system call (entry.S, ecall from VU-mode, r->pc already past it): the
 * fast paths inline from the lock to the partner, as arch/aarch64's
 * aarch64_svc holds them.
 * Returns the registers to return to VU-mode with, in the space already
 * loaded (the lock dropped); a switch of space (kernel_enter) and the
 * general path never return. */
struct arch_regs *riscv_ecall(struct arch_regs *r, struct cpu *c)
{
	struct thread *t = thread_of(r);
	unsigned cpu = c->id;
	struct sched *s = c->sched;
	uint64_t nr = arg(t, REG_NR);
	return &fastpath_entry(t, s, c, cpu, nr, ecall_enter, ecall_reply_guest, ecall_decline)->regs;
}

/* A guest's SBI call (an ecall from VS-mode, entry.S): sent to its VMM as
 * the VMEXIT_HVC message riscv_guest_trap composes, the VCPU parked and
 * the VMM entered, sharing the big lock, as arch/aarch64's exit_fast does
 * (the VCPU is this CPU's, parked in its own registers).  A hypercall or
 * set_timer (vcpu.c answers them), a VMM not waiting on this CPU, or
 * anything else the fast paths decline takes the general way with
 * nothing done.  Returns the VMM's registers, for user_restore (whose
 * sstatus.SPP it needs: the trap set it for VS-mode). */
struct arch_regs *riscv_guest_ecall(struct arch_regs *r, struct cpu *c)
{
	struct thread *t = thread_of(r), *vmm;
	struct sched *s = c->sched;
	struct cap *fep = &t->fault_ep;
	uint64_t eid = r->x[7], fid = r->x[6], *w = t->fault;
	_Static_assert(HC_BASE >> 16 == 0xc600, "entry.S HC_BASE_HI: hypercalls go the general way");
	if ((eid == SBI_TIME ? fid == 0 : eid == 0) || !t->vcpu ||
	    !bkl_share(s)) /* or its fast paths closed */
		riscv_user_trap(r, EXC_ECALL_VS);
	r->spp = SSTATUS_SPP; /* it returns to VS-mode (riscv_user_trap's for a guest) */
	if (fep->type != OBJ_ENDPOINT || !(fep->rights & R_WRITE) ||
	    !(vmm = call_partner(s, (struct endpoint *)fep->obj, c->id))) {
		bkl_unshare(s);
		riscv_user_trap(r, EXC_ECALL_VS);
	}
	vcpu_count(t->vcpu, vc_label(VMEXIT_HVC));
	uint64_t *mr = regs_gpr(&vmm->regs, REG_MR0);
	_Static_assert(VMEXIT_WORDS == 6, "the words sent");
	mr[0] = w[0] = eid, mr[1] = w[1] = r->pc, mr[2] = w[2] = EXC_ECALL_VS;
	mr[3] = w[3] = fid, mr[4] = w[4] = r->x[0], mr[5] = w[5] = r->x[1];
	exit_sent(s, t, vmm, VMEXIT_HVC, fep->badge, c);
	return &ecall_enter(vmm, c, s)->regs;
}
