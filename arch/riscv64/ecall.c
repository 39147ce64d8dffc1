/* riscv64's system-call entry (entry.S, an ecall from VU-mode): the fast
 * paths of ipc/fastpath.h inline from the lock to the partner, as
 * arch/aarch64's aarch64_svc holds them.
 *
 * A file of its own for one flag: it is built with s1-s11 caller-saved
 * (arch.mk; GCC keeps s0, the frame pointer's register, callee-saved).  entry.S saved the thread's registers and reloads them all
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

static inline struct thread *thread_of(struct arch_regs *r)
{
	return (struct thread *)((char *)r - __builtin_offsetof(struct thread, regs));
}

/* Leave for next, which a fast path made current: as arch/aarch64's
 * svc_enter, inline for the common case (no FP state to switch, a native
 * thread, a space whose VMID is current), else in full. */
static inline __attribute__((always_inline)) struct thread *ecall_enter(struct thread *next,
									   struct cpu *c, bool shared)
{
	struct aspace *as = next->as;
	uint64_t root = as->hw_root; /* 0: its VMID is stale */
	if (__builtin_expect(((c->fp_live || next->enter_more) && /* one test, commonly */
			      (((c->fp_live || next->fp_used) && c->fp_live != next) || next->vcpu)) ||
			     (c->active_as != as && !root), 0))
		return shared ? fastpath_enter_whole(next, c) : fastpath_enter_full(next, c);
	if (c->active_as != as) { /* its VMID is current: load it, as arch_user_enter does */
		uint64_t bit = 1ull << c->id;
		c->active_as = as;
		if (!(riscv_vmid_harts[as->vmid] & bit))
			__atomic_fetch_or(&riscv_vmid_harts[as->vmid], bit, __ATOMIC_SEQ_CST);
		csr_write(hgatp, root);
	}
	if (shared)
		bkl_unshare(c->sched);
	else
		bkl_unlock();
	return next;
}

static inline __attribute__((always_inline)) struct thread *ecall_enter_shared(struct thread *next,
										  struct cpu *c,
									       struct sched *s)
{
	(void)s;
	return ecall_enter(next, c, true);
}

static __attribute__((noinline)) struct thread *ecall_decline(struct thread *t, struct cpu *c)
{
	return fastpath_decline(t, c, ecall_enter_shared);
}

/* A system call (entry.S, ecall from VU-mode): the fast paths inline from
 * the lock to the partner, as arch/aarch64's aarch64_svc holds them.
 * Returns the registers to return to VU-mode with, in the space already
 * loaded (the lock dropped); a switch of space (kernel_enter) and the
 * general path never return. */
struct arch_regs *riscv_ecall(struct arch_regs *r, struct cpu *c)
{
	struct thread *t = thread_of(r);
	unsigned cpu = c->id;
	struct sched *s = c->sched;
	uint64_t nr = arg(t, REG_NR);
	r->pc += 4; /* sepc is the ecall itself */
	return &fastpath_entry(t, s, c, cpu, nr, ecall_enter_shared, fastpath_reply_guest_whole,
			       ecall_decline)
		->regs;
}

