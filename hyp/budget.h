/* Budgets (hyp/budget.c): a thread may be given at most `budget` ticks of
 * CPU time in every `period`; spent, it is taken off its CPU until the
 * period ends, whatever its priority. */
#pragma once
#include "hyp/ktimer.h"

struct budget {
	uint64_t budget, period;   /* ticks; period 0: no budget */
	uint64_t ticks0;           /* its CPU time when this period began */
	uint64_t period_end;
	bool throttled;            /* spent: off every queue until the refill */
	struct ktimer refill;
};

struct sched;
struct thread;
/* Whether cur (current on s) has spent its budget by `now`. */
bool budget_spent(struct thread *t, const struct sched *s, uint64_t now);
/* The ticks it (its payer) has left by `now` (~0: no budget). */
uint64_t budget_left(struct thread *t, const struct sched *s, uint64_t now);
/* Take s's current thread off its CPU until its period ends. */
void budget_throttle(struct thread *t, unsigned cpu);
void budget_init(struct thread *t); /* as it is made */
/* Give t `budget` of every `period` ticks (0, 0: none), from now; or
 * (0, 0, passive) its callers' time. */
void budget_set(struct thread *t, uint64_t budget, uint64_t period, bool passive, uint64_t now);
