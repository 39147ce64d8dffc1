/* Benchmarks (cairn.root=bench), meant for QEMU -icount shift=0, where the
 * cycle counter counts instructions.  Each prints "BENCH <name> <value>
 * <unit>", averaged over BENCH_ITERS round trips. */
#include "servers/root/root.h"

#define BENCH_ITERS 10000

/* Child code: answers each call on slot 1 with its word plus one (the
 * server of the IPC benchmark, and of the guests' hypercalls). */
void bench_server(uint64_t arg)
{
	(void)arg;
	uint64_t badge;
	err_t e;
	struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
	sys(&r);
	uint64_t w = r.mr[0];
	for (;;)
		w = ipc_reply_recv1(1, w + 1, &badge, &e);
}

/* Yields forever: the partner of the switch benchmark. */
static void yielder(uint64_t arg)
{
	(void)arg;
	for (;;)
		sys_yield();
}

/* The same loop measures the fast path, or the general one when the
 * kernel was booted with cairn.fastpath=off. */
static void bench_call_reply(const char *name)
{
	struct child c;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	err_t e;
	if (child_create(&c, bench_server, 0, ROOT_PRIO) || child_give(&c, 1, ep, R_READ) ||
	    child_start(&c))
		return;
	ipc_call1(ep, 0, &e); /* warm up: the server is now waiting */
	uint64_t t0 = cycles();
	for (unsigned i = 0; i < BENCH_ITERS; i++)
		ipc_call1(ep, i, &e);
	uint64_t t1 = cycles();
	printf("BENCH %s %lu instructions\n", name, (t1 - t0) / BENCH_ITERS);
	child_destroy(&c);
	slot_free(ep);
}

/* A call to bench_server pinned on CPU 1 from the root task on CPU 0:
 * each way wakes the other CPU by IPI (no fast path: the partner is not
 * this CPU's).  Under -icount (make bench, -smp 2) the cycle counter
 * follows the virtual clock, which both CPUs' instructions advance: the
 * figure is the round trip's instructions on both; without it (make
 * bench's smpbench run), the counter gives the wall time. */
void bench_cross_cpu(bool wall)
{
	enum { ITERS = 1000 };
	struct child c;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	err_t e;
	if (bootinfo->ncpus < 2 || !ep || child_create(&c, bench_server, 0, ROOT_PRIO) ||
	    child_give(&c, 1, ep, R_READ) || INV1(SYS_THREAD_SET_AFFINITY, c.thread, 1) ||
	    child_start(&c)) {
		printf("bench: ipc_cross_cpu did not run\n");
		return;
	}
	ipc_call1(ep, 0, &e); /* warm up: the server is now waiting on CPU 1 */
	uint64_t t0 = cycles(), n0 = counter_now();
	for (unsigned i = 0; i < ITERS; i++)
		ipc_call1(ep, i, &e);
	uint64_t t1 = cycles(), n1 = counter_now();
	if (wall)
		printf("BENCH ipc_cross_cpu_ns %lu ns\n", (n1 - n0) * 1000000 / counter_freq() * 1000 / ITERS);
	else
		printf("BENCH ipc_cross_cpu %lu instructions\n", (t1 - t0) / ITERS);
	child_destroy(&c);
	slot_free(ep);
}

/* Waits, and on each wake notes the time in the page it shares with root. */
static void waiter(uint64_t arg)
{
	(void)arg;
	volatile uint64_t *woke = (volatile uint64_t *)CHILD_SHARED_VA;
	for (;;) {
		struct sysregs r = { .nr = SYS_WAIT, .cap = 1 };
		sys(&r);
		*woke = cycles();
	}
}

/* From just before the signal to the higher-priority waiter running. */
static void bench_notify_wake(void)
{
	struct child c;
	cptr_t frame, copy, n = new_obj(OBJ_NOTIFICATION, 0);
	volatile uint64_t *woke = new_page(&frame);
	if (!woke || child_create(&c, waiter, 0, ROOT_PRIO + 1) || child_give(&c, 1, n, R_READ) ||
	    child_map(&c, frame, CHILD_SHARED_VA, R_READ | R_WRITE, &copy) || child_start(&c))
		return;
	uint64_t total = 0;
	for (unsigned i = 0; i < BENCH_ITERS; i++) {
		uint64_t t0 = cycles();
		INV1(SYS_SIGNAL, n, 1);
		total += *woke - t0;
	}
	printf("BENCH notify_wake %lu instructions\n", total / BENCH_ITERS);
	child_destroy(&c);
	slot_free(copy);
	slot_free(frame);
	slot_free(n);
}

/* Instructions per yield, over BENCH_ITERS yields after a warm-up one,
 * each through the stub that sets the number alone (sys_yield). */
static uint64_t yields(void)
{
	sys_yield();
	uint64_t t0 = cycles();
	for (unsigned i = 0; i < BENCH_ITERS; i++)
		sys_yield();
	return (cycles() - t0) / BENCH_ITERS;
}

static void bench_yield(void)
{
	struct child c;
	if (child_create(&c, yielder, 0, ROOT_PRIO) || child_start(&c))
		return;
	/* each yield is two switches: to the yielder and back */
	printf("BENCH yield_switch %lu instructions\n", yields() / 2);
	child_destroy(&c);
}

/* The same between two threads of one address space (the root's): the
 * difference from yield_switch is what changing spaces costs. */
static void bench_yield_same_space(void)
{
	cptr_t th = new_obj(OBJ_THREAD, 0), stack;
	char *sp = new_page(&stack);
	if (!th || !sp || INV3(SYS_THREAD_CONFIGURE, th, ROOT_CNODE, ROOT_ASPACE, 0) ||
	    INV4(SYS_THREAD_WRITE_REGS, th, (uint64_t)yielder, (uint64_t)sp + 4096, 0, 0) ||
	    INV2(SYS_THREAD_SET_PRIORITY, th, ROOT_PRIO, ROOT_PRIO) ||
	    INV0(SYS_THREAD_RESUME, th))
		return;
	printf("BENCH yield_switch_same_space %lu instructions\n", yields() / 2);
	slot_free(th);
	slot_free(stack);
}

static void bench_null_syscall(void)
{
	printf("BENCH null_syscall %lu instructions\n", yields()); /* no one to yield to */
}

/* bench.only=NAME runs just that benchmark: a trace for tools/tbprof stays
 * small. */
bool bench_wanted(const char *name)
{
	const char *o = strstr(bootinfo->bootargs, "bench.only=");
	if (!o)
		return true;
	size_t n = strlen(name);
	o += sizeof("bench.only=") - 1;
	return !memcmp(o, name, n) && (o[n] == 0 || o[n] == ' ');
}

void run_bench(void)
{
	if (strstr(bootinfo->bootargs, "cairn.fastpath=off")) {
		bench_call_reply("ipc_call_reply_slow");
		return;
	}
	if (bootinfo->ncpus > 1 && bench_wanted("ipc_cross_cpu")) /* make bench: -smp 2 */
		bench_cross_cpu(false);
	if (bench_wanted("null_syscall"))
		bench_null_syscall();
	if (bench_wanted("ipc_call_reply"))
		bench_call_reply("ipc_call_reply");
	if (bench_wanted("notify_wake"))
		bench_notify_wake();
	if (bench_wanted("yield_switch"))
		bench_yield();
	if (bench_wanted("yield_switch_same_space"))
		bench_yield_same_space();
	if (bootinfo->features & BOOT_HAS_VCPU)
		run_bench_vm();
	else
		printf("bench: vm_* skipped: no VCPUs on this machine\n");
}
