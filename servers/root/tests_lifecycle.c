/* User-level tests of the thread lifecycle across CPUs (issue 10, findings
 * 1-3 and 12): an operation on a thread that is running, or waiting to
 * enter the kernel, on another CPU must take effect exactly as it would on
 * a thread that is not running. */
#include "servers/root/check.h"

/* The tests that need two CPUs say so when there is one (root-tests runs on
 * one CPU; root-tests-smp4 and root-tests-no-vhe run them for real). */
static bool one_cpu(const char *name)
{
	if (bootinfo->ncpus > 1)
		return false;
	printf("root: SKIP %s: needs 2 cpus (runs in root-tests-smp4)\n", name);
	return true;
}

static err_t pin(struct child *c, unsigned cpu)
{
	return INV1(SYS_THREAD_SET_AFFINITY, c->thread, cpu);
}

/* Waits until word p rises above `from` (the children run elsewhere). */
static bool wait_above(volatile uint64_t *p, uint64_t from)
{
	for (uint64_t i = 0; *p <= from; i++)
		if (i > 200000000)
			return false;
	return true;
}

/* --- Finding 1 and 12: destroying a thread that runs on another CPU ------- */

/* Signals slot 1, counts in its page, yields: in the kernel most of the time. */
static void signal_yield(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	for (;;) {
		INV1(SYS_SIGNAL, 1, 1);
		p[0]++;
		INV0(SYS_YIELD, 0);
	}
}

static void waiter(uint64_t arg)
{
	(void)arg;
	for (;;)
		INV0(SYS_WAIT, 1);
}

/* Deleting the last capability to T, which loops signal + yield on CPU 1
 * beside a waiter of the same priority, ends T at once: the kernel neither
 * runs T's pending yield (which put the dead T back on a run queue and
 * panicked) nor leaves its memory charged until later. */
static bool destroy_round(cptr_t n, cptr_t pf, volatile uint64_t *p)
{
	struct child t;
	cptr_t pc;
	p[0] = 0;
	CHECK_ERR(child_create(&t, signal_yield, CHILD_SHARED_VA, ROOT_PRIO), E_OK);
	CHECK_ERR(child_map(&t, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(child_give(&t, 1, n, R_WRITE), E_OK);
	CHECK_ERR(pin(&t, 1), E_OK);
	CHECK_ERR(child_start(&t), E_OK);
	CHECK(wait_above(&p[0], 50));
	struct accounts before = accounts_read();
	slot_free(t.thread); /* its last capability */
	t.thread = 0;
	struct accounts after = accounts_read();
	CHECK(after.live_objects == before.live_objects - 1);
	CHECK(after.mem_used < before.mem_used);
	child_destroy(&t);
	slot_free(pc);
	return true;
}

static bool t_destroy_running_elsewhere(void)
{
	if (one_cpu(__func__))
		return true;
	struct child w;
	cptr_t pf, n = new_obj(OBJ_NOTIFICATION, 0);
	volatile uint64_t *p = new_page(&pf);
	CHECK(n && p);
	struct accounts start = accounts_read();
	CHECK_ERR(child_create(&w, waiter, 0, ROOT_PRIO), E_OK);
	CHECK_ERR(child_give(&w, 1, n, R_READ), E_OK);
	CHECK_ERR(pin(&w, 1), E_OK);
	CHECK_ERR(child_start(&w), E_OK);
	for (unsigned i = 0; i < 40; i++)
		CHECK(destroy_round(n, pf, p));
	child_destroy(&w);
	CHECK(accounts_equal(accounts_read(), start));
	slot_free(pf), slot_free(n);
	return true;
}
ROOT_TEST("destroy-running-elsewhere", t_destroy_running_elsewhere);

/* --- Finding 2: suspending a thread that runs on another CPU ---------------- */

/* page[0]: calls answered, page[1]: wrong answers. */
static void echo_server(uint64_t arg)
{
	(void)arg;
	struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
	sys(&r);
	for (;;) {
		r = (struct sysregs){ .mr = { r.mr[0] + 1 }, .nr = SYS_REPLY_RECV, .cap = 1,
				      .info = msginfo(0, 1, 0) };
		sys(&r);
	}
}

static void caller(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	for (uint64_t i = 0;; i++) {
		err_t e;
		uint64_t v = ipc_call1(2, i, &e);
		if (e == E_OK && v != i + 1)
			p[1]++;
		if (e == E_OK)
			p[0]++;
		else if (e != E_CANCELLED) /* a suspend may cancel the call */
			p[1]++;
	}
}

static uint64_t thread_state(cptr_t th)
{
	uint64_t r[5];
	return inv(SYS_THREAD_READ_REGS, th, 0, 0, 0, 0, 0, 0, r) ? ~0ull : r[4];
}

/* Once THREAD_SUSPEND has returned, the client makes no further call:
 * not even the one it was waiting to enter the kernel with. */
static bool suspend_round(struct child *c, volatile uint64_t *p)
{
	CHECK_ERR(INV0(SYS_THREAD_SUSPEND, c->thread), E_OK);
	CHECK(thread_state(c->thread) == TS_INACTIVE);
	uint64_t n = p[0];
	for (volatile unsigned i = 0; i < 200000; i++)
		;
	CHECK(p[0] == n && thread_state(c->thread) == TS_INACTIVE);
	CHECK_ERR(child_start(c), E_OK);
	CHECK(wait_above(&p[0], n + 20));
	return true;
}

static bool t_suspend_running_elsewhere(void)
{
	if (one_cpu(__func__))
		return true;
	struct child s, c;
	cptr_t pf, pc, ep = new_obj(OBJ_ENDPOINT, 0);
	volatile uint64_t *p = new_page(&pf);
	CHECK(ep && p);
	CHECK_ERR(child_create(&s, echo_server, 0, ROOT_PRIO), E_OK);
	CHECK_ERR(child_give(&s, 1, ep, R_READ), E_OK);
	CHECK_ERR(child_create(&c, caller, CHILD_SHARED_VA, ROOT_PRIO), E_OK);
	CHECK_ERR(child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(child_give(&c, 2, ep, R_WRITE), E_OK);
	CHECK_ERR(pin(&s, 1), E_OK);
	CHECK_ERR(pin(&c, 1), E_OK);
	CHECK_ERR(child_start(&s), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	CHECK(wait_above(&p[0], 100));
	for (unsigned i = 0; i < 100; i++)
		CHECK(suspend_round(&c, p));
	CHECK(p[1] == 0);
	child_destroy(&c), child_destroy(&s);
	slot_free(pc), slot_free(pf), slot_free(ep);
	return true;
}
ROOT_TEST("suspend-running-elsewhere", t_suspend_running_elsewhere);

/* --- Finding 3: a cancelled fault leaves the registers as they were -------- */

/* Loads from page + 4 KiB (unmapped until the root maps it) with the number
 * and capability registers (x8 and x9 on AArch64) holding known values, then reports them and what it read. */
static void fault_keeps_regs(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	register uint64_t x8 __asm__(UARCH_REG_NR) = 0x8888, x9 __asm__(UARCH_REG_CAP) = 0x9999;
	uint64_t v;
	__asm__ volatile(UARCH_LOAD64("%2", "%3") : "+r"(x8), "+r"(x9), "=&r"(v)
			 : "r"(page + 4096) : "memory");
	p[1] = x8, p[2] = x9, p[3] = v;
	p[0] = 1;
	child_park();
}

/* The fault is never received: the thread waits on its fault endpoint,
 * is suspended (cancelling the delivery), its page is mapped, and it is
 * resumed: it retries the load as if nothing had happened. */
static bool t_fault_cancel_transparent(void)
{
	struct child c;
	cptr_t pf, pc, df, dc, fep = new_obj(OBJ_ENDPOINT, 0);
	volatile uint64_t *p = new_page(&pf), *d = new_page(&df);
	CHECK(fep && p && d);
	d[0] = 0xda7a;
	CHECK_ERR(child_create(&c, fault_keeps_regs, CHILD_SHARED_VA, ROOT_PRIO + 1), E_OK);
	CHECK_ERR(child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, c.thread, 0, 0, fep), E_OK);
	CHECK_ERR(child_start(&c), E_OK); /* higher priority: faults at once */
	for (unsigned i = 0; thread_state(c.thread) != TS_BLOCKED_SEND; i++)
		CHECK(i < 1000000);
	CHECK_ERR(INV0(SYS_THREAD_SUSPEND, c.thread), E_OK);
	CHECK_ERR(child_map(&c, df, CHILD_SHARED_VA + 4096, R_READ, &dc), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	for (unsigned i = 0; p[0] == 0; i++)
		CHECK(i < 100000000);
	CHECK(p[1] == 0x8888 && p[2] == 0x9999 && p[3] == 0xda7a);
	child_destroy(&c);
	slot_free(dc), slot_free(df), slot_free(pc), slot_free(pf), slot_free(fep);
	return true;
}
ROOT_TEST("fault-cancel-transparent", t_fault_cancel_transparent);

/* --- A suspend is complete when it returns ------------------------------- */

static void spin_count(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	for (;;)
		p[0]++;
}

static void report_one(uint64_t page)
{
	((volatile uint64_t *)page)[1] = 1;
	child_park();
}

/* A thread spinning at EL0 on CPU 1 is suspended and given a new pc from
 * CPU 0: its registers were saved before the suspend returned, so the late
 * trap on CPU 1 cannot overwrite what the root wrote. */
static bool t_suspend_then_write_regs(void)
{
	if (one_cpu(__func__))
		return true;
	struct child c;
	cptr_t pf, pc;
	volatile uint64_t *p = new_page(&pf);
	CHECK(p);
	CHECK_ERR(child_create(&c, spin_count, CHILD_SHARED_VA, ROOT_PRIO), E_OK);
	CHECK_ERR(child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(pin(&c, 1), E_OK);
	for (unsigned i = 0; i < 20; i++) {
		p[0] = p[1] = 0;
		CHECK_ERR(INV4(SYS_THREAD_WRITE_REGS, c.thread, (uint64_t)spin_count,
			       CHILD_STACK_TOP, CHILD_SHARED_VA, 0), E_OK);
		CHECK_ERR(child_start(&c), E_OK);
		CHECK(wait_above(&p[0], 1000));
		CHECK_ERR(INV0(SYS_THREAD_SUSPEND, c.thread), E_OK);
		CHECK_ERR(INV4(SYS_THREAD_WRITE_REGS, c.thread, (uint64_t)report_one,
			       CHILD_STACK_TOP, CHILD_SHARED_VA, 0), E_OK);
		CHECK_ERR(child_start(&c), E_OK);
		CHECK(wait_above(&p[1], 0));
		CHECK_ERR(INV0(SYS_THREAD_SUSPEND, c.thread), E_OK);
	}
	child_destroy(&c);
	slot_free(pc), slot_free(pf);
	return true;
}
ROOT_TEST("suspend-then-write-regs", t_suspend_then_write_regs);

/* --- A thread that suspends itself gets a result when resumed ------------- */

static void suspend_self(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	p[1] = INV0(SYS_THREAD_SUSPEND, 1); /* slot 1: its own thread */
	p[0] = 1;
	child_park();
}

static bool t_suspend_self_result(void)
{
	struct child c;
	cptr_t pf, pc;
	volatile uint64_t *p = new_page(&pf);
	CHECK(p);
	p[1] = ~0ull;
	CHECK_ERR(child_create(&c, suspend_self, CHILD_SHARED_VA, ROOT_PRIO + 1), E_OK);
	CHECK_ERR(child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(child_give(&c, 1, c.thread, R_WRITE), E_OK);
	CHECK_ERR(child_start(&c), E_OK); /* runs at once and stops itself */
	CHECK(p[0] == 0 && thread_state(c.thread) == TS_INACTIVE);
	CHECK_ERR(child_start(&c), E_OK);
	CHECK(p[0] == 1 && p[1] == E_OK);
	child_destroy(&c);
	slot_free(pc), slot_free(pf);
	return true;
}
ROOT_TEST("suspend-self-result", t_suspend_self_result);
