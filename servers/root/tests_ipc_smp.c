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

static bool race_start(struct racer *r, void (*fn)(uint64_t), uint64_t id, cptr_t ep,
		       unsigned rights, cptr_t page, unsigned cpu)
{
	struct child *c = &r->c;
	CHECK_ERR(child_create(c, fn, id, ROOT_PRIO - 1), E_OK);
	CHECK_ERR(child_give(c, 1, ep, rights), E_OK);
	CHECK_ERR(child_map(c, page, CHILD_SHARED_VA, R_READ | R_WRITE, &r->page), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c->thread, cpu), E_OK);
	CHECK_ERR(child_start(c), E_OK);
	return true;
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
