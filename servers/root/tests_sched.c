/* Scheduling across CPUs. */
#include "servers/root/check.h"

static uint64_t counter(void) { return counter_now(); }

/* Child code: never enters the kernel again. */
static void spinner(uint64_t arg)
{
	(void)arg;
	for (;;)
		__asm__ volatile("" ::: "memory");
}

/* Child code: waits on slot 1, then says so in its shared page. */
static void sleeper(uint64_t arg)
{
	(void)arg;
	struct sysregs r = { .nr = SYS_WAIT, .cap = 1 };
	sys(&r);
	*(volatile uint64_t *)CHILD_SHARED_VA = 1;
	child_park();
}

/* A thread woken onto a CPU whose running thread has its priority and no
 * timeslice timer (it was alone there) must get the CPU within a slice,
 * even if the running one never enters the kernel: the wake-up makes that
 * CPU start timeslicing.  (Found by a Linux guest with 4 VCPUs on 2 CPUs,
 * whose spinning VCPU kept the CPU from the one it waited for.) */
static bool t_peer_woken_beside_spinner(void)
{
	if (bootinfo->ncpus < 2)
		return true; /* the spinner would hold the root's own CPU */
	struct accounts before = accounts_read();
	struct child a, b;
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0), page, copy;
	volatile uint64_t *flag = new_page(&page);
	CHECK(n && flag);
	*flag = 0;
	CHECK_ERR(child_create(&a, spinner, 0, ROOT_PRIO - 10), E_OK);
	CHECK_ERR(child_create(&b, sleeper, 0, ROOT_PRIO - 10), E_OK);
	CHECK_ERR(child_give(&b, 1, n, R_READ), E_OK);
	CHECK_ERR(child_map(&b, page, CHILD_SHARED_VA, R_READ | R_WRITE, &copy), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, a.thread, 1), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, b.thread, 1), E_OK);
	CHECK_ERR(child_start(&b), E_OK);
	uint64_t regs[5] = { 0 };
	for (unsigned i = 0; i < 100000 && regs[4] != TS_BLOCKED_NOTIFY; i++)
		inv(SYS_THREAD_READ_REGS, b.thread, 0, 0, 0, 0, 0, 0, regs);
	CHECK(regs[4] == TS_BLOCKED_NOTIFY);
	CHECK_ERR(child_start(&a), E_OK);
	for (unsigned i = 0; i < 1000000 && regs[4] != TS_RUNNABLE; i++) /* a has CPU 1 */
		inv(SYS_THREAD_READ_REGS, a.thread, 0, 0, 0, 0, 0, 0, regs);
	CHECK_ERR(INV1(SYS_SIGNAL, n, 1), E_OK);
	uint64_t t0 = counter();
	while (!*flag && counter() - t0 < counter_freq()) /* a second: 200 slices */
		INV0(SYS_YIELD, 0);
	bool woke = *flag;
	child_destroy(&a);
	child_destroy(&b);
	slot_free(copy);
	slot_free(page);
	slot_free(n);
	CHECK(woke);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST("peer-woken-beside-spinner", t_peer_woken_beside_spinner);

/* --- The fair class ------------------------------------------------------------ */

/* The CPU ticks of the thread named `name` (STATS_THREAD), or ~0. */
static uint64_t ticks_of(const char *name)
{
	uint64_t want[2] = { 0, 0 }, p[5];
	memcpy(want, name, strlen(name));
	for (uint64_t i = 0; !inv(SYS_STATS_THREAD, ROOT_IRQ_CONTROL, i, STATS_SCHED, 0, 0, 0, 0, p); i++)
		if (p[1] == want[0] && p[2] == want[1])
			return p[3];
	return ~0ull;
}

/* A spinner named `name` (for ticks_of) at prio on cpu, not started. */
static bool spinner_named(struct child *c, const char *name, unsigned prio, uint64_t cpu)
{
	return !child_create(c, spinner, 0, prio) && !thread_name(c->thread, name) &&
	       !INV1(SYS_THREAD_SET_AFFINITY, c->thread, cpu);
}

/* Whether got[i] / sum(got) is within pct % of w[i] / sum(w), for each i. */
static bool within_share(const uint64_t got[3], const uint64_t w[3], uint64_t pct)
{
	uint64_t g = got[0] + got[1] + got[2], ws = w[0] + w[1] + w[2];
	for (unsigned i = 0; i < 3; i++) {
		uint64_t have = got[i] * ws * 100, want = w[i] * g * 100;
		if ((have > want ? have - want : want - have) > pct * w[i] * g)
			return false;
	}
	return true;
}

/* Whether the three threads' CPU time over a window of a second is shared
 * as w within 5 %; *got: the last window's.  A window is a sample: a pause
 * of the host's is charged whole to the thread it stopped, and the fair
 * class evens that out over the seconds after, not within the window
 * (1 : 1.22 : 2.39 seen with 4 CPUs on a 2-core host busy with other
 * work).  An uneven window is taken again, twice at most; weights that do
 * not work are off in every one. */
static bool shares_follow(const char *const names[3], cptr_t irq, cptr_t n, const uint64_t w[3],
			  uint64_t got[3])
{
	uint64_t t0[3];
	for (unsigned tries = 0; tries < 3; tries++) {
		for (unsigned i = 0; i < 3; i++)
			t0[i] = ticks_of(names[i]);
		if (!sleep_ms(irq, n, 1000))
			return false;
		for (unsigned i = 0; i < 3; i++)
			got[i] = ticks_of(names[i]) - t0[i];
		if (got[0] && within_share(got, w, 5))
			return true;
		printf("root: weights %lu:%lu:%lu got %lu : %lu : %lu ticks in window %u: again\n",
		       w[0], w[1], w[2], got[0], got[1], got[2], tries + 1);
	}
	return false;
}

/* Three CPU-bound threads of one priority, weights 1:2:4, get 1:2:4 of
 * their CPU within 5 % over a second, on a quiet host and beside two CPU
 * hogs alike (the fair class counts a stint the host stole as run, and
 * evens it out: hyp/fair.c); with equal weights, equal shares (so the
 * first result is the weights' doing).  Round robin (weight 0) is not the
 * control: nothing evens out a stolen stint there, and under a host
 * running more busy QEMUs than it has cores three seconds of it gave
 * 1 : 1.11 : 1.63. */
static bool t_fair_weights(void)
{
	struct accounts before = accounts_read();
	static const char *const names[3] = { "fair1", "fair2", "fair4" };
	unsigned cpu = (unsigned)bootinfo->ncpus - 1;
	struct child c[3];
	cptr_t n, irq;
	CHECK(timer_take(&n, &irq));
	for (unsigned i = 0; i < 3; i++) {
		CHECK(spinner_named(&c[i], names[i], ROOT_PRIO - 10, cpu));
		CHECK_ERR(INV1(SYS_THREAD_SET_WEIGHT, c[i].thread, 1u << i), E_OK);
	}
	for (unsigned i = 0; i < 3; i++)
		CHECK_ERR(child_start(&c[i]), E_OK);
	uint64_t d[3], e[3];
	CHECK(sleep_ms(irq, n, 100)); /* settled */
	bool weighted = shares_follow(names, irq, n, (const uint64_t[3]){ 1, 2, 4 }, d);
	for (unsigned i = 0; i < 3; i++)
		CHECK_ERR(INV1(SYS_THREAD_SET_WEIGHT, c[i].thread, 1), E_OK);
	bool equal = shares_follow(names, irq, n, (const uint64_t[3]){ 1, 1, 1 }, e);
	CHECK_ERR(INV1(SYS_THREAD_SET_WEIGHT, c[0].thread, FAIR_WEIGHT_MAX + 1), E_RANGE);
	CHECK_ERR(INV1(SYS_THREAD_SET_WEIGHT, c[0].thread, 1ull << 32), E_RANGE);
	CHECK_ERR(INV1(SYS_THREAD_SET_WEIGHT, n, 1), E_BADTYPE);
	for (unsigned i = 0; i < 3; i++)
		child_destroy(&c[i]);
	slot_free(irq);
	slot_free(n);
	uint64_t one = d[0] ? d[0] : 1;
	printf("root: weights 1:2:4 got %lu : %lu : %lu ticks (1 : %lu.%02lu : %lu.%02lu); "
	       "weights 1:1:1 %lu : %lu : %lu\n", d[0], d[1], d[2], d[1] / one,
	       d[1] * 100 / one % 100, d[2] / one, d[2] * 100 / one % 100, e[0], e[1], e[2]);
	CHECK(weighted);
	CHECK(equal);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("fair-weights-1-2-4", t_fair_weights, UARCH_HAS_UTIMER);

/* --- Load balancing -------------------------------------------------------------- */

/* Two spinners fixed on one CPU share it; made floating (AFFINITY_ANY),
 * one is moved to an idle CPU at the next timeslice's end and each has a
 * CPU of its own.  Needs two CPUs at least: root-tests-smp4 runs it. */
static bool t_balance_floating(void)
{
	if (bootinfo->ncpus < 2) {
		printf("root: balance-floating: one CPU, nothing to balance (root-tests-smp4 runs it)\n");
		return true;
	}
	struct accounts before = accounts_read();
	static const char *const names[2] = { "bal1", "bal2" };
	struct child c[2];
	cptr_t n, irq;
	CHECK(timer_take(&n, &irq));
	for (unsigned i = 0; i < 2; i++) {
		CHECK(spinner_named(&c[i], names[i], ROOT_PRIO - 10, 1));
		CHECK_ERR(child_start(&c[i]), E_OK);
	}
	/* Sharing one CPU, each spinner's part of what the two got, over a
	 * second (200 timeslices): a busy host stops the CPU now and then, and
	 * whoever it stops in is charged for the pause (66 : 33 over 300 ms
	 * beside two CPU hogs).  Floating, each one's part of the window as it
	 * was (a busy host wakes the root late). */
	uint64_t share[2][2];
	for (unsigned phase = 0; phase < 2; phase++) {
		uint64_t t0[2], d[2];
		CHECK(sleep_ms(irq, n, 50)); /* settled */
		for (unsigned i = 0; i < 2; i++)
			t0[i] = ticks_of(names[i]);
		uint64_t start = counter_now();
		CHECK(sleep_ms(irq, n, phase ? 300 : 1000));
		uint64_t window = counter_now() - start;
		for (unsigned i = 0; i < 2; i++)
			d[i] = ticks_of(names[i]) - t0[i];
		for (unsigned i = 0; i < 2; i++)
			share[phase][i] = d[i] * 100 / (phase ? window : d[0] + d[1] + 1);
		for (unsigned i = 0; i < 2 && !phase; i++) /* now floating */
			CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c[i].thread, AFFINITY_ANY), E_OK);
	}
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c[0].thread, 1ull << 32), E_INVAL);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c[0].thread, AFFINITY_ANY - 1), E_INVAL);
	for (unsigned i = 0; i < 2; i++)
		child_destroy(&c[i]);
	slot_free(irq);
	slot_free(n);
	printf("root: two spinners on one CPU got %lu%% and %lu%% of it; floating, %lu%% and %lu%%\n",
	       share[0][0], share[0][1], share[1][0], share[1][1]);
	for (unsigned i = 0; i < 2; i++) {
		CHECK(share[0][i] >= 35 && share[0][i] <= 65);
		CHECK(share[1][i] >= 85);
	}
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("balance-floating", t_balance_floating, UARCH_HAS_UTIMER);

/* --- Budgets ---------------------------------------------------------------------- */

/* A high-priority spinner given 2 ms of every 10 ms takes a fifth of its
 * CPU and leaves the rest to a low-priority one; without the budget it
 * takes all of it. */
static bool t_budget_caps_spinner(void)
{
	struct accounts before = accounts_read();
	static const char *const names[2] = { "budget-hi", "budget-lo" };
	unsigned cpu = (unsigned)bootinfo->ncpus - 1;
	struct child c[2];
	cptr_t n, irq;
	CHECK(timer_take(&n, &irq));
	for (unsigned i = 0; i < 2; i++)
		CHECK(spinner_named(&c[i], names[i], ROOT_PRIO - 5 - 15 * i, cpu));
	CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, c[0].thread, 2000, 10000), E_OK);
	for (unsigned i = 0; i < 2; i++)
		CHECK_ERR(child_start(&c[i]), E_OK);
	uint64_t share[2][2];
	for (unsigned phase = 0; phase < 2; phase++) {
		uint64_t t0[2];
		CHECK(sleep_ms(irq, n, 50));
		for (unsigned i = 0; i < 2; i++)
			t0[i] = ticks_of(names[i]);
		/* the window as it was, not as asked: a busy host wakes us late */
		uint64_t start = counter_now();
		CHECK(sleep_ms(irq, n, phase ? 500 : 1000));
		uint64_t window = counter_now() - start;
		for (unsigned i = 0; i < 2; i++)
			share[phase][i] = (ticks_of(names[i]) - t0[i]) * 1000 / window;
		if (!phase) /* no budget now */
			CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, c[0].thread, 0, 0), E_OK);
	}
	CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, c[0].thread, 2000, 1000), E_RANGE); /* over */
	CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, c[0].thread, 50, 99), E_RANGE);
	CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, c[0].thread, 0, 10000), E_RANGE);
	CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, c[0].thread, 1000, (1ull << 32) + 10000), E_RANGE);
	CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, n, 1000, 10000), E_BADTYPE);
	for (unsigned i = 0; i < 2; i++)
		child_destroy(&c[i]);
	slot_free(irq);
	slot_free(n);
	printf("root: a budget of 2 ms in 10 ms: the high spinner got %lu, the low %lu per mille; "
	       "without it %lu and %lu\n", share[0][0], share[0][1], share[1][0], share[1][1]);
	/* Never more than 200 per mille over time.  A window of a second holds
	 * 100 or 101 periods' budgets (202), and a high spinner that the host
	 * stopped is charged for the pause: what it ran past its budget is
	 * owed to the next period, so a pause at the window's end shows in it
	 * (CI on a busy host failed a bound of 20 % over half a second), one
	 * at its start as less (134 once, the host running two QEMUs beside
	 * this one: its budget spent on the host's pause).  The cap is the
	 * upper bound; the lower one says only that it runs. */
	CHECK(share[0][0] >= 100 && share[0][0] <= 215 && share[0][1] >= 750);
	CHECK(share[1][0] >= 950 && share[1][1] <= 20);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("budget-caps-spinner", t_budget_caps_spinner, UARCH_HAS_UTIMER);

/* Child code: a server on slot 1 that works `arg` turns of a loop for
 * each call and answers with no words. */
static void busy_server(uint64_t arg)
{
	struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
	sys(&r);
	for (;;) {
		for (uint64_t i = 0; i < arg; i++)
			__asm__ volatile("" ::: "memory");
		r = (struct sysregs){ .nr = SYS_REPLY_RECV, .cap = 1 };
		sys(&r);
	}
}

/* Child code: calls slot 1 for ever. */
static void busy_client(uint64_t arg)
{
	(void)arg;
	for (;;) {
		struct sysregs r = { .nr = SYS_CALL, .cap = 1 };
		sys(&r);
	}
}

/* A passive server runs on its caller's time: a client with 2 ms in
 * 10 ms whose calls each cost the server a long loop takes a fifth of the
 * CPU, the server's work included (charged to the client, none to the
 * server), and a low-priority spinner gets the rest.  The same server
 * active is charged its work itself. */
static bool t_passive_server(void)
{
	struct accounts before = accounts_read();
	static const char *const names[3] = { "pas-client", "pas-server", "pas-low" };
	static void (*const code[3])(uint64_t) = { busy_client, busy_server, spinner };
	unsigned cpu = (unsigned)bootinfo->ncpus - 1;
	struct child c[3];
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), n, irq;
	CHECK(ep);
	CHECK(timer_take(&n, &irq));
	for (unsigned i = 0; i < 3; i++) {
		CHECK_ERR(child_create(&c[i], code[i], 1000000, ROOT_PRIO - 5 - 15 * (i == 2)), E_OK);
		CHECK_ERR(thread_name(c[i].thread, names[i]), E_OK);
		CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c[i].thread, cpu), E_OK);
	}
	CHECK_ERR(child_give(&c[0], 1, ep, R_WRITE), E_OK);
	CHECK_ERR(child_give(&c[1], 1, ep, R_READ), E_OK);
	CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, c[0].thread, 2000, 10000), E_OK);
	CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, c[1].thread, 0, BUDGET_PASSIVE), E_OK);
	CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, c[1].thread, 1, BUDGET_PASSIVE), E_RANGE);
	CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, c[1].thread, 0, BUDGET_PASSIVE - 1), E_RANGE);
	for (unsigned i = 3; i-- > 0;) /* the server first: it waits before a call comes */
		CHECK_ERR(child_start(&c[i]), E_OK);
	uint64_t share[2][3];
	for (unsigned phase = 0; phase < 2; phase++) {
		uint64_t t0[3];
		CHECK(sleep_ms(irq, n, 50));
		for (unsigned i = 0; i < 3; i++)
			t0[i] = ticks_of(names[i]);
		uint64_t start = counter_now(); /* the window as it was (budget-caps-spinner) */
		CHECK(sleep_ms(irq, n, phase ? 500 : 1000));
		uint64_t window = counter_now() - start;
		for (unsigned i = 0; i < 3; i++)
			share[phase][i] = (ticks_of(names[i]) - t0[i]) * 1000 / window;
		if (!phase) /* active: on its own time */
			CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, c[1].thread, 0, 0), E_OK);
	}
	for (unsigned i = 0; i < 3; i++)
		child_destroy(&c[i]);
	slot_free(irq);
	slot_free(n);
	slot_free(ep);
	printf("root: a passive server's client (2 ms in 10 ms) got %lu, the server %lu, a low "
	       "spinner %lu per mille; the server active: %lu, %lu, %lu\n", share[0][0], share[0][1],
	       share[0][2], share[1][0], share[1][1], share[1][2]);
	/* the bounds of budget-caps-spinner, whose case this is; the server's
	 * own time is the few instructions from its reply to the switch (a
	 * host that stops the CPU in them charges it the pause: 30 per mille
	 * allows for one), about 480 when its work is its own */
	CHECK(share[0][0] >= 150 && share[0][0] <= 215 && share[0][1] <= 30 && share[0][2] >= 750);
	/* active, the server's work is its own, unbudgeted: much of the CPU
	 * (894-978 per mille on a quiet host; beside CPU hogs the client is
	 * charged the host's pauses, spends its budget and leaves the spinner
	 * the rest of each period: 338 seen) */
	CHECK(share[1][1] >= 100);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("passive-server", t_passive_server, UARCH_HAS_UTIMER);

/* A thread with a budget destroyed while it runs on another CPU: that
 * CPU's budget timer may be waiting for the big lock meanwhile (x86_64
 * takes the vector before the lock), and must not throttle the dead thread,
 * which was then never freed (the accounts differ), nor leave its refill
 * armed (the kernel's check walks the timer lists).  Budgets of 100 us in
 * 200 us make the timer fire often; the destroy comes at a different
 * moment of the period each round.  It also found x86_64 running the
 * timer's handler unlocked when it woke an idle CPU (arch/x86_64/trap.c). */
static bool t_budget_destroy_race(void)
{
	if (bootinfo->ncpus < 2)
		return true; /* the spinner would hold the root's own CPU */
	struct accounts before = accounts_read();
	struct child c; /* its space and stack; a new thread in them each round */
	CHECK(spinner_named(&c, "budget-race", ROOT_PRIO - 5, bootinfo->ncpus - 1));
	for (unsigned round = 0; round < 200; round++) {
		cptr_t t = new_obj(OBJ_THREAD, 0);
		CHECK(t);
		CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, t, c.cspace, c.as, 0), E_OK);
		CHECK_ERR(INV4(SYS_THREAD_WRITE_REGS, t, (uint64_t)spinner, CHILD_STACK_TOP, 0, 0),
			  E_OK);
		CHECK_ERR(INV2(SYS_THREAD_SET_PRIORITY, t, ROOT_PRIO - 5, ROOT_PRIO - 5), E_OK);
		CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, t, bootinfo->ncpus - 1), E_OK);
		CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, t, 100, 200), E_OK);
		CHECK_ERR(INV0(SYS_THREAD_RESUME, t), E_OK);
		uint64_t t0 = counter_now(), wait = counter_freq() / 1000000 * (100 + round * 7 % 400);
		while (counter_now() - t0 < wait)
			;
		slot_free(t);
		CHECK_ERR(INV0(SYS_DEBUG_CHECK, ROOT_CONSOLE), E_OK);
	}
	child_destroy(&c);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST("budget-destroy-race", t_budget_destroy_race);
