/* The scheduler's run queues and priority rules. */
#include <string.h>

#include "host.h"
#include "hyp/ktimer.h"
#include "hyp/sched.h"

static uint64_t now, armed_at;
static bool armed;
unsigned arch_cpu_id(void) { return 0; }
uint64_t arch_timer_now(void) { return now; }
uint64_t arch_timer_freq(void) { return 1000000; }
void arch_timer_oneshot(uint64_t d) { armed = true, armed_at = d; }
void arch_timer_stop(void) { armed = false; }
void thread_make_runnable(struct thread *t) { (void)t; fail(); }
unsigned ncpus_online = 2;
bool cpu_up(unsigned c) { return c < ncpus_online; } /* no hotplug here */
static unsigned kicked = ~0u;
void thread_kick(unsigned cpu) { kicked = cpu; }
void vcpu_leave(struct thread *t, unsigned cpu) { (void)t, (void)cpu; fail(); }

static struct thread th[8];

static struct thread *mk(unsigned i, unsigned prio)
{
	memset(&th[i], 0, sizeof(th[i]));
	th[i].prio = prio;
	th[i].state = TS_RUNNABLE;
	return &th[i];
}

static void test_highest_every_level(void **state)
{
	struct runq q = { 0 };
	assert_null(runq_highest(&q));
	for (unsigned p = 0; p < PRIO_LEVELS; p++) {
		struct thread t = { .prio = p };
		runq_add(&q, &t, false);
		assert_ptr_equal(runq_highest(&q), &t);
		assert_int_equal(q.ceiling, p + 1);
		runq_remove(&q, &t);
		assert_int_equal(q.ceiling, 0);
		assert_null(runq_highest(&q));
		assert_int_equal(q.top, 0);
	}
}

static void test_order_within_and_across_levels(void **state)
{
	struct runq q = { 0 };
	runq_add(&q, mk(0, 10), false);
	runq_add(&q, mk(1, 10), false);
	runq_add(&q, mk(2, 200), false);
	runq_add(&q, mk(3, 63), false);
	runq_add(&q, mk(4, 64), false);
	assert_ptr_equal(runq_highest(&q), &th[2]);
	assert_int_equal(q.ceiling, 201);
	runq_remove(&q, &th[2]);
	assert_ptr_equal(runq_highest(&q), &th[4]); /* across a bitmap word */
	assert_int_equal(q.ceiling, 65);
	runq_remove(&q, &th[3]);                    /* below the top: no change */
	assert_int_equal(q.ceiling, 65);
	runq_add(&q, &th[3], false);
	runq_remove(&q, &th[4]);
	assert_int_equal(q.ceiling, 64);
	assert_ptr_equal(runq_highest(&q), &th[3]);
	runq_remove(&q, &th[3]);
	assert_ptr_equal(runq_highest(&q), &th[0]); /* FIFO within a level */
	runq_add(&q, mk(5, 10), true);              /* front: preempted */
	assert_ptr_equal(runq_highest(&q), &th[5]);
	runq_remove(&q, &th[0]);                    /* remove from the middle */
	runq_remove(&q, &th[5]);
	assert_ptr_equal(runq_highest(&q), &th[1]);
	assert_true(runq_level_busy(&q, 10));
	runq_remove(&q, &th[1]);
	assert_false(runq_level_busy(&q, 10));
	assert_null(runq_highest(&q));
}

static void test_choose_preempt_and_keep(void **state)
{
	struct sched *s = sched_of(0);
	memset(scheds, 0, sizeof(struct sched) * ncpus_online); /* no CPU's current thread left over */
	struct thread *a = mk(0, 10), *b = mk(1, 10), *hi = mk(2, 20);
	runq_add(&s->q, a, false);
	sched_choose(s);
	assert_ptr_equal(s->cur, a);
	runq_add(&s->q, b, false);
	sched_choose(s);                  /* equal priority: no preemption */
	assert_ptr_equal(s->cur, a);
	runq_add(&s->q, hi, false);
	sched_choose(s);                  /* higher: preempts, a keeps its place */
	assert_ptr_equal(s->cur, hi);
	assert_ptr_equal(runq_highest(&s->q), a);
	hi->state = TS_BLOCKED_RECV;
	sched_choose(s);
	assert_ptr_equal(s->cur, a);
}

static void test_yield_and_timeslice(void **state)
{
	struct sched *s = sched_of(0);
	memset(scheds, 0, sizeof(struct sched) * ncpus_online); /* no CPU's current thread left over */
	struct thread *a = mk(0, 10), *b = mk(1, 10);
	runq_add(&s->q, a, false);
	sched_choose(s);
	sched_program_timer(s, now, 5000);
	assert_false(armed);              /* alone at its level: tickless */
	runq_add(&s->q, b, false);
	sched_program_timer(s, now, 5000);
	assert_true(armed);               /* a peer: a timeslice */
	assert_int_equal(armed_at, s->slice_start + 5000);
	now += 5000;
	sched_timer_tick(s, now);         /* slice over: round robin */
	assert_ptr_equal(s->cur, b);
	sched_end_slice(s);
	assert_ptr_equal(s->cur, a);
	runq_remove(&s->q, b);
	sched_end_slice(s);                   /* nobody else: keeps running */
	assert_ptr_equal(s->cur, a);
	sched_program_timer(s, now, 5000);
	assert_false(armed);
}

static unsigned fired;
static void count_fire(struct ktimer *k) { (void)k, fired++; }

/* Kernel timers share the one-shot timer with the timeslice: the earlier
 * deadline is armed, and each fires once, in deadline order. */
static void test_kernel_timers(void **state)
{
	struct sched *s = sched_of(0);
	memset(scheds, 0, sizeof(struct sched) * ncpus_online); /* no CPU's current thread left over */
	struct ktimer k1, k2;
	ktimer_init(&k1, count_fire);
	ktimer_init(&k2, count_fire);
	fired = 0;
	struct thread *a = mk(0, 10), *b = mk(1, 10);
	runq_add(&s->q, a, false);
	sched_choose(s);
	ktimer_arm(&k2, 0, now + 3000);
	ktimer_arm(&k1, 0, now + 1000);
	sched_program_timer(s, now, 5000);
	assert_true(armed);               /* alone at its level, but a timer is due */
	assert_int_equal(armed_at, now + 1000);
	runq_add(&s->q, b, false);        /* a peer: the slice ends later than k1 */
	sched_program_timer(s, now, 5000);
	assert_int_equal(armed_at, now + 1000);
	ktimer_expire(0, now + 999);
	assert_int_equal(fired, 0);
	ktimer_expire(0, now + 1000);
	assert_int_equal(fired, 1);
	assert_false(ktimer_armed(&k1));
	ktimer_cancel(&k2);
	assert_int_equal(ktimer_next(0), ~0ull);
	ktimer_arm(&k2, 0, now + 9000);  /* later than the slice: the slice wins */
	sched_program_timer(s, now, 5000);
	assert_int_equal(armed_at, s->slice_start + 5000);
	ktimer_arm(&k2, 0, now + 10);    /* re-arming moves it */
	ktimer_expire(0, now + 20);
	assert_int_equal(fired, 2);
	runq_remove(&s->q, b);
	sched_program_timer(s, now, 5000);
	assert_false(armed);
}

/* Another CPU suspended (or destroyed) the running thread: the end of its
 * timeslice must not put it back on a run queue, and the next choice
 * leaves it and records that it runs nowhere. */
static void test_stale_current_not_requeued(void **state)
{
	struct sched *s = sched_of(0);
	memset(scheds, 0, sizeof(struct sched) * ncpus_online); /* no CPU's current thread left over */
	struct thread *a = mk(0, 10), *b = mk(1, 10);
	runq_add(&s->q, a, false);
	sched_choose(s);
	assert_ptr_equal(thread_running(a), s);
	runq_add(&s->q, b, false);
	a->state = TS_INACTIVE;
	now += 5000;
	sched_timer_tick(s, now);
	assert_false(a->queued);
	sched_choose(s);
	assert_ptr_equal(s->cur, b);
	assert_false(a->queued);
	assert_null(thread_running(a));
	assert_ptr_equal(thread_running(b), s);
}

/* CPU time: each interval between switches goes to the thread current in
 * it or to idle, so idle plus the threads' ticks is the time since start. */
static void test_cpu_time_adds_up(void **state)
{
	struct sched *s = sched_of(0);
	memset(scheds, 0, sizeof(struct sched) * ncpus_online); /* no CPU's current thread left over */
	struct thread *a = mk(0, 10), *b = mk(1, 20);
	sched_start(s, 0, now = 1000);
	now += 70;                        /* idle */
	runq_add(&s->q, a, false);
	sched_choose(s);
	now += 300;                       /* a */
	runq_add(&s->q, b, false);
	sched_choose(s);                  /* b preempts a */
	now += 50;                        /* b */
	b->state = TS_BLOCKED_RECV;
	sched_choose(s);
	now += 9;                         /* a again */
	a->state = TS_BLOCKED_RECV;
	sched_choose(s);                  /* idle */
	now += 1;
	sched_choose(s);                  /* no switch: nothing charged */
	assert_null(s->cur);
	assert_int_equal(a->ticks, 309);
	assert_int_equal(b->ticks, 50);
	assert_int_equal(s->idle, 70);
	assert_int_equal(s->slice_start, 1429);
	assert_int_equal(s->idle + a->ticks + b->ticks, s->slice_start - s->start);
}

/* Timeslices at one level, `rounds` of them, each charged in full. */
static void run_slices(struct sched *s, unsigned rounds)
{
	for (unsigned i = 0; i < rounds; i++) {
		now += 5000; /* a timeslice: 5000 us at 1 MHz */
		sched_end_slice(s);
	}
}

/* Weights 1:2:4 at one level get 1:2:4 of the CPU (within a slice); a
 * thread that slept comes back level with the others, not owed its
 * sleep; without weights the level is round robin again. */
static void test_fair_weights(void **state)
{
	struct sched *s = sched_of(0);
	memset(scheds, 0, sizeof(struct sched) * ncpus_online); /* no CPU's current thread left over */
	now = 0;
	struct thread *t[3] = { mk(0, 10), mk(1, 10), mk(2, 10) };
	for (unsigned i = 0; i < 3; i++) {
		t[i]->weight = 1u << i;
		runq_add(&s->q, t[i], false);
	}
	fair_threads = 3;
	sched_choose(s);
	run_slices(s, 700);
	uint64_t all = t[0]->ticks + t[1]->ticks + t[2]->ticks;
	assert_int_equal(all, 700 * 5000);
	for (unsigned i = 0; i < 3; i++) /* 1/7, 2/7, 4/7 of it, within a slice */
		assert_true(t[i]->ticks * 7 + 7 * 5000 >= all << i && t[i]->ticks * 7 <= (all << i) + 7 * 5000);
	/* t[2] sleeps 100 slices, then is back: it gets its share, not the past's */
	if (s->cur == t[2])
		run_slices(s, 1);
	runq_remove(&s->q, t[2]);
	run_slices(s, 100);
	uint64_t before = t[2]->ticks;
	runq_add(&s->q, t[2], false);
	run_slices(s, 70);
	assert_true(t[2]->ticks - before <= 45 * 5000); /* about 40 of the 70, not all */
	/* no weights: round robin, each in turn */
	for (unsigned i = 0; i < 3; i++)
		t[i]->weight = 0;
	fair_threads = 0;
	struct thread *first = s->cur;
	run_slices(s, 3);
	assert_ptr_equal(s->cur, first);
}

/* Floating threads move to idle CPUs; fixed ones and VCPUs' never. */
static void test_balance(void **state)
{
	struct sched *s0 = sched_of(0), *s1 = sched_of(1);
	memset(s0, 0, sizeof(*s0));
	memset(s1, 0, sizeof(*s1));
	struct thread *x = mk(0, 10), *g = mk(1, 10), *f = mk(2, 10), *v = mk(3, 10);
	x->cpu = g->cpu = f->cpu = v->cpu = 1;
	f->floating = v->floating = true;
	v->vcpu = (struct vcpu *)1; /* a VCPU's thread: never moved */
	s1->cur = x;
	runq_add(&s1->q, v, false);
	runq_add(&s1->q, g, false);
	runq_add(&s1->q, f, false);
	assert_int_equal(balance_place(f), 0);     /* its CPU is busy, CPU 0 idle */
	assert_int_equal(balance_place(g), 1);     /* fixed */
	assert_int_equal(balance_place(v), 1);
	assert_true(balance_pull(0));              /* CPU 0 idles: takes f, not v or g */
	assert_int_equal(f->cpu, 0);
	assert_ptr_equal(runq_highest(&s0->q), f);
	assert_int_equal(kicked, 0);
	assert_false(balance_pull(0));             /* nothing else may move */
	runq_remove(&s0->q, f);                    /* back on CPU 1 */
	f->cpu = 1;
	runq_add(&s1->q, f, false);
	kicked = ~0u;
	s0->cur = x;                               /* CPU 0 busy: nowhere to push */
	balance_push(1);
	assert_int_equal(f->cpu, 1);
	s0->cur = NULL;                            /* idle: the slice's end pushes f there */
	balance_push(1);
	assert_int_equal(f->cpu, 0);
	assert_int_equal(kicked, 0);
	assert_true(g->queued && g->cpu == 1 && v->queued && v->cpu == 1);
}

/* A thread with a budget runs with the timer set for its end, and is taken
 * off its CPU, onto no queue, when the timer finds it spent. */
static void test_budget_throttles(void **state)
{
	struct sched *s = sched_of(0);
	memset(scheds, 0, sizeof(struct sched) * ncpus_online); /* no CPU's current thread left over */
	ktimer_lists[0] = NULL;
	now = 0;
	struct thread *h = mk(0, 20), *l = mk(1, 10);
	budget_init(h);
	budget_set(h, 2000, 10000, false, now);
	runq_add(&s->q, h, false);
	runq_add(&s->q, l, false);
	sched_choose(s);
	assert_ptr_equal(s->cur, h);
	sched_program_timer(s, now, 5000);
	assert_true(armed && armed_at == 2000);    /* its budget's end, not a slice's */
	now = 1000;
	sched_timer_tick(s, now);                  /* half spent: it goes on */
	assert_ptr_equal(s->cur, h);
	now = 2000;
	sched_timer_tick(s, now);                  /* spent */
	assert_ptr_equal(s->cur, l);
	assert_true(h->bud.throttled && !h->queued && !thread_running(h));
	assert_true(ktimer_armed(&h->bud.refill) && h->bud.refill.deadline == 10000);
	ktimer_cancel(&h->bud.refill);
}

/* A stint the host stole, charged whole (the budget's timer came 25,000
 * ticks late), is still owed in the periods after it, not forgiven when
 * a new period starts: at 2,000 of every 10,000, 27,000 run by the third
 * period leaves nothing for now, and ten periods later 1,000 is still
 * owed. */
static void test_budget_owes_overrun(void **state)
{
	struct sched *s = sched_of(0);
	memset(scheds, 0, sizeof(struct sched) * ncpus_online); /* no CPU's current thread left over */
	ktimer_lists[0] = NULL;
	now = 0;
	struct thread *h = mk(0, 20);
	budget_init(h);
	budget_set(h, 2000, 10000, false, now);
	runq_add(&s->q, h, false);
	sched_choose(s);
	now = 27000;                               /* one stint: the host stopped us */
	sched_switch_to(s, NULL);
	assert_int_equal(h->ticks, 27000);
	now = 30000;                               /* 6,000 allowed so far */
	assert_true(budget_spent(h, s, now));
	now = 130000;                              /* 20,000 more: 1,000 still owed */
	assert_int_equal(budget_left(h, s, now), 1000);
}

/* A passive server serving a caller with a budget: its time is the
 * caller's, the timer is set for the caller's budget's end, and spent, the
 * server is throttled until the caller's period ends.  With no caller it
 * runs on its own time, with no timer. */
static void test_passive_on_callers_time(void **state)
{
	struct sched *s = sched_of(0);
	memset(scheds, 0, sizeof(struct sched) * ncpus_online); /* no CPU's current thread left over */
	ktimer_lists[0] = NULL;
	now = 0;
	struct thread *c = mk(0, 20), *srv = mk(1, 20), *l = mk(2, 10);
	budget_init(c);
	budget_init(srv);
	budget_set(c, 2000, 10000, false, now);
	budget_set(srv, 0, 0, true, now);
	assert_true(srv->budgeted && srv->passive);
	c->state = TS_BLOCKED_REPLY, c->callee = srv, srv->caller = c; /* c called srv */
	runq_add(&s->q, srv, false);
	runq_add(&s->q, l, false);
	sched_choose(s);
	assert_ptr_equal(s->cur, srv);
	sched_program_timer(s, now, 5000);
	assert_true(s->cur_passive);
	assert_true(armed && armed_at == 2000);    /* the caller's budget's end */
	now = 1500;
	sched_charge(s, now);
	assert_int_equal(c->ticks, 1500);          /* the caller pays */
	assert_int_equal(srv->ticks, 0);
	now = 2000;
	sched_timer_tick(s, now);                  /* the caller's budget spent */
	assert_ptr_equal(s->cur, l);
	assert_true(srv->bud.throttled && !srv->queued);
	assert_true(ktimer_armed(&srv->bud.refill) && srv->bud.refill.deadline == 10000);
	assert_int_equal(c->ticks, 2000);
	ktimer_cancel(&srv->bud.refill);
	srv->bud.throttled = false;
	sched_charge_passive(srv);                 /* not current: nothing to charge */
	srv->caller = NULL, c->callee = NULL;      /* answered */
	sched_switch_to(s, srv);
	sched_program_timer(s, now, 5000);
	assert_false(armed);                       /* its own time, unbudgeted: no timer */
	now = 3000;
	sched_charge(s, now);
	assert_int_equal(srv->ticks, 1000);
	assert_int_equal(c->ticks, 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_highest_every_level),
		cmocka_unit_test(test_order_within_and_across_levels),
		cmocka_unit_test(test_choose_preempt_and_keep),
		cmocka_unit_test(test_yield_and_timeslice),
		cmocka_unit_test(test_kernel_timers),
		cmocka_unit_test(test_stale_current_not_requeued),
		cmocka_unit_test(test_cpu_time_adds_up),
		cmocka_unit_test(test_fair_weights),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_budget_throttles),
		cmocka_unit_test(test_budget_owes_overrun),
		cmocka_unit_test(test_passive_on_callers_time),
	};
	return RUN_TESTS("sched", tests);
}
