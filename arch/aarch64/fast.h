/* What AArch64's fast paths share (uspace.c: aarch64_svc, the system
 * calls; vcpu.c: aarch64_hvc and aarch64_reply_hvc, a guest's HVC exit
 * and its answer): the timer inline, ipc/fastpath.h, and the way into
 * the thread they switched to. */
#pragma once
#include "arch/aarch64/sysreg.h"
#include "hyp/kernel.h"
#include "mm/aspace.h"
#include "mm/pt.h"
#include "vcpu/vcpu.h"

/* The fast paths' timer operations, inline (arch/aarch64/timer.c has the
 * same as functions): the fast paths then call nothing. */
static inline uint64_t fast_counter(void)
{
	/* no isb: the read may happen a few instructions early, which CPU
	 * time and a timeslice's end do not mind; the last read was before
	 * the eret that ended the previous entry, so reads stay in order */
	return read_sysreg(cntpct_el0);
}
static inline void fast_timer_set(uint64_t at)
{
	write_sysreg(CNTHP_CVAL_EL2, at);
	write_sysreg(CNTHP_CTL_EL2, 1);
	isb();
}
#define fastpath_now() fast_counter()
#define fastpath_timer_set(at) fast_timer_set(at)
#define fastpath_slice() (read_sysreg(cntfrq_el0) / 1000000 * TIMESLICE_US)
#include "ipc/fastpath.h"

/* Leave for next, which a fast path made current (kernel_enter's work
 * and arch_user_enter's VTTBR): the registers to return with.  Inline, the
 * common case: no FP state to switch, a space whose VMID is current, and
 * a native thread (ENTER_NATIVE; ENTER_IPC: known to be one, a call's or
 * reply's partner), or (ENTER_GUEST) a guest's whose VCPU is in with
 * nothing to inject (vcpu_switch would do nothing); anything else goes to
 * svc_enter_slow (kernel_enter's work in full), a tail call.  `shared`:
 * this CPU shares the big lock (hyp/bkl.h) rather than holding it, and
 * the rest of the work, which needs it whole, is kernel_exit's
 * (svc_enter_whole). */
enum { ENTER_NATIVE, ENTER_IPC, ENTER_GUEST };
struct thread *svc_enter_slow(struct thread *next, struct cpu *c);
struct thread *svc_enter_whole(struct thread *next, struct cpu *c);
static inline __attribute__((always_inline)) struct thread *svc_enter(struct thread *next,
								      struct cpu *c,
								      struct sched *s, int kind,
								      bool shared)
{
	struct aspace *as = next->as;
	uint64_t root = as->hw_root; /* 0: its VMID is stale */
	if (__builtin_expect(((c->fp_live || next->enter_more) && /* one test, commonly */
			      (((c->fp_live || next->fp_used) && c->fp_live != next) ||
			       (kind == ENTER_NATIVE && next->vcpu_bound))) ||
			     (kind == ENTER_GUEST &&
			      (next->vcpu != c->vcpu_in || next->vcpu->pending_words)) ||
			     (c->active_as != as && !root), 0))
		return shared ? svc_enter_whole(next, c) : svc_enter_slow(next, c);
	if (__builtin_expect(c->active_as != as, 1)) { /* else its VMID is current and loaded */
		c->active_as = as;
		/* no isb: nothing at EL2 uses stage 2 before the eret, which
		 * synchronizes the context */
		write_sysreg(vttbr_el2, root);
	}
	if (shared)
		bkl_unshare(s);
	else
		bkl_unlock();
	return next;
}

/* The answer to a guest's exit or hypercall (uspace.c), and its fast case
 * for an HVC (vcpu.c), which declines to it; a guest's HVC (vectors.S,
 * hvc_entry). */
struct thread *svc_reply_guest(struct thread *t, struct cpu *c);
struct thread *aarch64_reply_hvc(struct thread *t, struct cpu *c);
struct thread *aarch64_hvc(struct thread *t, struct cpu *c);
_Noreturn void aarch64_user_trap(struct arch_regs *r, unsigned kind, struct cpu *c);
