/* Benchmarks on several CPUs (cairn.root=smpbench), by the wall clock:
 * for QEMU without -icount, where each CPU is a host thread (MTTCG), so
 * that they show how the kernel scales across CPUs.  As noisy as the
 * host, and run once (docs/PERF.md).  Each prints "BENCH <name> <value>".
 *   ipc_pairs_scaling: the call/reply round trips per second of two
 *     client-server pairs, a pair per CPU, over those of one pair alone
 *     (each the best of five windows);
 *   notify_throughput: items per second through a ring in shared memory
 *     (servers/lib/ring.h) from a producer on CPU 0 to a consumer on CPU 1,
 *     a notification waking the consumer only when the ring was empty.
 * The root task measures one second by its user timer, blocked: the CPUs
 * are the benchmark's meanwhile. */
#include "servers/lib/ring.h"
#include "servers/root/root.h"

#define WINDOW_MS 1000
/* The pairs' rate is the best of five windows of 200 ms: the host's other
 * work (a busy neighbour of this VM, QEMU's own threads) can only slow a
 * window down, and one CPU's pair needs one host core where two need both. */
#define WINDOWS 5
#define RING_ORDER 8

/* Child code: calls slot 1 for ever, counting round trips in its page. */
static void pair_client(uint64_t unused)
{
	(void)unused;
	volatile uint64_t *n = (volatile uint64_t *)CHILD_SHARED_VA;
	err_t e;
	for (;;) {
		ipc_call1(1, 0, &e);
		(*n)++;
	}
}

/* Child code: pushes counting words into the ring at CHILD_SHARED_VA,
 * signalling slot 1 when the consumer may be asleep. */
static void producer(uint64_t unused)
{
	(void)unused;
	struct ring *r = (struct ring *)CHILD_SHARED_VA;
	bool was_empty;
	for (uint64_t v = 0;; v++) {
		while (!ring_push(r, v, &was_empty))
			;
		if (was_empty)
			INV1(SYS_SIGNAL, 1, 1);
	}
}

/* Child code: takes every word, counting them in the word after the ring,
 * and waits on slot 1 when there is none. */
static void consumer(uint64_t unused)
{
	(void)unused;
	struct ring *r = (struct ring *)CHILD_SHARED_VA;
	volatile uint64_t *n = &r->slot[1u << RING_ORDER];
	uint64_t v;
	for (;;) {
		while (ring_pop(r, &v))
			(*n)++;
		struct sysregs w = { .nr = SYS_WAIT, .cap = 1 };
		if (ring_idle(r))
			sys(&w);
	}
}

struct rig {
	struct child c[4];
	unsigned n;
	cptr_t objs[4], pages[4], copies[4];
};

/* Child fn on cpu with page `page` (0: none) shared and `cap` in slot 1. */
static bool start(struct rig *g, void (*fn)(uint64_t), unsigned cpu, cptr_t page, cptr_t cap,
		  unsigned rights)
{
	struct child *c = &g->c[g->n];
	if (child_create(c, fn, 0, ROOT_PRIO - 1))
		return false;
	g->n++;
	return !child_give(c, 1, cap, rights) &&
	       (!page || !child_map(c, page, CHILD_SHARED_VA, R_READ | R_WRITE, &g->copies[g->n - 1])) &&
	       !INV1(SYS_THREAD_SET_AFFINITY, c->thread, cpu) && !child_start(c);
}

static void rig_end(struct rig *g)
{
	for (unsigned i = 0; i < g->n; i++)
		child_destroy(&g->c[i]);
	for (unsigned i = 0; i < 4; i++) {
		cptr_t all[] = { g->objs[i], g->pages[i], g->copies[i] };
		for (unsigned k = 0; k < 3; k++)
			if (all[k])
				slot_free(all[k]);
	}
}

/* Round trips per second of `pairs` pairs, pair i on CPU i; 0 on a failure. */
static uint64_t pairs_rate(unsigned pairs, cptr_t irq, cptr_t n)
{
	struct rig g = { 0 };
	volatile uint64_t *count[2];
	bool ok = true;
	for (unsigned i = 0; ok && i < pairs; i++) {
		extern void bench_server(uint64_t);
		ok = (g.objs[i] = new_obj(OBJ_ENDPOINT, 0)) && (count[i] = new_page(&g.pages[i])) &&
		     start(&g, bench_server, i, 0, g.objs[i], R_READ) &&
		     start(&g, pair_client, i, g.pages[i], g.objs[i], R_WRITE);
	}
	ok = ok && sleep_ms(irq, n, 100); /* under way */
	uint64_t best = 0;
	for (unsigned w = 0; ok && w < WINDOWS; w++) {
		uint64_t before = 0, after = 0, t0 = counter_now();
		for (unsigned i = 0; i < pairs; i++)
			before += *count[i];
		ok = sleep_ms(irq, n, WINDOW_MS / WINDOWS);
		uint64_t t1 = counter_now();
		for (unsigned i = 0; i < pairs; i++)
			after += *count[i];
		uint64_t rate = ok && t1 > t0 ? (after - before) * counter_freq() / (t1 - t0) : 0;
		best = rate > best ? rate : best;
	}
	rig_end(&g);
	return ok ? best : 0;
}

static uint64_t notify_rate(cptr_t irq, cptr_t n)
{
	struct rig g = { 0 };
	struct ring *r = new_page(&g.pages[0]);
	bool ok = r && (g.objs[0] = new_obj(OBJ_NOTIFICATION, 0));
	if (ok)
		ring_init(r, RING_ORDER);
	volatile uint64_t *got = ok ? &r->slot[1u << RING_ORDER] : NULL;
	ok = ok && start(&g, consumer, 1, g.pages[0], g.objs[0], R_READ) &&
	     start(&g, producer, 0, g.pages[0], g.objs[0], R_WRITE) && sleep_ms(irq, n, 100);
	uint64_t before = ok ? *got : 0, t0 = counter_now();
	ok = ok && sleep_ms(irq, n, WINDOW_MS);
	uint64_t t1 = counter_now(), after = ok ? *got : 0;
	rig_end(&g);
	return ok && t1 > t0 ? (after - before) * counter_freq() / (t1 - t0) : 0;
}

void run_bench_smp(void)
{
	cptr_t irq, n;
	if (bootinfo->ncpus < 2 || !timer_take(&n, &irq)) {
		printf("smpbench: needs 2 CPUs and the user timer\n");
		return;
	}
	uint64_t one = pairs_rate(1, irq, n), two = pairs_rate(2, irq, n);
	printf("BENCH ipc_pairs_1cpu %lu round trips/s\n", one);
	printf("BENCH ipc_pairs_2cpus %lu round trips/s\n", two);
	if (one)
		printf("BENCH ipc_pairs_scaling %lu.%02lu\n", two / one, two * 100 / one % 100);
	printf("BENCH notify_throughput %lu items/s\n", notify_rate(irq, n));
	bench_cross_cpu(true);
	if (bootinfo->features & BOOT_HAS_VCPU)
		bench_virq(1, true);
}
