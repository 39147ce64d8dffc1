/* Kernel timers: per-CPU deadlines on the one-shot timer, beside the
 * scheduler's timeslice (sched_program_timer arms the earlier).  Used for
 * a descheduled VCPU's virtual timer.  All under the big kernel lock. */
#pragma once
#include "hyp/types.h"

struct ktimer {
	uint64_t deadline;          /* in arch_timer_now() ticks */
	struct ktimer *next;        /* this CPU's list, earliest first */
	int cpu;                    /* whose list it is on; -1: not armed */
	void (*fire)(struct ktimer *k);
};

static inline void ktimer_init(struct ktimer *k, void (*fire)(struct ktimer *))
{
	*k = (struct ktimer){ .cpu = -1, .fire = fire };
}
static inline bool ktimer_armed(const struct ktimer *k) { return k->cpu >= 0; }
/* Arm k on `cpu`'s list (re-arming moves it). */
void ktimer_arm(struct ktimer *k, unsigned cpu, uint64_t deadline);
void ktimer_cancel(struct ktimer *k);
/* The earliest deadline on cpu's list, or ~0.  Inline: every exit asks. */
extern struct ktimer *ktimer_lists[];
static inline uint64_t ktimer_next(unsigned cpu)
{
	return ktimer_lists[cpu] ? ktimer_lists[cpu]->deadline : ~0ull;
}
/* Fire (and disarm) every timer of cpu's list due at `now`. */
void ktimer_expire(unsigned cpu, uint64_t now);
