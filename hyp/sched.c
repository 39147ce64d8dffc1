/* Scheduling decisions.  The running thread is never on its run queue;
 * it goes back (at the front if preempted, at the back if its timeslice
 * ended or it yielded) when another is chosen.  Called with the big kernel
 * lock held (docs/ARCHITECTURE.md). */
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/ktimer.h"
#include "hyp/sched.h"
#include "vcpu/vcpu.h"

struct sched scheds[MAX_CPUS];
unsigned fair_threads;

void sched_stop_done(struct thread *t)
{
	for (unsigned cpu = 0, w = t->stop_waiters; w; cpu++, w >>= 1)
		if (w & 1)
			__atomic_fetch_sub(&sched_of(cpu)->stops, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&t->stop_waiters, 0, __ATOMIC_RELAXED);
}

void sched_switch_to(struct sched *s, struct thread *t)
{
	if (t && t->queued)
		runq_remove(&s->q, t);
	if (t != s->cur) {
		sched_charge(s, arch_timer_now());
		if (s->cur && s->cur->stop_waiters) /* it has left this CPU */
			sched_stop_done(s->cur);
		if (s->cur && s->cur->vcpu)
			vcpu_leave(s->cur, s->cpu);
	}
	s->cur = t;
	s->resched = false;
}

void sched_charge_passive(struct thread *t)
{
	struct sched *on = t->passive ? thread_running(t) : NULL;
	if (on)
		sched_charge(on, arch_timer_now());
}

void sched_start(struct sched *s, unsigned cpu, uint64_t now)
{
	s->cpu = cpu;
	s->start = s->slice_start = now;
	s->idle = 0; /* back on line: its figures start again */
}

struct sched *thread_running(const struct thread *t)
{
	if (scheds[t->cpu].cur == t)
		return &scheds[t->cpu];
	for (unsigned i = 0; i < ncpus_online; i++)
		if (scheds[i].cur == t)
			return &scheds[i];
	return NULL;
}

/* Whether this CPU's current thread may go on running here: another CPU
 * may have blocked, suspended, destroyed or moved it since it was chosen
 * (docs/ARCHITECTURE.md, thread lifecycle). */
static bool cur_stays(const struct sched *s)
{
	const struct thread *cur = s->cur;
	return cur && cur->state == TS_RUNNABLE && cur->cpu == s->cpu;
}

void sched_choose(struct sched *s)
{
	struct thread *cur = s->cur, *best = runq_highest(&s->q);
	bool keep = cur_stays(s);
	if (cur && cur->state == TS_RUNNABLE && !keep) { /* migrated: hand it over */
		sched_switch_to(s, NULL);
		thread_make_runnable(cur);
		cur = NULL;
	}
	if (keep && (!best || best->prio <= cur->prio)) {
		s->resched = false;
		return;
	}
	if (keep)
		runq_add(&s->q, cur, true); /* preempted: keeps its place */
	sched_switch_to(s, best);
}

void sched_end_slice(struct sched *s)
{
	struct thread *cur = s->cur;
	if (!cur_stays(s) || !runq_level_busy(&s->q, cur->prio))
		return;
	runq_add(&s->q, cur, false);
	if (!fair_threads) { /* round robin: the next in line */
		sched_switch_to(s, runq_highest(&s->q));
		return;
	}
	uint64_t now = arch_timer_now(), stint = now - s->slice_start;
	sched_charge(s, now); /* its virtual runtime up to now */
	sched_switch_to(s, fair_pick(&s->q, cur->prio, cur, arch_timer_freq() / 1000000 * TIMESLICE_US,
				     stint));
}

void sched_timer_tick(struct sched *s, uint64_t now)
{
	uint64_t slice = arch_timer_freq() / 1000000 * TIMESLICE_US;
	arch_timer_stop(); /* it fired; a level interrupt must be quietened */
	s->timer_armed = s->slice_armed = false;
	/* A thread with a budget runs with the timer set for its end (only a
	 * running thread spends it): spent, it is off until its refill.  One
	 * that another CPU suspended or destroyed meanwhile (its timer came
	 * as that CPU held the lock) is left to sched_choose: kernel_exit
	 * frees a dead one that sched_choose switched from, and one switched
	 * from here was never freed. */
	if (s->cur && s->cur->state == TS_RUNNABLE && s->cur->budgeted &&
	    budget_spent(s->cur, s, now)) {
		budget_throttle(s->cur, s->cpu);
		sched_switch_to(s, runq_highest(&s->q));
	}
	if (s->cur && now - s->slice_start >= slice)
		sched_end_slice(s);
	s->resched = true;
}

void sched_program_timer(struct sched *s, uint64_t now, uint64_t slice_ticks)
{
	(void)now; /* read below only when needed: the caller's reading is then elided */
	uint64_t at = ktimer_next(s->cpu);
	s->slice_armed = s->cur && runq_level_busy(&s->q, s->cur->prio);
	if (s->slice_armed)
		at = MIN(at, s->slice_start + slice_ticks);
	s->cur_passive = s->cur && s->cur->passive; /* the fast paths never switch to one */
	if (s->cur && s->cur->budgeted) { /* when its budget (its payer's) runs out */
		uint64_t t = arch_timer_now(), left = budget_left(s->cur, s, t);
		if (left != ~0ull) /* a passive one's payer may have none */
			at = MIN(at, t + left);
	}
	if (at != ~0ull) {
		arch_timer_oneshot(at);
		s->timer_armed = true;
	} else if (s->timer_armed) {
		arch_timer_stop();
		s->timer_armed = false;
	}
}
