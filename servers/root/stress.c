/* Stress (cairn.root=stress): STRESS_TASKS tasks, each its own address
 * space with one thread, pass a token round a ring of endpoints
 * 100 times (stress.rounds=N), spread over every CPU; then all of it is torn down
 * and the root Memory, the kernel's free pages and its live objects must
 * be exactly where they started. */
#include "servers/root/check.h"

#define STRESS_TASKS 1000
/* stress.rounds=N: the scenarios on several CPUs go round fewer times,
 * since every hop there waits for a sleeping CPU to wake up, which a busy
 * host makes slow (docs/PERF.md). */
static uint64_t rounds;

/* Slot 1: receives on its own endpoint; slot 2: sends to the next one;
 * slot 3: where the last hop goes.  The token counts hops. */
static CHILD_CODE void ring_member(uint64_t last_hop)
{
	for (;;) {
		struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
		sys(&r);
		uint64_t hop = r.mr[0] + 1;
		r = (struct sysregs){ .mr = { hop }, .nr = SYS_SEND,
				      .cap = hop == last_hop ? 3 : 2, .info = msginfo(0, 1, 0) };
		sys(&r);
	}
}

static struct child tasks[STRESS_TASKS];
static cptr_t eps[STRESS_TASKS];

static bool ring_build(cptr_t done)
{
	const uint64_t hops = (uint64_t)STRESS_TASKS * rounds;
	for (unsigned i = 0; i < STRESS_TASKS; i++)
		CHECK((eps[i] = new_obj(OBJ_ENDPOINT, 0)));
	for (unsigned i = 0; i < STRESS_TASKS; i++) {
		struct child *c = &tasks[i];
		CHECK_ERR(child_create(c, ring_member, hops, ROOT_PRIO), E_OK);
		CHECK_ERR(child_give(c, 1, eps[i], R_READ), E_OK);
		CHECK_ERR(child_give(c, 2, eps[(i + 1) % STRESS_TASKS], R_WRITE), E_OK);
		CHECK_ERR(child_give(c, 3, done, R_WRITE), E_OK);
		CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, c->thread, i % bootinfo->ncpus), E_OK);
		CHECK_ERR(child_start(c), E_OK);
	}
	return true;
}

static bool ring_run(cptr_t done)
{
	struct sysregs r = { .nr = SYS_SEND, .cap = eps[0], .info = msginfo(0, 1, 0) };
	CHECK_ERR(sys(&r), E_OK);
	r = (struct sysregs){ .nr = SYS_RECV, .cap = done };
	CHECK_ERR(sys(&r), E_OK);
	CHECK(r.mr[0] == (uint64_t)STRESS_TASKS * rounds);
	return true;
}

static void ring_destroy(void)
{
	for (unsigned i = 0; i < STRESS_TASKS; i++) {
		if (tasks[i].cnode)
			child_destroy(&tasks[i]);
		if (eps[i])
			slot_free(eps[i]);
	}
}

void run_stress(void)
{
	rounds = bootarg_u64("stress.rounds=", 100);
	struct accounts before = accounts_read();
	cptr_t done = new_obj(OBJ_ENDPOINT, 0);
	bool built = done && ring_build(done);
	struct accounts full = accounts_read();
	printf("stress: %u tasks in their own address spaces on %lu cpus, %lu KiB of "
	       "kernel memory\n", STRESS_TASKS, bootinfo->ncpus,
	       (full.mem_used - before.mem_used) / 1024);
	bool ran = built && ring_run(done);
	if (ran)
		printf("stress: the token went round %lu times (%lu hops)\n",
		       rounds, (uint64_t)STRESS_TASKS * rounds);
	/* with 1,000 spaces live (and, on 8-bit VMIDs, rollovers behind
	 * them): run queues, reply links, accounts, every space's VMID */
	bool sound = INV0(SYS_DEBUG_CHECK, ROOT_CONSOLE) == E_OK;
	if (sound)
		printf("stress: the kernel's invariants hold\n");
	ring_destroy();
	if (done)
		slot_free(done);
	bool back = accounts_equal(accounts_read(), before);
	if (back)
		printf("stress: torn down, memory back exactly (%lu bytes used, %lu free pages, "
		       "%lu objects)\n", before.mem_used, before.free_pages, before.live_objects);
	unsigned ok = built + ran + sound + back;
	printf("root: %u passed, %u failed\n", ok, 4 - ok);
}
