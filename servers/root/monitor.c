/* The live monitor (monitor.h).  It reads the kernel's statistics
 * (SYS_STATS_CPU, SYS_STATS_THREAD: the IRQ control capability is the
 * authority) and prints what changed since its last report, so that each
 * report covers one interval: per CPU busy + idle is that interval's
 * length, which the tests check.  Threads are told apart by the kernel's
 * ids and named by SYS_THREAD_SET_NAME (the root task names its servers,
 * a VMM its VCPUs "gN.vcpuK"). */
#include "servers/root/monitor.h"

#define MON_CPUS 8
#define MON_THREADS 96
#define MON_GUESTS 9

struct thread_figures {
	uint64_t id, ticks, ipc, exits;
};

static struct { uint64_t now, idle, busy; } last_cpu[MON_CPUS];
static struct thread_figures last[MON_THREADS];
static unsigned nlast, reports;
static uint64_t hz = 1;
static bool quiet; /* the baseline: figures taken, nothing said */

#define say(...)                         \
	do {                             \
		if (!quiet)              \
			printf(__VA_ARGS__); \
	} while (0)

static const char *const state_names[] = { "inactive", "ready", "send", "recv", "reply",
					   "wait", "wfi" };

static struct thread_figures before(uint64_t id)
{
	for (unsigned i = 0; i < nlast; i++)
		if (last[i].id == id)
			return last[i];
	return (struct thread_figures){ .id = id }; /* new since: all of it */
}

/* Milliseconds, with one decimal, of a tick count. */
static void ms(char *buf, size_t n, uint64_t ticks)
{
	uint64_t tenths = ticks * 10000 / hz;
	snprintf(buf, n, "%lu.%lu", tenths / 10, tenths % 10);
}

static void name_of(uint64_t w1, uint64_t w2, char out[17])
{
	memcpy(out, &w1, 8);
	memcpy(out + 8, &w2, 8);
	out[16] = 0;
	if (!out[0])
		memcpy(out, "?", 2);
}

/* Thread i's pages; false past the last thread. */
static bool read_thread(uint64_t i, uint64_t p[4][5])
{
	for (unsigned page = 0; page < STATS_PAGES; page++)
		if (inv(SYS_STATS_THREAD, ROOT_IRQ_CONTROL, i, page, 0, 0, 0, 0, p[page]))
			return false;
	return true;
}

/* Everything the kernel says, read before anything is printed: printing
 * takes time, which would go on accruing to the threads running meanwhile
 * and make the figures disagree. */
struct snapshot {
	uint64_t cpu[MON_CPUS][5];
	uint64_t thread[MON_THREADS][4][5];
	unsigned ncpu, nthread;
	uint64_t took;   /* ticks the reading took: a running thread's skew */
};

static uint64_t counter(void) { return counter_now(); }

static bool take(struct snapshot *s)
{
	uint64_t t0 = counter();
	s->ncpu = bootinfo->ncpus < MON_CPUS ? (unsigned)bootinfo->ncpus : MON_CPUS;
	for (unsigned i = 0; i < s->ncpu; i++)
		if (inv(SYS_STATS_CPU, ROOT_IRQ_CONTROL, i, 0, 0, 0, 0, 0, s->cpu[i]))
			return false;
	for (s->nthread = 0; s->nthread < MON_THREADS && read_thread(s->nthread, s->thread[s->nthread]);)
		s->nthread++;
	s->took = counter() - t0;
	return true;
}

/* The threads: a line each that ran or worked since the last report; the
 * guests' exits summed by the "gN." of their VCPU threads' names.
 * Returns the ticks they were charged in the interval. */
static uint64_t threads(const struct snapshot *snap, char run_name[MON_CPUS][17])
{
	static struct thread_figures now[MON_THREADS];
	uint64_t guest[MON_GUESTS][5] = { { 0 } }, sum = 0;
	say("monitor: %-16s cpu prio %-8s %9s %8s %8s\n", "thread", "state", "cpu-ms", "ipc",
	    "exits");
	for (unsigned n = 0; n < snap->nthread; n++) {
		const uint64_t(*p)[5] = snap->thread[n];
		char name[17], t[16];
		name_of(p[0][1], p[0][2], name);
		struct thread_figures was = before(p[0][0]);
		now[n] = (struct thread_figures){ p[0][0], p[0][3], p[1][1], p[1][2] };
		uint64_t d = now[n].ticks - was.ticks, w = p[0][4];
		sum += d;
		for (unsigned c = 0; c < snap->ncpu; c++)
			if (snap->cpu[c][3] == p[0][0])
				memcpy(run_name[c], name, 17);
		/* a VMM names its threads as it likes: "g9" is no guest here */
		unsigned g = name[0] == 'g' && name[1] > '0' && name[1] < '0' + MON_GUESTS ?
				     name[1] - '0' : 0;
		for (unsigned k = 0; g && (w & STATS_VCPU) && k < 5; k++)
			guest[g][k] += k < 4 ? p[2][k + 1] : p[3][1];
		if (d || now[n].ipc != was.ipc || now[n].exits != was.exits) {
			ms(t, sizeof(t), d);
			unsigned st = STATS_STATE(w);
			say("monitor: %-16s %3lu %4lu %-8s %9s %8lu %8lu\n", name, STATS_CPU(w),
			    STATS_PRIO(w), w & STATS_RUNNING ? "running" : st < 7 ? state_names[st] : "?",
			    t, now[n].ipc - was.ipc, now[n].exits - was.exits);
		}
	}
	for (unsigned g = 1; g < MON_GUESTS; g++)
		if (guest[g][0] + guest[g][1] + guest[g][2] + guest[g][3] + guest[g][4])
			say("monitor: guest %u exits in all: mmio %lu, hvc/smc %lu, sysreg %lu, "
			    "wfi %lu, other %lu\n", g, guest[g][0], guest[g][1], guest[g][2],
			    guest[g][3], guest[g][4]);
	/* a thread deleted since the last report took its time in this one
	 * with it: the sum falls short of the CPUs' busy time by that much */
	unsigned gone = 0;
	for (unsigned i = 0; i < nlast; i++) {
		unsigned n = 0;
		while (n < snap->nthread && now[n].id != last[i].id)
			n++;
		gone += n == snap->nthread;
	}
	if (gone)
		say("monitor: %u threads gone since the last report: their time is not charged\n",
		    gone);
	memcpy(last, now, snap->nthread * sizeof(now[0]));
	nlast = snap->nthread;
	return sum;
}

static void cpus(const struct snapshot *snap, char run_name[MON_CPUS][17], uint64_t *busy)
{
	for (unsigned i = 0; i < snap->ncpu; i++) {
		const uint64_t *c = snap->cpu[i];
		uint64_t b = c[2] - last_cpu[i].busy, d = c[1] - last_cpu[i].idle;
		uint64_t span = b + d ? b + d : 1;
		char tb[16], td[16], te[16];
		ms(tb, sizeof(tb), b), ms(td, sizeof(td), d), ms(te, sizeof(te), c[0] - last_cpu[i].now);
		say("monitor: cpu %u: busy %lu.%lu%%, idle %lu.%lu%%: busy %s + idle %s ms, "
		    "elapsed %s ms; running %s\n", i, b * 100 / span, b * 1000 / span % 10,
		    d * 100 / span, d * 1000 / span % 10, tb, td, te, run_name[i]);
		last_cpu[i].now = c[0], last_cpu[i].busy = c[2], last_cpu[i].idle = c[1];
		*busy += b;
	}
}

void monitor_report(const char *why, const struct mon_memory *m, unsigned nm)
{
	static struct snapshot snap;
	char run_name[MON_CPUS][17], tc[16], tb[16], tr[16];
	uint64_t busy = 0;
	if (!take(&snap))
		return;
	hz = snap.cpu[0][4] ? snap.cpu[0][4] : 1;
	for (unsigned i = 0; i < snap.ncpu; i++)
		memcpy(run_name[i], snap.cpu[i][3] ? "?" : "idle", 5);
	say("monitor: report %u (%s), over the last %lu ms\n", ++reports, why,
	    (snap.cpu[0][0] - last_cpu[0].now) * 1000 / hz);
	uint64_t charged = threads(&snap, run_name);
	cpus(&snap, run_name, &busy);
	ms(tc, sizeof(tc), charged), ms(tb, sizeof(tb), busy), ms(tr, sizeof(tr), snap.took);
	/* the threads are read after the CPUs: each thread running meanwhile
	 * gains up to the reading's length */
	say("monitor: threads charged %s ms, CPUs busy %s ms (read in %s ms)\n", tc, tb, tr);
	for (unsigned i = 0; i < nm; i++) {
		uint64_t q[5];
		if (m[i].mem && !inv(SYS_MEM_INFO, m[i].mem, 0, 0, 0, 0, 0, 0, q))
			say("monitor: memory %-16s %6lu of %6lu KiB used\n", m[i].name, q[1] >> 10,
			    q[0] >> 10);
	}
}

void monitor_baseline(void)
{
	quiet = true;
	monitor_report("", NULL, 0);
	quiet = false;
	reports = 0;
}

/* --- Periodic reports: this CPU's user timer (uarch.h) ---------------------- */

static uint64_t period; /* ticks */
static cptr_t timer_irq;

static void arm(void)
{
	utimer_arm(timer_irq, counter_now() + period);
}

bool monitor_every(uint64_t every_ms, cptr_t n, uint64_t bits)
{
	period = counter_freq() * every_ms / 1000;
	timer_irq = slot_alloc();
	if (!period || !timer_irq ||
	    INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, UTIMER_IRQ, ROOT_CNODE, timer_irq) ||
	    INV2(SYS_IRQ_SET_NOTIFICATION, timer_irq, n, bits))
		return false;
	arm();
	return true;
}

void monitor_tick(void)
{
	/* quieten the level-triggered line, then take the next */
	utimer_off(timer_irq);
	INV0(SYS_IRQ_ACK, timer_irq);
	arm();
}
