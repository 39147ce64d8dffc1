/* The statistics a monitor reads (SYS_THREAD_SET_NAME, SYS_STATS_CPU,
 * SYS_STATS_THREAD): names round-trip, messages are counted exactly, CPU
 * time adds up (the threads' ticks against the CPUs' busy time, exactly
 * bracketed), and every bad argument gets its error. */
#include "servers/root/check.h"
#include "servers/root/suite.h"

/* Up to 16 bytes of s as the two name words (little-endian, NUL padded). */
static void name_words(const char *s, uint64_t w[2])
{
	w[0] = w[1] = 0;
	for (unsigned i = 0; i < 16 && s[i]; i++)
		w[i / 8] |= (uint64_t)(uint8_t)s[i] << (8 * (i % 8));
}

err_t stats_set_name(cptr_t thread, const char *s)
{
	uint64_t w[2];
	name_words(s, w);
	return INV2(SYS_THREAD_SET_NAME, thread, w[0], w[1]);
}

static err_t stats_thread(uint64_t index, uint64_t page, uint64_t r[5])
{
	return inv(SYS_STATS_THREAD, ROOT_IRQ_CONTROL, index, page, 0, 0, 0, 0, r);
}

static err_t stats_cpu(uint64_t cpu, uint64_t r[5])
{
	return inv(SYS_STATS_CPU, ROOT_IRQ_CONTROL, cpu, 0, 0, 0, 0, 0, r);
}

bool stats_named(const char *s, uint64_t page, uint64_t r[5])
{
	uint64_t w[2];
	name_words(s, w);
	for (uint64_t i = 0; stats_thread(i, STATS_SCHED, r) == E_OK; i++)
		if (r[1] == w[0] && r[2] == w[1])
			return stats_thread(i, page, r) == E_OK;
	return false;
}

static uint64_t live_threads(void)
{
	uint64_t r[5], n = 0;
	while (stats_thread(n, STATS_SCHED, r) == E_OK)
		n++;
	return n;
}

/* Child code: answers every call (slot 1 its endpoint). */
static void echo(uint64_t arg)
{
	(void)arg;
	struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
	sys(&r);
	for (;;) {
		r.mr[0]++;
		r.info = msginfo(0, 1, 0);
		r.nr = SYS_REPLY_RECV;
		r.cap = 1;
		sys(&r);
	}
}

/* Child code: never enters the kernel. */
static void spin(uint64_t arg)
{
	(void)arg;
	for (;;)
		__asm__ volatile("" ::: "memory");
}

#define CALLS 100

static bool t_names_and_messages(void)
{
	struct child srv;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	uint64_t r[5], root0[5], srv0[5], id;
	CHECK(ep);
	CHECK_ERR(child_create(&srv, echo, 0, ROOT_PRIO), E_OK);
	CHECK_ERR(child_give(&srv, 1, ep, R_READ), E_OK);
	CHECK_ERR(child_start(&srv), E_OK);
	/* Sixteen bytes, no NUL: both words round-trip whole. */
	CHECK_ERR(stats_set_name(srv.thread, "stats-echo-01234"), E_OK);
	CHECK_ERR(stats_set_name(ROOT_THREAD, "root"), E_OK);
	CHECK(stats_named("stats-echo-01234", STATS_SCHED, r));
	CHECK(r[1] == 0x63652d7374617473ull && r[2] == 0x34333231302d6f68ull);
	id = r[0];
	CHECK(id != 0 && STATS_PRIO(r[4]) == ROOT_PRIO && !(r[4] & STATS_VCPU));
	CHECK(stats_named("root", STATS_SCHED, r));
	CHECK(r[0] != id && (r[4] & STATS_RUNNING) && STATS_STATE(r[4]) == TS_RUNNABLE);
	/* The thread current on the root's CPU is the root. */
	uint64_t c[5];
	CHECK_ERR(stats_cpu(STATS_CPU(r[4]), c), E_OK);
	CHECK(c[3] == r[0]);

	CHECK(stats_named("root", STATS_IPC, root0) && stats_named("stats-echo-01234", STATS_IPC, srv0));
	for (unsigned i = 0; i < CALLS; i++) {
		struct sysregs m = { .mr = { i }, .nr = SYS_CALL, .cap = ep, .info = msginfo(0, 1, 0) };
		CHECK_ERR(sys(&m), E_OK);
		CHECK(m.mr[0] == i + 1);
	}
	/* A refused call sends nothing. */
	cptr_t ro = slot_alloc();
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, ep, R_READ), E_OK);
	CHECK_ERR(INV0(SYS_CALL, ro), E_RIGHTS);
	slot_free(ro);
	CHECK(stats_named("root", STATS_IPC, r));
	CHECK(r[0] == root0[0] && r[1] == root0[1] + CALLS && r[2] == 0 && r[3] == 0);
	CHECK(stats_named("stats-echo-01234", STATS_IPC, r));
	CHECK(r[0] == id && r[1] == srv0[1] + CALLS); /* its replies */
	/* Renaming replaces all sixteen bytes. */
	CHECK_ERR(stats_set_name(srv.thread, "e"), E_OK);
	CHECK(!stats_named("stats-echo-01234", STATS_SCHED, r) && stats_named("e", STATS_SCHED, r));
	CHECK(r[0] == id && r[1] == 'e' && r[2] == 0);
	child_destroy(&srv);
	CHECK(!stats_named("e", STATS_SCHED, r)); /* gone from the list */
	slot_free(ep);
	return true;
}
ROOT_TEST("stats-names-and-messages", t_names_and_messages);

/* Sums over every CPU (busy) and every thread (ticks). */
static bool busy_sum(uint64_t *sum)
{
	uint64_t r[5];
	*sum = 0;
	for (uint64_t cpu = 0; cpu < bootinfo->ncpus; cpu++) {
		CHECK_ERR(stats_cpu(cpu, r), E_OK);
		*sum += r[2];
	}
	return true;
}

static uint64_t ticks_sum(void)
{
	uint64_t r[5], sum = 0;
	for (uint64_t i = 0; stats_thread(i, STATS_SCHED, r) == E_OK; i++)
		sum += r[3];
	return sum;
}

/* Busy before, the threads' ticks, busy after. */
struct reading { uint64_t before, ticks, after; };
static bool read_all(struct reading *x)
{
	CHECK(busy_sum(&x->before));
	x->ticks = ticks_sum();
	CHECK(busy_sum(&x->after));
	return true;
}

static bool t_cpu_time_adds_up(void)
{
	uint64_t c1[5], c2[5], r[5], s0[5];
	/* Per CPU: idle + busy is the time since it started, so between two
	 * readings it grows by exactly the time between them. */
	for (uint64_t cpu = 0; cpu < bootinfo->ncpus; cpu++) {
		CHECK_ERR(stats_cpu(cpu, c1), E_OK);
		CHECK_ERR(stats_cpu(cpu, c2), E_OK);
		CHECK(c1[4] > 0 && c2[4] == c1[4] && c2[0] >= c1[0]);
		CHECK(c2[1] >= c1[1] && c2[2] >= c1[2]);
		CHECK((c2[1] + c2[2]) - (c1[1] + c1[2]) == c2[0] - c1[0]);
	}
	/* A spinner beside the root, on its CPU at its priority: each yield
	 * gives it a timeslice (5 ms). */
	struct child sp;
	CHECK_ERR(child_create(&sp, spin, 0, ROOT_PRIO), E_OK);
	CHECK_ERR(stats_set_name(sp.thread, "stats-spinner"), E_OK);
	CHECK(stats_named("stats-spinner", STATS_SCHED, s0));
	CHECK(s0[3] == 0 && STATS_STATE(s0[4]) == TS_INACTIVE);
	struct reading a, b;
	CHECK(read_all(&a));
	CHECK_ERR(child_start(&sp), E_OK);
	for (unsigned i = 0; i < 4; i++)
		INV0(SYS_YIELD, 0);
	CHECK_ERR(INV0(SYS_THREAD_SUSPEND, sp.thread), E_OK);
	CHECK(read_all(&b));
	CHECK(stats_named("stats-spinner", STATS_SCHED, r));
	CHECK(r[0] == s0[0] && r[3] > c1[4] / 1000); /* more than a millisecond */
	CHECK(STATS_STATE(r[4]) == TS_INACTIVE && !(r[4] & STATS_RUNNING));
	/* No thread ended between the readings, so the threads' ticks grew by
	 * exactly what the CPUs were busy, give or take how long each reading
	 * took: every figure is exact at the moment it is read. */
	uint64_t grew = b.ticks - a.ticks;
	if (grew < b.before - a.after || grew > b.after - a.before || grew < r[3]) {
		printf("root: threads' ticks grew %lu, busy %lu..%lu\n", grew,
		       b.before - a.after, b.after - a.before);
		return false;
	}
	child_destroy(&sp);
	return true;
}
ROOT_TEST("stats-cpu-time-adds-up", t_cpu_time_adds_up);

static bool t_stats_errors(void)
{
	uint64_t r[5];
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0), wo = slot_alloc(), ro = slot_alloc();
	cptr_t empty = slot_alloc();
	CHECK(ep);
	/* The authority: IRQ control with the read right. */
	CHECK_ERR(inv(SYS_STATS_CPU, ROOT_CONSOLE, 0, 0, 0, 0, 0, 0, r), E_BADTYPE);
	CHECK_ERR(inv(SYS_STATS_THREAD, ep, 0, 0, 0, 0, 0, 0, r), E_BADTYPE);
	CHECK_ERR(inv(SYS_STATS_CPU, wo, 0, 0, 0, 0, 0, 0, r), E_BADCAP);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, wo, ROOT_CNODE, ROOT_IRQ_CONTROL, R_WRITE), E_OK);
	CHECK_ERR(inv(SYS_STATS_CPU, wo, 0, 0, 0, 0, 0, 0, r), E_RIGHTS);
	CHECK_ERR(inv(SYS_STATS_THREAD, wo, 0, 0, 0, 0, 0, 0, r), E_RIGHTS);
	/* CPU and thread indices are checked whole. */
	uint64_t n = bootinfo->ncpus, threads = live_threads();
	CHECK(threads >= 1);
	/* Bit 32 or 63 over a valid index or page. */
	static const uint64_t high[] = { 1ull << 32, (1ull << 32) + 1, 1ull << 63, ~0ull };
	CHECK_ERR(stats_cpu(n, r), E_RANGE);
	CHECK_ERR(stats_cpu(n - 1, r), E_OK);
	CHECK_ERR(stats_thread(threads, STATS_SCHED, r), E_RANGE);
	CHECK_ERR(stats_thread(threads - 1, STATS_SCHED, r), E_OK);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_ERR(stats_cpu(high[i], r), E_RANGE);
		CHECK_ERR(stats_thread(high[i], STATS_IPC, r), E_RANGE);
		CHECK_ERR(stats_thread(0, high[i], r), E_INVAL);
	}
	CHECK_ERR(stats_thread(0, STATS_PAGES, r), E_INVAL);
	for (uint64_t p = 0; p < STATS_PAGES; p++)
		CHECK_ERR(stats_thread(0, p, r), E_OK);
	/* Naming needs a thread with the write right. */
	CHECK_ERR(stats_set_name(ep, "x"), E_BADTYPE);
	CHECK_ERR(stats_set_name(empty, "x"), E_BADCAP);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, ROOT_THREAD, R_READ), E_OK);
	CHECK_ERR(stats_set_name(ro, "x"), E_RIGHTS);
	slot_free(ro), slot_free(wo), slot_free(ep), slot_free(empty);
	return true;
}
ROOT_TEST("stats-errors", t_stats_errors);
