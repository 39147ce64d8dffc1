/* User-level tests of thread state and lifecycle: FP/SIMD registers across
 * switches and migration, blocked calls cancelled, MCP and configuration
 * rules enforced across tasks. */
#include "servers/root/check.h"
#include "servers/root/suite.h"

/* --- FP/SIMD state ----------------------------------------------------------------- */

#define FP_ROUNDS 300

/* Fills its FP registers, then yields again and again, checking them each
 * time; reports 1 (kept) or 2 (lost) in word arg & 7, then signals slot 1. */
static void fp_worker(uint64_t arg)
{
	volatile uint64_t *p = (uint64_t *)CHILD_SHARED_VA;
	uint64_t seed = arg << 16;
	unsigned i = 0;
	fp_fill(seed);
	while (i < FP_ROUNDS && fp_check(seed)) {
		INV0(SYS_YIELD, 0);
		i++;
	}
	p[arg & 7] = i == FP_ROUNDS ? 1 : 2;
	INV1(SYS_SIGNAL, 1, 1);
	child_park();
}

/* A thread's first FP access finds zeros, not what another left. */
static void fp_newcomer(uint64_t arg)
{
	volatile uint64_t *p = (uint64_t *)CHILD_SHARED_VA;
	p[arg & 7] = fp_all_zero() ? 1 : 2;
	INV1(SYS_SIGNAL, 1, 1);
	child_park();
}

static bool fp_run(struct child *c, void (*fn)(uint64_t), uint64_t arg, cptr_t pf,
		   cptr_t n, cptr_t *pc)
{
	CHECK_ERR(child_create(c, fn, arg, ROOT_PRIO), E_OK);
	CHECK_ERR(child_map(c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, pc), E_OK);
	CHECK_ERR(child_give(c, 1, n, R_WRITE), E_OK);
	return child_start(c) == E_OK;
}

bool t_fp_state(void)
{
	struct child c[3];
	cptr_t pf, pc[3], n = new_obj(OBJ_NOTIFICATION, 0);
	volatile uint64_t *page = new_page(&pf);
	CHECK(n && page);
	fp_fill(0x5000); /* the root is an FP thread too */
	CHECK(fp_run(&c[0], fp_worker, 0x1001, pf, n, &pc[0]));
	CHECK(fp_run(&c[1], fp_worker, 0x2002, pf, n, &pc[1]));
	/* all at one priority, yielding: every switch moves FP state; with
	 * more CPUs the root also moves the workers between them */
	for (unsigned i = 0; page[1] == 0 || page[2] == 0; i++) {
		INV0(SYS_YIELD, 0);
		if (bootinfo->ncpus > 1 && i % 4 == 0)
			INV1(SYS_THREAD_SET_AFFINITY, c[i / 4 % 2].thread, i / 8 % bootinfo->ncpus);
		CHECK(i < 100000);
	}
	CHECK(page[1] == 1 && page[2] == 1);
	CHECK(fp_run(&c[2], fp_newcomer, 3, pf, n, &pc[2]));
	while (page[3] == 0)
		INV0(SYS_YIELD, 0);
	CHECK(page[3] == 1);
	CHECK(fp_check(0x5000));
	for (unsigned i = 0; i < 3; i++)
		child_destroy(&c[i]), slot_free(pc[i]);
	slot_free(pf), slot_free(n);
	return true;
}

/* --- FP state where the kernel waits with the lock dropped -------------------
 * A CPU that stops (suspends, deletes) a thread running on another CPU
 * waits for it with the big lock dropped (kernel_exit's await_stopping).
 * If its own thread is stopped meanwhile, it chooses again and, its stop
 * still pending, waits again: the thread it left may then hold its FP
 * registers until the next one is entered, and with the lock free
 * another CPU could free it (the save would write freed memory) or run
 * it (its state in memory stale).  The kernel checks, wherever it drops
 * the lock to wait, that only the current thread's state is in the
 * registers (fp_assert_own): this makes such waits happen, thousands of
 * times. */
#define STOPS 200

/* An FP thread that suspends and resumes the thread in its slot 1, again
 * and again, checking its own FP registers each time: rounds in word 6,
 * losses in word 0; word 7 set: it stops. */
static void fp_stopper(uint64_t arg)
{
	volatile uint64_t *p = (uint64_t *)CHILD_SHARED_VA;
	uint64_t seed = arg << 16;
	fp_fill(seed);
	while (!p[7]) {
		INV0(SYS_THREAD_SUSPEND, 1);
		INV0(SYS_THREAD_RESUME, 1);
		if (!fp_check(seed)) {
			p[0]++;
			fp_fill(seed);
		}
		p[6]++;
	}
	child_park();
}

static void plain_spinner(uint64_t arg)
{
	(void)arg;
	for (;;)
		__asm__ volatile("" ::: "memory");
}

/* CPU 3: the FP stopper and a spinner; CPU 1: the spinner it stops; the
 * root (CPU 0) stops and restarts the stopper meanwhile, so that CPU 3
 * often leaves it for its spinner while its own stop is pending. */
static bool t_fp_stops_crossed(void)
{
	if (bootinfo->ncpus < 4) {
		printf("root: fp-stops-crossed needs 4 CPUs, this machine has %u: not run\n",
		       (unsigned)bootinfo->ncpus);
		return true;
	}
	struct accounts before = accounts_read();
	static void (*const fn[3])(uint64_t) = { fp_stopper, plain_spinner, plain_spinner };
	static const unsigned on[3] = { 3, 3, 1 };
	struct child c[3];
	cptr_t pf, pc[3];
	volatile uint64_t *page = new_page(&pf);
	CHECK(page);
	for (unsigned i = 0; i < 3; i++) {
		CHECK_ERR(child_create(&c[i], fn[i], 0x10 + i, ROOT_PRIO - 1), E_OK);
		CHECK_ERR(child_map(&c[i], pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc[i]), E_OK);
		CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c[i].thread, on[i]), E_OK);
	}
	CHECK_ERR(child_give(&c[0], 1, c[2].thread, R_ALL), E_OK);
	for (unsigned i = 0; i < 3; i++)
		CHECK_ERR(child_start(&c[i]), E_OK);
	for (unsigned i = 0; page[6] == 0; i++) { /* the stopper is at work */
		INV0(SYS_YIELD, 0);
		CHECK(i < 1000000);
	}
	uint64_t rounds = page[6];
	for (unsigned i = 0; i < STOPS; i++) {
		/* it ran meanwhile: within a minute, however busy the host */
		uint64_t at = page[6], until = counter_now() + 60 * counter_freq();
		while (page[6] == at)
			if (counter_now() > until) {
				printf("root: fp-stops-crossed: stop %u: the stopper stuck at %lu\n", i, at);
				return false;
			}
		CHECK_ERR(INV0(SYS_THREAD_SUSPEND, c[0].thread), E_OK);
		CHECK_ERR(INV0(SYS_THREAD_RESUME, c[0].thread), E_OK);
	}
	rounds = page[6] - rounds;
	page[7] = 1;
	uint64_t lost = page[0];
	printf("root: fp-stops-crossed: %u stops of the stopper, %lu of its own meanwhile\n",
	       STOPS, rounds);
	for (unsigned i = 0; i < 3; i++)
		child_destroy(&c[i]), slot_free(pc[i]);
	slot_free(pf);
	CHECK(rounds > 0); /* the stops crossed */
	CHECK(lost == 0);  /* the FP thread's registers held */
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST_NEEDS("fp-stops-crossed", t_fp_stops_crossed, 0);

/* --- Cancellation -------------------------------------------------------------- */

/* Makes the call described in its page (number, capability), then reports
 * the result. */
static void child_one_call(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	struct sysregs r = { .nr = p[0], .cap = p[1] };
	p[2] = sys(&r);
	p[3] = 1;
	child_park();
}

/* Receives, then receives again without replying. */
static void forgetful_server(uint64_t arg)
{
	(void)arg;
	for (;;) {
		struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
		sys(&r);
	}
}

/* A child blocked in `nr` on `obj` (its slot 1) wakes with E_CANCELLED
 * when the root deletes every capability to the object. */
static bool cancelled_by_delete(enum sys nr, cptr_t obj, unsigned rights)
{
	struct child c;
	cptr_t pf, pc;
	volatile uint64_t *p = new_page(&pf);
	CHECK(p);
	p[0] = nr, p[1] = 1, p[2] = ~0ull, p[3] = 0;
	CHECK_ERR(child_create(&c, child_one_call, CHILD_SHARED_VA, ROOT_PRIO + 1), E_OK);
	CHECK_ERR(child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(child_give(&c, 1, obj, rights), E_OK);
	CHECK_ERR(child_start(&c), E_OK); /* runs at once and blocks */
	CHECK(p[3] == 0);
	CHECK_ERR(INV1(SYS_CNODE_REVOKE, ROOT_CNODE, obj), E_OK);
	slot_free(obj);
	CHECK(p[3] == 1 && p[2] == E_CANCELLED);
	child_destroy(&c);
	slot_free(pc), slot_free(pf);
	return true;
}

bool t_cancellations(void)
{
	CHECK(cancelled_by_delete(SYS_SEND, new_obj(OBJ_ENDPOINT, 0), R_WRITE));
	CHECK(cancelled_by_delete(SYS_CALL, new_obj(OBJ_ENDPOINT, 0), R_WRITE));
	CHECK(cancelled_by_delete(SYS_WAIT, new_obj(OBJ_NOTIFICATION, 0), R_READ));
	/* a server that receives again without replying lets the call lapse */
	struct child c;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	CHECK(ep);
	CHECK_ERR(child_create(&c, forgetful_server, 0, ROOT_PRIO + 1), E_OK);
	CHECK_ERR(child_give(&c, 1, ep, R_READ), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	err_t e;
	ipc_call1(ep, 7, &e);
	CHECK(e == E_CANCELLED);
	child_destroy(&c);
	slot_free(ep);
	return true;
}

/* --- MCP and configuration ---------------------------------------------------- */

/* With MCP 50, tries to set its sibling (slot 1) above that; reports. */
static void mcp_tester(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	p[0] = INV2(SYS_THREAD_SET_PRIORITY, 1, 60, 0);  /* priority above MCP */
	p[1] = INV2(SYS_THREAD_SET_PRIORITY, 1, 40, 60); /* MCP above MCP */
	p[2] = INV2(SYS_THREAD_SET_PRIORITY, 1, 50, 50); /* its own MCP: fine */
	p[3] = 1;
	INV1(SYS_SIGNAL, 2, 1);
	child_park();
}

bool t_thread_errors(void)
{
	struct child a, b;
	cptr_t pf, pc, done = new_obj(OBJ_NOTIFICATION, 0);
	volatile uint64_t *page = new_page(&pf);
	CHECK(done && page);
	/* MCP, from a task that holds another's thread capability */
	CHECK_ERR(child_create(&a, mcp_tester, CHILD_SHARED_VA, 50), E_OK);
	CHECK_ERR(child_create(&b, mcp_tester, CHILD_SHARED_VA, 10), E_OK);
	CHECK_ERR(child_map(&a, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(child_give(&a, 1, b.thread, R_ALL), E_OK);
	CHECK_ERR(child_give(&a, 2, done, R_WRITE), E_OK);
	CHECK_ERR(child_start(&a), E_OK);
	/* a running thread cannot be reconfigured */
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, a.thread, a.cspace, a.as, 0), E_BUSY);
	struct sysregs w = { .nr = SYS_WAIT, .cap = done };
	CHECK_ERR(sys(&w), E_OK);
	CHECK(page[3] == 1 && page[0] == E_PRIO && page[1] == E_PRIO && page[2] == E_OK);
	/* a suspended one can */
	CHECK_ERR(INV0(SYS_THREAD_SUSPEND, a.thread), E_OK);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, a.thread, a.cspace, a.as, 0), E_OK);
	child_destroy(&a), child_destroy(&b);
	slot_free(pc), slot_free(pf), slot_free(done);
	return true;
}
