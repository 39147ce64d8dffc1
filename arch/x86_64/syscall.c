/* x86_64's system calls (entry.S's syscall entry, and int $0x80 from
 * uspace.c): the fast paths of ipc/fastpath.h inline, as arch/riscv64's
 * riscv_ecall holds them, sharing the big lock (hyp/bkl.h), with this
 * port's way in to the thread it switched to (sys_enter) and the shared
 * ways out.
 *
 * A file of its own for one flag: rbx, r12 and r13 are caller-saved here
 * (arch.mk).  x86_syscall is jumped to and never returns, and the
 * thread's registers are saved in its frame, so what its prologue pushed
 * kept nothing anyone needs.  All six caller-saved cost more than they
 * saved: spills around the yield path's timer call (`make bench`:
 * ipc_call_reply 428 -> 416 with these three).  Functions it calls
 * elsewhere keep the normal convention, which only makes its assumptions
 * conservative; none of this file's functions may be called from
 * outside it, but x86_syscall, which never returns. */
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

/* A system call, by syscall or int $0x80 (interrupts masked either way). */
_Noreturn void x86_syscall(struct arch_regs *r, struct cpu *c)
{
	struct thread *t = thread_of(r);
	struct thread *next = fastpath_entry(t, c->sched, c, c->id, arg(t, REG_NR), sys_enter,
					     fastpath_reply_guest_whole, sys_decline);
	x86_leave(pcpu_this(), &next->regs); /* its space loaded (sys_enter), or t's, which stays */
}
