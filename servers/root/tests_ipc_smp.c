/* The IPC fast paths on several CPUs at once.  They share the big lock
 * (hyp/bkl.h): call and reply_recv between two threads of one CPU run
 * beside each other's on other CPUs, under their endpoint's lock, and
 * beside nothing that holds the lock whole.  Here one endpoint is served
 * by a server on each CPU but the root's and called by a client on each:
 * a call meets a server of its own CPU (the fast path, shared) or of
 * another (the general path, whole) on the same endpoint at once, while
 * the root suspends, resumes, moves, and replaces the children under them. */
#include "servers/root/check.h"
#include "servers/root/suite.h"

#define ROUNDS 200
/* the shared page: round trips [0, 16), wrong answers [16, 32), calls that
 * failed [32, 48) (their server was destroyed meanwhile, or the client
 * suspended in the call: E_CANCELLED) */
enum { DONE = 0, WRONG = 16, FAILED = 32 };

static CHILD_CODE void race_server(uint64_t unused)
{
	(void)unused;
	uint64_t badge;
	err_t e;
	struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
	sys(&r);
	for (uint64_t w = r.mr[0];;)
		w = ipc_reply_recv1(1, w + 1, &badge, &e);
}

/* Asks for v + 1 with a v of its own (its id in the top half). */
static CHILD_CODE void race_client(uint64_t id)
{
	volatile uint64_t *page = (volatile uint64_t *)CHILD_SHARED_VA;
	err_t e;
	for (uint64_t v = id << 32;; v++) {
		uint64_t got = ipc_call1(1, v, &e);
		if (e != E_OK)
			page[FAILED + id]++;
		else if (got != v + 1)
			page[WRONG + id]++;
		page[DONE + id]++;
	}
}

struct racer {
	struct child c;
	cptr_t page; /* the root's copy of the frame it maps */
};

static bool race_start_at(struct racer *r, void (*fn)(uint64_t), uint64_t id, cptr_t ep,
			  unsigned rights, cptr_t page, unsigned cpu, unsigned prio)
{
	struct child *c = &r->c;
	CHECK_ERR(child_create(c, fn, id, prio), E_OK);
	CHECK_ERR(child_give(c, 1, ep, rights), E_OK);
	CHECK_ERR(child_map(c, page, CHILD_SHARED_VA, R_READ | R_WRITE, &r->page), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c->thread, cpu), E_OK);
	CHECK_ERR(child_start(c), E_OK);
	return true;
}

static bool race_start(struct racer *r, void (*fn)(uint64_t), uint64_t id, cptr_t ep,
		       unsigned rights, cptr_t page, unsigned cpu)
{
	return race_start_at(r, fn, id, ep, rights, page, cpu, ROOT_PRIO - 1);
}

static void race_end(struct racer *r)
{
	child_destroy(&r->c);
	slot_free(r->page);
}

static uint64_t sum(volatile uint64_t *page, unsigned from, unsigned n)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < n; i++)
		s += page[from + i];
	return s;
}

/* One of the root's moves on child c; `suspends` counts its suspensions. */
static bool race_move(struct child *c, unsigned cpus, uint64_t rnd, uint64_t *suspends)
{
	*suspends += rnd % 3 != 1;
	unsigned cpu = 1 + (unsigned)(rnd >> 8) % (cpus - 1);
	switch (rnd % 3) {
	case 0:
		CHECK_ERR(INV0(SYS_THREAD_SUSPEND, c->thread), E_OK);
		CHECK_ERR(INV0(SYS_THREAD_RESUME, c->thread), E_OK);
		break;
	case 1:
		CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c->thread, cpu), E_OK);
		break;
	default: /* a suspended thread moved, then resumed there */
		CHECK_ERR(INV0(SYS_THREAD_SUSPEND, c->thread), E_OK);
		CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c->thread, cpu), E_OK);
		CHECK_ERR(INV0(SYS_THREAD_RESUME, c->thread), E_OK);
	}
	return true;
}

static bool t_ipc_smp_race(void)
{
	unsigned cpus = (unsigned)bootinfo->ncpus, n = cpus - 1;
	if (cpus < 2 || n > 8)
		return true; /* the root's own CPU is the only one (or the page's 16 counters) */
	struct accounts before = accounts_read();
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), frame;
	volatile uint64_t *page = new_page(&frame);
	CHECK(ep && page);
	struct racer c[16];
	for (unsigned i = 0; i < n; i++)
		CHECK(race_start(&c[i], race_server, i, ep, R_READ, frame, 1 + i));
	for (unsigned i = 0; i < n; i++)
		CHECK(race_start(&c[n + i], race_client, i, ep, R_WRITE, frame, 1 + i));
	uint64_t rnd = 0x9e3779b97f4a7c15ull, replaced = 0, suspends[2] = { 0 };
	for (unsigned round = 0; round < ROUNDS; round++) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		unsigned k = (unsigned)(rnd >> 40) % (2 * n);
		if ((rnd >> 20) % 8 == 0 && k < n) { /* a server destroyed mid-call, and replaced */
			race_end(&c[k]);
			CHECK(race_start(&c[k], race_server, k, ep, R_READ, frame, 1 + k));
			replaced++;
		} else {
			CHECK(race_move(&c[k].c, cpus, rnd >> 24, &suspends[k >= n]));
		}
		/* the children run a little between the root's moves: 5 round
		 * trips, or 50 ms (a call to another CPU waits for the host to
		 * run that CPU's thread: about 1 ms with 4 CPUs on 2 cores) */
		uint64_t d0 = sum(page, DONE, n), t0 = counter_now(), ms = counter_freq() / 1000;
		while (sum(page, DONE, n) - d0 < 5 && counter_now() - t0 < 50 * ms)
			;
		CHECK_ERR(INV0(SYS_DEBUG_CHECK, ROOT_CONSOLE), E_OK);
	}
	uint64_t done = sum(page, DONE, n), wrong = sum(page, WRONG, n);
	uint64_t failed = sum(page, FAILED, n);
	for (unsigned i = 0; i < 2 * n; i++)
		race_end(&c[i]);
	CHECK_ERR(INV0(SYS_DEBUG_CHECK, ROOT_CONSOLE), E_OK);
	printf("root: ipc-smp-race: %lu round trips on %u CPUs; %lu servers replaced, %lu "
	       "suspended, %lu clients suspended; %lu calls failed, %lu wrong answers\n", done, n,
	       replaced, suspends[0], suspends[1], failed, wrong);
	CHECK(wrong == 0 && failed <= replaced + suspends[1] && done >= ROUNDS);
	slot_free(frame);
	slot_free(ep);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST("ipc-smp-race", t_ipc_smp_race);

/* Notifications the same way: one notification signalled from every CPU
 * and waited on from every CPU (signal, wait and poll share the big lock
 * too, under the notification's lock).  Signaller i sends its bit, then
 * waits (yielding) until a waiter has counted it, NTFN_SIGNALS times: a
 * lost signal stops it for good, a bit counted twice shows as a count
 * above what was sent.  The waiters outrank the signallers, so a signal to
 * a waiter on the signaller's CPU switches to it there. */
#define NTFN_SIGNALS 200
enum { SENT = 0, COUNTED = 16 };

static CHILD_CODE void ntfn_signaller(uint64_t i)
{
	volatile uint64_t *page = (volatile uint64_t *)CHILD_SHARED_VA;
	for (uint64_t k = 0; k < NTFN_SIGNALS; k++) {
		while (__atomic_load_n(&page[COUNTED + i], __ATOMIC_ACQUIRE) != k)
			INV0(SYS_YIELD, 0);
		page[SENT + i] = k + 1;
		INV1(SYS_SIGNAL, 1, 1ull << i);
	}
	for (;;) /* done: leave the CPU to the others */
		INV0(SYS_YIELD, 0);
}

static CHILD_CODE void ntfn_waiter(uint64_t unused)
{
	(void)unused;
	uint64_t *page = (uint64_t *)CHILD_SHARED_VA;
	for (unsigned round = 0;; round++) {
		/* now and then a poll, which must not lose what it takes either */
		struct sysregs r = { .nr = round % 4 ? SYS_WAIT : SYS_POLL, .cap = 1 };
		if (sys(&r) != E_OK) /* suspended in the wait: E_CANCELLED */
			continue;
		for (unsigned i = 0; i < 16; i++)
			if (r.cap >> i & 1)
				__atomic_fetch_add(&page[COUNTED + i], 1, __ATOMIC_RELEASE);
	}
}

static bool t_ntfn_smp_race(void)
{
	unsigned cpus = (unsigned)bootinfo->ncpus, n = cpus - 1;
	if (cpus < 2 || n > 8)
		return true;
	struct accounts before = accounts_read();
	cptr_t nt = new_obj(OBJ_NOTIFICATION, 0), frame;
	volatile uint64_t *page = new_page(&frame);
	CHECK(nt && page);
	struct racer c[16];
	for (unsigned i = 0; i < n; i++)
		CHECK(race_start(&c[i], ntfn_waiter, 0, nt, R_READ, frame, 1 + i));
	for (unsigned i = 0; i < n; i++) /* below the waiters */
		CHECK(race_start_at(&c[n + i], ntfn_signaller, i, nt, R_WRITE, frame, 1 + i,
				    ROOT_PRIO - 2));
	uint64_t rnd = 0x2545f4914f6cdd1dull, t0 = counter_now(), moves = 0;
	bool done = false;
	while (!done && counter_now() - t0 < 30 * counter_freq()) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t s0 = sum(page, COUNTED, n), t1 = counter_now();
		while (sum(page, COUNTED, n) - s0 < 3 && counter_now() - t1 < counter_freq() / 20)
			;
		uint64_t suspends = 0;
		CHECK(race_move(&c[(rnd >> 40) % (2 * n)].c, cpus, rnd >> 24, &suspends));
		moves++;
		done = sum(page, COUNTED, n) == (uint64_t)n * NTFN_SIGNALS;
	}
	CHECK_ERR(INV0(SYS_DEBUG_CHECK, ROOT_CONSOLE), E_OK);
	uint64_t counted = sum(page, COUNTED, n), over = 0;
	for (unsigned i = 0; i < n; i++)
		over += page[COUNTED + i] > page[SENT + i];
	for (unsigned i = 0; i < 2 * n; i++)
		race_end(&c[i]);
	printf("root: ntfn-smp-race: %lu of %u signals counted on %u CPUs, %lu moves meanwhile%s\n",
	       counted, n * NTFN_SIGNALS, n, moves, over ? ", some counted twice" : "");
	CHECK(done && !over);
	slot_free(frame);
	slot_free(nt);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST("ntfn-smp-race", t_ntfn_smp_race);
