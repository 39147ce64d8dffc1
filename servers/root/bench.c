/* Benchmarks (cairn.root=bench), meant for QEMU -icount shift=0, where the
 * cycle counter counts instructions.  Each prints "BENCH <name> <value>
 * <unit>", averaged over BENCH_ITERS round trips. */
#include "servers/root/root.h"

#define BENCH_ITERS 10000

static void server(uint64_t arg)
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
		INV0(SYS_YIELD, 0);
}

static void bench_call_reply(void)
{
	struct child c;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	err_t e;
	if (child_create(&c, server, 0, ROOT_PRIO) || child_give(&c, 1, ep, R_READ) ||
	    child_start(&c))
		return;
	ipc_call1(ep, 0, &e); /* warm up: the server is now waiting */
	uint64_t t0 = cycles();
	for (unsigned i = 0; i < BENCH_ITERS; i++)
		ipc_call1(ep, i, &e);
	uint64_t t1 = cycles();
	printf("BENCH ipc_call_reply_slow %lu instructions\n", (t1 - t0) / BENCH_ITERS);
	child_destroy(&c);
	slot_free(ep);
}

static void bench_yield(void)
{
	struct child c;
	if (child_create(&c, yielder, 0, ROOT_PRIO) || child_start(&c))
		return;
	INV0(SYS_YIELD, 0);
	uint64_t t0 = cycles();
	for (unsigned i = 0; i < BENCH_ITERS; i++)
		INV0(SYS_YIELD, 0);
	uint64_t t1 = cycles();
	/* each iteration is two switches: to the yielder and back */
	printf("BENCH yield_switch %lu instructions\n", (t1 - t0) / BENCH_ITERS / 2);
	child_destroy(&c);
}

static void bench_null_syscall(void)
{
	uint64_t t0 = cycles();
	for (unsigned i = 0; i < BENCH_ITERS; i++)
		INV0(SYS_YIELD, 0);
	uint64_t t1 = cycles();
	printf("BENCH null_syscall %lu instructions\n", (t1 - t0) / BENCH_ITERS);
}

void run_bench(void)
{
	bench_null_syscall();
	bench_call_reply();
	bench_yield();
}
