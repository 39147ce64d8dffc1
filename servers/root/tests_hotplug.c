/* CPU hotplug (hyp/hotplug.c): CPU 1 taken off line while threads run
 * there, and brought back. */
#include "servers/root/check.h"
#include "servers/root/suite.h"

/* Child code: counts in its shared page for ever, never entering the kernel. */
static void counting(uint64_t unused)
{
	(void)unused;
	for (volatile uint64_t *n = (uint64_t *)CHILD_SHARED_VA;;)
		(*n)++;
}

/* state: 1 on line, 0 off, 2 on its way; on an error, 2 (x0 is not the
 * state then: it may still hold the CPU's number) */
static err_t set_online(uint64_t cpu, uint64_t on, uint64_t *state)
{
	uint64_t r[5] = { 0 };
	err_t e = inv(SYS_CPU_SET_ONLINE, ROOT_IRQ_CONTROL, cpu, on, 0, 0, 0, 0, r);
	*state = e ? 2 : r[0];
	return e;
}

bool cpu_becomes(uint64_t cpu, uint64_t on)
{
	uint64_t t0 = counter_now(), state = !on;
	err_t e;
	/* E_BUSY: on line while it is still leaving (another caller took it
	 * off), or the reverse: ask again */
	while (((e = set_online(cpu, on, &state)) == E_OK || e == E_BUSY) && state != on &&
	       counter_now() - t0 < 10 * counter_freq())
		INV0(SYS_YIELD, 0);
	if (state != on)
		printf("root: cpu %lu not %s: error %u, state %lu\n", cpu, on ? "on" : "off", e,
		       state);
	return state == on;
}

bool cpu1_becomes(uint64_t on) { return cpu_becomes(1, on); }

/* Whether the counter at n moves within a second (yielding meanwhile:
 * the children share this task's priority). */
static bool moving(volatile uint64_t *n)
{
	uint64_t v = *n, t0 = counter_now();
	while (*n == v && counter_now() - t0 < counter_freq())
		INV0(SYS_YIELD, 0);
	return *n != v;
}

/* The CPU a running child's thread is on (its affinity), or ~0. */
static uint64_t cpu_of(const char *name)
{
	uint64_t r[5];
	return stats_named(name, STATS_SCHED, r) ? STATS_CPU(r[4]) : ~0ull;
}

/* Every argument refused: a CPU beyond the machine (also by its upper
 * bits), CPU 0 (it takes the devices' interrupts), a third state, and a
 * capability that is not the system authority. */
static bool t_cpu_hotplug_errors(void)
{
	uint64_t s;
	CHECK_ERR(set_online(bootinfo->ncpus, 0, &s), E_RANGE);
	CHECK_ERR(set_online(1ull << 32 | 1, 0, &s), E_RANGE);
	CHECK_ERR(set_online(0, 0, &s), E_BUSY);
	CHECK_ERR(set_online(0, 2, &s), E_RANGE);
	CHECK_ERR(set_online(0, 1ull << 32 | 1, &s), E_RANGE);
	uint64_t r[5];
	CHECK(inv(SYS_CPU_SET_ONLINE, ROOT_CONSOLE, 0, 1, 0, 0, 0, 0, r) != E_OK);
	CHECK_ERR(set_online(0, 1, &s), E_OK); /* on line already: nothing to do */
	CHECK(s == 1);
	return true;
}
ROOT_TEST_NEEDS("cpu-hotplug-errors", t_cpu_hotplug_errors, BOOT_HAS_HOTPLUG);

/* Two counting threads on CPU 1, one pinned there, one floating: CPU 1
 * goes off line and they count on elsewhere; while it is off nothing may
 * be pinned to it; back on line, the pinned one is put there again and
 * counts there.  Nothing leaks. */
static bool t_cpu_hotplug(void)
{
	if (bootinfo->ncpus < 2)
		return true; /* one CPU: nothing to take off line (errors above) */
	struct accounts before = accounts_read();
	struct child a, b;
	cptr_t pa, pb, ca, cb;
	volatile uint64_t *na = new_page(&pa), *nb = new_page(&pb);
	CHECK(na && nb);
	CHECK_ERR(child_create(&a, counting, 0, ROOT_PRIO), E_OK);
	CHECK_ERR(child_create(&b, counting, 0, ROOT_PRIO), E_OK);
	CHECK_ERR(child_map(&a, pa, CHILD_SHARED_VA, R_READ | R_WRITE, &ca), E_OK);
	CHECK_ERR(child_map(&b, pb, CHILD_SHARED_VA, R_READ | R_WRITE, &cb), E_OK);
	CHECK_ERR(stats_set_name(a.thread, "hp-pinned"), E_OK);
	CHECK_ERR(stats_set_name(b.thread, "hp-floating"), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, a.thread, 1), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, b.thread, 1), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, b.thread, AFFINITY_ANY), E_OK);
	CHECK_ERR(child_start(&a), E_OK);
	CHECK_ERR(child_start(&b), E_OK);
	bool ran = moving(na) && moving(nb) && cpu_of("hp-pinned") == 1;
	bool off = cpu1_becomes(0);
	err_t refused = INV1(SYS_THREAD_SET_AFFINITY, a.thread, 1);
	uint64_t moved_to = cpu_of("hp-pinned"), floated_to = cpu_of("hp-floating");
	bool went_on = moving(na) && moving(nb);
	bool on = cpu1_becomes(1); /* before any check: the tests after need it */
	err_t pinned = INV1(SYS_THREAD_SET_AFFINITY, a.thread, 1);
	bool back = moving(na) && cpu_of("hp-pinned") == 1;
	child_destroy(&a);
	child_destroy(&b);
	slot_free(ca), slot_free(cb), slot_free(pa), slot_free(pb);
	CHECK(ran);
	CHECK(off);
	CHECK_ERR(refused, E_INVAL);
	CHECK(moved_to != 1 && moved_to < bootinfo->ncpus && floated_to != 1);
	CHECK(went_on);
	CHECK(on);
	CHECK_ERR(pinned, E_OK);
	CHECK(back);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("cpu-hotplug", t_cpu_hotplug, BOOT_HAS_HOTPLUG);

/* The kernel timers of a CPU taken off line go to another CPU, which must
 * then set its own timer for them even if it is asleep: a thread pinned to
 * CPU 1 with a budget of 200 ms in 2 s, throttled there (its refill a
 * kernel timer on CPU 1), is taken along when CPU 1 goes, while this task
 * sleeps and the CPU it went to has nothing else to do.  Its refill must
 * come within the 10 s this task waits (on its own CPU's timer), not only
 * when something else wakes that CPU.  The budget is a tenth of the
 * period, not less: a host that stops CPU 1 while the thread runs has the
 * stint charged to it, and the periods after repay that first (hyp/budget.c);
 * with 1 ms a second, a stall of 300 ms beside two CPU hogs put the refill
 * five minutes away, and the test failed. */
static bool t_cpu_hotplug_timers(void)
{
	if (bootinfo->ncpus < 2)
		return true;
	struct accounts before = accounts_read();
	struct child a;
	cptr_t p, cp, n, irq;
	uint64_t s;
	volatile uint64_t *na = new_page(&p);
	CHECK(na && timer_take(&n, &irq));
	CHECK_ERR(child_create(&a, counting, 0, ROOT_PRIO - 1), E_OK);
	CHECK_ERR(child_map(&a, p, CHILD_SHARED_VA, R_READ | R_WRITE, &cp), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, a.thread, 1), E_OK);
	CHECK_ERR(INV2(SYS_THREAD_SET_BUDGET, a.thread, 200000, 2000000), E_OK);
	CHECK_ERR(child_start(&a), E_OK);
	bool slept = sleep_ms(irq, n, 300); /* its first 200 ms, then throttled */
	uint64_t v0 = *na;
	err_t asked = set_online(1, 0, &s);
	/* its refill is due within 2 s: look every 100 ms for 10 s (a busy
	 * host may stop that CPU a while), waking nothing on its CPU */
	for (unsigned i = 0; i < 100 && *na == v0; i++)
		slept = sleep_ms(irq, n, 100) && slept;
	uint64_t v1 = *na; /* this task runs first: the higher priority */
	bool off = cpu1_becomes(0), on = cpu1_becomes(1);
	child_destroy(&a);
	slot_free(cp), slot_free(p), slot_free(irq), slot_free(n);
	CHECK(slept);
	CHECK(v0 != 0);
	CHECK_ERR(asked, E_OK);
	CHECK(off && on);
	if (v1 == v0)
		printf("root: the throttled thread moved off CPU 1 was not refilled in 10 s\n");
	CHECK(v1 != v0);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("cpu-hotplug-timers", t_cpu_hotplug_timers, BOOT_HAS_HOTPLUG | UARCH_HAS_UTIMER);
