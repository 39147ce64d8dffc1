/* Scheduling across CPUs. */
#include "servers/root/check.h"

static uint64_t counter(void)
{
	uint64_t v;
	__asm__ volatile("isb; mrs %0, cntpct_el0" : "=r"(v));
	return v;
}

static uint64_t counter_freq(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

/* Child code: never enters the kernel again. */
static void spinner(uint64_t arg)
{
	(void)arg;
	for (;;)
		__asm__ volatile("" ::: "memory");
}

/* Child code: waits on slot 1, then says so in its shared page. */
static void sleeper(uint64_t arg)
{
	(void)arg;
	struct sysregs r = { .nr = SYS_WAIT, .cap = 1 };
	sys(&r);
	*(volatile uint64_t *)CHILD_SHARED_VA = 1;
	child_park();
}

/* A thread woken onto a CPU whose running thread has its priority and no
 * timeslice timer (it was alone there) must get the CPU within a slice,
 * even if the running one never enters the kernel: the wake-up makes that
 * CPU start timeslicing.  (Found by a Linux guest with 4 VCPUs on 2 CPUs,
 * whose spinning VCPU kept the CPU from the one it waited for.) */
static bool t_peer_woken_beside_spinner(void)
{
	if (bootinfo->ncpus < 2)
		return true; /* the spinner would hold the root's own CPU */
	struct accounts before = accounts_read();
	struct child a, b;
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0), page, copy;
	volatile uint64_t *flag = new_page(&page);
	CHECK(n && flag);
	*flag = 0;
	CHECK_ERR(child_create(&a, spinner, 0, ROOT_PRIO - 10), E_OK);
	CHECK_ERR(child_create(&b, sleeper, 0, ROOT_PRIO - 10), E_OK);
	CHECK_ERR(child_give(&b, 1, n, R_READ), E_OK);
	CHECK_ERR(child_map(&b, page, CHILD_SHARED_VA, R_READ | R_WRITE, &copy), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, a.thread, 1), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, b.thread, 1), E_OK);
	CHECK_ERR(child_start(&b), E_OK);
	uint64_t regs[5] = { 0 };
	for (unsigned i = 0; i < 100000 && regs[4] != TS_BLOCKED_NOTIFY; i++)
		inv(SYS_THREAD_READ_REGS, b.thread, 0, 0, 0, 0, 0, 0, regs);
	CHECK(regs[4] == TS_BLOCKED_NOTIFY);
	CHECK_ERR(child_start(&a), E_OK);
	for (unsigned i = 0; i < 1000000 && regs[4] != TS_RUNNABLE; i++) /* a has CPU 1 */
		inv(SYS_THREAD_READ_REGS, a.thread, 0, 0, 0, 0, 0, 0, regs);
	CHECK_ERR(INV1(SYS_SIGNAL, n, 1), E_OK);
	uint64_t t0 = counter();
	while (!*flag && counter() - t0 < counter_freq()) /* a second: 200 slices */
		INV0(SYS_YIELD, 0);
	bool woke = *flag;
	child_destroy(&a);
	child_destroy(&b);
	slot_free(copy);
	slot_free(page);
	slot_free(n);
	CHECK(woke);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST("peer-woken-beside-spinner", t_peer_woken_beside_spinner);
