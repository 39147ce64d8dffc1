/* Budgets: a thread's CPU time is capped at `budget` ticks in each
 * `period` (SYS_THREAD_SET_BUDGET), so that a high-priority thread that
 * runs away can take no more than that from the threads below it.  The
 * time used is read off the CPU time that switches charge anyway
 * (thread.ticks, from `ticks0` at the period's start), so nothing is added
 * to the switch paths; instead:
 *   - while a thread with a budget runs, the one-shot timer is armed for
 *     the moment it runs out (sched_program_timer), which also keeps the
 *     IPC fast path away from it (that path runs only with no timer armed,
 *     and declines to switch to a thread with a budget);
 *   - when the scheduler chooses it, or its timer fires, a spent thread is
 *     throttled: off its CPU, on no queue, until a kernel timer at the
 *     period's end refills it (a deferrable server: an unspent budget is
 *     not carried over, but an overrun, the interrupt's latency, is
 *     charged to the next period).
 * A thread blocked across period boundaries starts a new period when it
 * next runs, still owing what it ran beyond the budgets of the periods
 * that passed: a host that stopped this CPU while the thread ran (a guest
 * of KVM, QEMU beside busy processes) has it charged for a long stint,
 * whose timer came late, and forgiving that would let it take more than
 * its share over time (25-28 % for 2 ms in 10 ms, seen on a busy host).
 *
 * A passive thread (a server: SYS_THREAD_SET_BUDGET with BUDGET_PASSIVE)
 * has no time of its own while it serves a call: what it runs is charged
 * to its caller (sched_payer, up a chain of passive servers), and spends
 * the caller's budget, whose end throttles the server until the caller's
 * period ends.  Neither fast path touches one (`budgeted` is set, and a
 * CPU running one is closed to them: sched.cur_passive), so the general
 * path's charging is the only one.  With no caller (before its first
 * receive, woken by a notification, its caller deleted) it runs on its
 * own time, unbudgeted. */
#include "hyp/sched.h"

/* Whether the interval now running on s is t's to pay. */
static bool paying(const struct thread *t, const struct sched *s)
{
	return s->cur && sched_payer(s->cur) == t;
}

static uint64_t used(const struct thread *t, const struct sched *s, uint64_t now)
{
	return t->ticks + (paying(t, s) ? now - s->slice_start : 0) - t->bud.ticks0;
}

/* A new period, if the last one is over: a full budget, less what the
 * thread still owes (it ran more than the n periods that passed allowed). */
static void roll(struct thread *t, const struct sched *s, uint64_t now)
{
	if (now < t->bud.period_end)
		return;
	uint64_t n = 1 + (now - t->bud.period_end) / t->bud.period, u = used(t, s, now);
	uint64_t owed = n > u / t->bud.budget ? 0 : u - n * t->bud.budget;
	t->bud.ticks0 = t->ticks + (paying(t, s) ? now - s->slice_start : 0) - owed;
	t->bud.period_end = now + t->bud.period;
}

uint64_t budget_left(struct thread *t, const struct sched *s, uint64_t now)
{
	t = sched_payer(t);
	if (!t->bud.period)
		return ~0ull;
	roll(t, s, now);
	uint64_t u = used(t, s, now);
	return u < t->bud.budget ? t->bud.budget - u : 0;
}

bool budget_spent(struct thread *t, const struct sched *s, uint64_t now)
{
	return budget_left(t, s, now) == 0;
}

void budget_throttle(struct thread *t, unsigned cpu)
{
	t->bud.throttled = true;
	ktimer_arm(&t->bud.refill, cpu, sched_payer(t)->bud.period_end);
}

static void refill(struct ktimer *k)
{
	struct thread *t = (struct thread *)((char *)k - __builtin_offsetof(struct thread, bud.refill));
	t->bud.throttled = false;
	/* what it ran past its budget (the timer is not instant) is owed: a
	 * new period starts with it spent (a passive thread's payer rolls its
	 * own period as it next spends) */
	if (!t->passive) {
		t->bud.ticks0 += t->bud.budget;
		t->bud.period_end = k->deadline + t->bud.period;
	}
	if (t->state == TS_RUNNABLE && !thread_running(t) && !t->queued)
		thread_make_runnable(t);
}

void budget_init(struct thread *t) { ktimer_init(&t->bud.refill, refill); }

void budget_set(struct thread *t, uint64_t budget, uint64_t period, bool passive, uint64_t now)
{
	ktimer_cancel(&t->bud.refill);
	bool was = t->bud.throttled;
	t->bud.budget = budget, t->bud.period = period, t->bud.throttled = false;
	t->passive = passive;
	t->budgeted = period != 0 || passive;
	t->bud.ticks0 = t->ticks;
	t->bud.period_end = now + period;
	if (was && t->state == TS_RUNNABLE && !thread_running(t) && !t->queued)
		thread_make_runnable(t);
}
