/* Multi-CPU fuzz (cairn.root=fuzzsmp): untrusted tasks on every CPU but the
 * root's make random system calls on objects they share (an endpoint, a
 * notification, a Memory, an address space, a frame, and each other's
 * threads: suspend, resume, affinity, priority, configure, registers,
 * binding) while the others use them; and the root destroys a task whose
 * thread is running, now and then, and makes it again.  After every round
 * the root stops everyone and asks the kernel to check its invariants
 * (SYS_DEBUG_CHECK: run queues, wait queues, reply links, every Memory's
 * charges); at the end everything is torn down and the accounts must be
 * exactly where they started.  Where CPUs can go off line, the root
 * takes one off in the middle of a round and brings it back (the tasks,
 * holding the IRQ control capability, may try too): whatever the tasks
 * are doing to threads on it meanwhile.
 *
 * fuzzsmp.seed=N repeats a run's random choices (the interleaving differs
 * from run to run); fuzzsmp.rounds=N sets the number of rounds. */
#include "servers/root/fuzz.h"
#include "servers/root/suite.h"

#define KIDS_MAX 8
#define ROUND_CALLS 1500 /* per round, all tasks together */

struct kid {
	struct child c;
	struct gifts g;
	cptr_t page, copy;
	struct fuzz_page *p;
	unsigned cpu;
};

static struct kid kids[KIDS_MAX];
static unsigned nkids;
static cptr_t shared[F_GIVEN]; /* the objects every task has a capability to */
static uint64_t seed;

static uint64_t next_rnd(void)
{
	seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
	return seed;
}

static bool kid_setup(struct kid *k)
{
	static const unsigned given[] = { F_MEMORY, F_ENDPOINT, F_NOTIFICATION, F_ASPACE, F_FRAME };
	k->g = (struct gifts){ 0 };
	CHECK_ERR(child_create(&k->c, fuzzer, next_rnd() | 1, ROOT_PRIO - 1), E_OK);
	CHECK_ERR(child_map(&k->c, k->page, CHILD_SHARED_VA, R_READ | R_WRITE, &k->copy), E_OK);
	for (unsigned i = 0; i < sizeof(given) / sizeof(given[0]); i++)
		CHECK(fuzz_give(&k->c, &k->g, given[i], shared[given[i]]));
	CHECK(fuzz_give(&k->c, &k->g, F_CNODE, k->c.cnode));
	CHECK(fuzz_give(&k->c, &k->g, F_IRQ_CONTROL, ROOT_IRQ_CONTROL));
	/* E_INVAL: its CPU is off line (made mid-round): pinned next round */
	err_t e = INV1(SYS_THREAD_SET_AFFINITY, k->c.thread, k->cpu);
	return e == E_OK || e == E_INVAL;
}

/* Task i's F_THREAD slot names task i+1's thread (if the slot is taken by
 * what task i moved there, the next round's reset fills it). */
static bool link_thread(unsigned i)
{
	struct kid *k = &kids[i];
	CHECK((k->g.src[F_THREAD] = slot_alloc()));
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, k->g.src[F_THREAD], ROOT_CNODE,
		       kids[(i + 1) % nkids].c.thread, R_ALL), E_OK);
	err_t e = child_give(&k->c, F_THREAD, k->g.src[F_THREAD], R_ALL);
	return e == E_OK || e == E_SLOT;
}

/* Destroy task i while it runs (its thread's last capability goes with
 * everything derived from it), then make it again. */
static bool kid_replace(unsigned i)
{
	struct kid *prev = &kids[(i + nkids - 1) % nkids];
	INV1(SYS_CNODE_REVOKE, ROOT_CNODE, prev->g.src[F_THREAD]);
	slot_free(prev->g.src[F_THREAD]);
	prev->g.src[F_THREAD] = 0;
	fuzz_teardown(&kids[i].c, &kids[i].g, kids[i].copy);
	CHECK(kid_setup(&kids[i]) && link_thread(i));
	CHECK(link_thread((i + nkids - 1) % nkids));
	return child_start(&kids[i].c) == E_OK;
}

/* Each round starts every task afresh (all are suspended: none can resume
 * another meanwhile): whatever the others did to its configuration,
 * priority, affinity and registers, and whatever its own deletes and moves
 * took from its CNode. */
static bool kid_reset(struct kid *k)
{
	for (unsigned s = 1; s < F_GIVEN; s++)
		if (k->g.src[s])
			child_give(&k->c, s, k->g.src[s], R_ALL); /* E_SLOT: still there */
	/* faults go to the shared endpoint: the tasks receive each other's */
	err_t e = INV3(SYS_THREAD_CONFIGURE, k->c.thread, k->c.cspace, k->c.as, shared[F_ENDPOINT]);
	if (e) {
		uint64_t r[5];
		inv(SYS_THREAD_READ_REGS, k->c.thread, 0, 0, 0, 0, 0, 0, r);
		printf("fuzzsmp: task %u: configure %u, state %lu\n", (unsigned)(k - kids), e, r[4]);
		return false;
	}
	CHECK_ERR(INV4(SYS_THREAD_WRITE_REGS, k->c.thread, (uint64_t)fuzzer, CHILD_STACK_TOP,
		       next_rnd() | 1, 0), E_OK);
	CHECK_ERR(INV2(SYS_THREAD_SET_PRIORITY, k->c.thread, ROOT_PRIO - 1, ROOT_PRIO - 1), E_OK);
	return INV1(SYS_THREAD_SET_AFFINITY, k->c.thread, k->cpu) == E_OK;
}

static uint64_t total_calls(void)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < nkids; i++)
		n += kids[i].p->calls;
	return n;
}

/* A random call may block a task for good (a receive nobody answers), or
 * a sibling may have sent it to a random pc, where it faults for ever: a
 * task that is not running starts its loop again. */
static void unblock(void)
{
	for (unsigned i = 0; i < nkids; i++) {
		struct child *c = &kids[i].c;
		uint64_t regs[5];
		if (inv(SYS_THREAD_READ_REGS, c->thread, 0, 0, 0, 0, 0, 0, regs) == E_OK &&
		    regs[4] != TS_RUNNABLE) {
			INV0(SYS_THREAD_SUSPEND, c->thread);
			INV4(SYS_THREAD_WRITE_REGS, c->thread, (uint64_t)fuzzer, CHILD_STACK_TOP,
			     next_rnd() | 1, 0);
			INV0(SYS_THREAD_RESUME, c->thread);
		}
	}
}

/* Stop every task: one still running may resume another the root has
 * stopped, so go round until a whole pass finds them all stopped. */
static bool suspend_all(void)
{
	for (unsigned pass = 0; pass < 1000; pass++) {
		bool quiet = true;
		for (unsigned i = 0; i < nkids; i++) {
			uint64_t regs[5];
			CHECK_ERR(inv(SYS_THREAD_READ_REGS, kids[i].c.thread, 0, 0, 0, 0, 0, 0, regs),
				  E_OK);
			if (regs[4] != TS_INACTIVE)
				quiet = false;
			CHECK_ERR(INV0(SYS_THREAD_SUSPEND, kids[i].c.thread), E_OK);
		}
		if (quiet)
			return true;
	}
	return false;
}

/* Every CPU on line again (a task may have taken one off), once the tasks
 * are stopped: they are pinned to theirs at the next round's start. */
static bool all_online(void)
{
	for (uint64_t c = 1; c < bootinfo->ncpus; c++)
		CHECK(cpu_becomes(c, 1));
	return true;
}

static bool round_run(unsigned r)
{
	for (unsigned i = 0; i < nkids; i++)
		CHECK(kid_reset(&kids[i]));
	for (unsigned i = 0; i < nkids; i++)
		CHECK_ERR(child_start(&kids[i].c), E_OK);
	uint64_t start = total_calls(), victim = next_rnd() % (nkids * 2);
	uint64_t off = bootinfo->features & BOOT_HAS_HOTPLUG ? 1 + next_rnd() % (bootinfo->ncpus - 1) : 0;
	uint64_t state[5];
	/* until enough calls, or a while: the tasks' progress is theirs */
	for (uint64_t spin = 0; total_calls() - start < ROUND_CALLS && spin < 300000; spin++) {
		if (spin == 1000 && off) /* asked only: it goes as the tasks go on */
			inv(SYS_CPU_SET_ONLINE, ROOT_IRQ_CONTROL, off, 0, 0, 0, 0, 0, state);
		if (spin == 2000 && victim < nkids)
			CHECK(kid_replace(victim));
		if (spin % 1000 == 999)
			unblock();
	}
	CHECK(suspend_all());
	CHECK(all_online()); /* after: a task still running could take one off again */
	INV1(SYS_VCPU_BIND, shared[F_VCPU], 0); /* a task's thread may run a guest */
	if (INV0(SYS_DEBUG_CHECK, ROOT_CONSOLE) != E_OK) {
		printf("fuzzsmp: kernel check failed after round %u\n", r);
		return false;
	}
	return true;
}

static bool setup(void)
{
	CHECK((shared[F_MEMORY] = new_obj(OBJ_MEMORY, FUZZ_QUOTA)));
	CHECK((shared[F_ENDPOINT] = new_obj(OBJ_ENDPOINT, 0)));
	CHECK((shared[F_NOTIFICATION] = new_obj(OBJ_NOTIFICATION, 0)));
	CHECK((shared[F_ASPACE] = new_obj(OBJ_ASPACE, 0)));
	CHECK((shared[F_FRAME] = new_obj(OBJ_FRAME, FRAME_BITS_4K)));
	/* without VCPUs an endpoint takes its place: the VCPU calls on it fail */
	CHECK((shared[F_VCPU] = new_obj(bootinfo->features & BOOT_HAS_VCPU ? OBJ_VCPU : OBJ_ENDPOINT, 0)));
	nkids = 2 * (bootinfo->ncpus - 1) < KIDS_MAX ? 2 * (bootinfo->ncpus - 1) : KIDS_MAX;
	for (unsigned i = 0; i < nkids; i++) {
		kids[i].cpu = 1 + i % (bootinfo->ncpus - 1);
		CHECK((kids[i].p = new_page(&kids[i].page)));
		CHECK(kid_setup(&kids[i]));
	}
	for (unsigned i = 0; i < nkids; i++)
		CHECK(link_thread(i));
	return true;
}

static void teardown(void)
{
	suspend_all();
	for (unsigned i = 0; i < nkids; i++) {
		fuzz_teardown(&kids[i].c, &kids[i].g, kids[i].copy);
		slot_free(kids[i].page);
	}
	for (unsigned s = 1; s < F_GIVEN; s++)
		if (shared[s]) {
			INV1(SYS_CNODE_REVOKE, ROOT_CNODE, shared[s]);
			slot_free(shared[s]);
		}
}

void run_fuzz_smp(void)
{
	if (bootinfo->ncpus < 2) {
		printf("fuzzsmp: needs 2 cpus\nroot: 0 passed, 1 failed\n");
		return;
	}
	struct accounts before = accounts_read();
	uint64_t digest = root_caps_digest(), rounds = bootarg_u64("fuzzsmp.rounds=", 40);
	seed = fuzz_seed("fuzzsmp.seed=");
	printf("fuzzsmp: seed %lu, %lu rounds on %lu cpus\n", seed, rounds, bootinfo->ncpus);
	bool set = setup(), ran = set, checked = true;
	for (unsigned r = 0; ran && r < rounds; r++)
		ran = round_run(r);
	if (ran)
		printf("fuzzsmp: %lu calls by %u tasks in %lu rounds; the kernel's invariants held "
		       "after each\n", total_calls(), nkids, rounds);
	teardown();
	checked = INV0(SYS_DEBUG_CHECK, ROOT_CONSOLE) == E_OK;
	bool caps = root_caps_digest() == digest;
	bool back = accounts_equal(accounts_read(), before);
	printf("fuzzsmp: root capabilities %s; memory %s\n", caps ? "intact" : "CHANGED",
	       back ? "back exactly" : "NOT BACK");
	unsigned ok = ran + checked + caps + back;
	printf("root: %u passed, %u failed\n", ok, 4 - ok);
}
