/* FP/SIMD state of native threads: lazy until first use, then switched
 * eagerly (hyp/fp.c).  Called with the big kernel lock held. */
#pragma once
#include "hyp/cpu.h"
#include "hyp/panic.h"
#include "hyp/thread.h"

void fp_change(struct thread *next, struct cpu *c);

/* This CPU is about to run `next` (NULL: idle): put the right FP state in
 * its registers and the FP trap in the right position.  Inline: between
 * threads that never used FP it costs a few instructions on every exit. */
static inline void fp_switch(struct thread *next, unsigned cpu)
{
	struct cpu *c = &cpus[cpu];
	if (c->fp_live != next && (c->fp_live || next->fp_used))
		fp_change(next, c);
}
/* Whenever the big lock is free, a CPU's registers hold no FP state but
 * its current thread's: another CPU may then free, move or run any other
 * thread (fp_forget, and every save and load, rely on it).  Checked where
 * the kernel drops the lock in the middle of its work to wait. */
static inline void fp_assert_own(struct thread *cur, unsigned cpu)
{
	assert(!cpus[cpu].fp_live || cpus[cpu].fp_live == cur);
}
/* Saves the FP state of a thread this CPU has left, if its registers
 * still hold it (cur chosen, not yet entered), before the lock may be
 * dropped (fp_assert_own). */
static inline void fp_keep_only(struct thread *cur, unsigned cpu)
{
	struct cpu *c = &cpus[cpu];
	if (c->fp_live && c->fp_live != cur)
		fp_change(NULL, c);
}
/* t trapped on its first FP access: from now on it has FP state. */
void fp_first_use(struct thread *t);
/* t is going away: no CPU may save into it any more. */
void fp_forget(struct thread *t);
