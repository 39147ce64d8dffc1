/* Fuzz (cairn.root=fuzz): an untrusted task makes FUZZ_CALLS system calls
 * with random numbers, arguments and capability addresses.  It holds a
 * small Memory of its own, its CNode, an endpoint, a notification, a
 * spare thread, address space and frame, and a copy of IRQ control: enough
 * for random calls to reach deep into every object's code.  The root task
 * runs beside it at the same priority, unblocks it when a random call
 * blocks it (suspend, resume: the call returns E_CANCELLED), and at the
 * end checks that the kernel still runs, that every result was a valid
 * error code, that the root's own capabilities are as they were, and that
 * revoking what it gave the fuzzer brings every byte back.
 *
 * Each run draws a new seed from the cycle counter and prints it;
 * fuzz.seed=N in the bootargs repeats a run (on one CPU, closely). */
#include "servers/root/fuzz.h"

#define FUZZ_CALLS 100000

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

/* Mostly values a call might accept, so calls get past their first check. */
static uint64_t fuzz_arg(uint64_t *s)
{
	uint64_t r = rnd(s);
	switch (r % 8) {
	case 0: return (r >> 8) % 16;                      /* slot, type, rights */
	case 1: return (r >> 8) % 64;                      /* size bits, cpu, prio */
	case 2: return ((r >> 8) & 0x7ffffff) << 12;       /* page-aligned address */
	case 3: return CHILD_SHARED_VA + ((r >> 8) % 4) * 4096;
	case 4: return ~0ull >> ((r >> 8) % 64);
	case 5: return 1ull << ((r >> 8) % 64);
	case 6: return (r >> 8) % 2 ? IRQ_SOFT_TIMER + (r >> 9) % (IRQ_SOFT_TIMERS + 1) : rnd(s);
	default: return rnd(s);
	}
}

static uint64_t fuzz_cptr(uint64_t *s)
{
	uint64_t r = rnd(s);
	switch (r % 8) {
	case 0: return rnd(s);
	case 1: return (r >> 8) % 16;
	default: return (r >> 8) % (F_GIVEN + 3); /* mostly what it holds */
	}
}

/* Mostly real calls, half of them on a capability of the right type; now
 * and then any number at all. */
static const struct { uint8_t nr, slot; } calls[] = {
	{ SYS_SEND, F_ENDPOINT }, { SYS_NB_SEND, F_ENDPOINT }, { SYS_CALL, F_ENDPOINT },
	{ SYS_RECV, F_ENDPOINT }, { SYS_NB_RECV, F_ENDPOINT }, { SYS_REPLY, 0 },
	{ SYS_REPLY_RECV, F_ENDPOINT }, { SYS_SIGNAL, F_NOTIFICATION },
	{ SYS_WAIT, F_NOTIFICATION }, { SYS_POLL, F_NOTIFICATION }, { SYS_YIELD, 0 },
	{ SYS_MEM_RETYPE, F_MEMORY }, { SYS_MEM_INFO, F_MEMORY },
	{ SYS_CNODE_COPY, F_CNODE }, { SYS_CNODE_MINT, F_CNODE }, { SYS_CNODE_MOVE, F_CNODE },
	{ SYS_CNODE_DELETE, F_CNODE }, { SYS_CNODE_REVOKE, F_CNODE },
	{ SYS_CNODE_IDENTIFY, F_CNODE }, { SYS_THREAD_CONFIGURE, F_THREAD },
	{ SYS_THREAD_WRITE_REGS, F_THREAD }, { SYS_THREAD_READ_REGS, F_THREAD },
	{ SYS_THREAD_SET_PRIORITY, F_THREAD }, { SYS_THREAD_SET_AFFINITY, F_THREAD },
	{ SYS_THREAD_RESUME, F_THREAD }, { SYS_THREAD_SUSPEND, F_THREAD },
	{ SYS_THREAD_BIND_NOTIFICATION, F_THREAD }, { SYS_AS_MAP, F_ASPACE },
	{ SYS_AS_UNMAP, F_ASPACE }, { SYS_AS_PROTECT, F_ASPACE }, { SYS_FRAME_INFO, F_FRAME },
	{ SYS_AS_BIND_DOORBELL, F_ASPACE }, { SYS_AS_GUEST_FENCE, F_ASPACE },
	{ SYS_AS_BIND_STATUS, F_ASPACE },
	{ SYS_IRQ_GET, F_IRQ_CONTROL }, { SYS_IRQ_SET_NOTIFICATION, 0 }, { SYS_IRQ_ACK, 0 },
	{ SYS_IRQ_SET_TIMER, 0 },
	{ SYS_STREAM_GET, F_IRQ_CONTROL }, { SYS_STREAM_BIND, 0 }, { SYS_STREAM_INFO, 0 },
	{ SYS_DEBUG_WRITE, 0 }, { SYS_DEBUG_STATS, 0 }, { SYS_DEBUG_POWEROFF, 0 },
	{ SYS_VCPU_BIND, F_VCPU }, { SYS_VCPU_READ_REG, F_VCPU }, { SYS_VCPU_WRITE_REG, F_VCPU },
	{ SYS_VCPU_INJECT, F_VCPU }, { SYS_VCPU_SET_VIRQ, F_VCPU },
	{ SYS_VCPU_BIND_NOTIFICATION, F_VCPU },
	{ SYS_THREAD_SET_NAME, F_THREAD }, { SYS_STATS_CPU, F_IRQ_CONTROL },
	{ SYS_STATS_THREAD, F_IRQ_CONTROL }, { SYS_THREAD_SET_WEIGHT, F_THREAD },
	{ SYS_THREAD_SET_BUDGET, F_THREAD }, { SYS_CPU_SET_ONLINE, F_IRQ_CONTROL },
};

static void fuzz_call(uint64_t *s, struct sysregs *r)
{
	uint64_t x = rnd(s);
	unsigned i = (x >> 8) % (sizeof(calls) / sizeof(calls[0]));
	r->nr = x % 16 ? calls[i].nr : rnd(s) >> (x >> 4) % 64;
	r->cap = x & 16 && calls[i].slot ? calls[i].slot : fuzz_cptr(s);
}

void fuzzer(uint64_t seed)
{
	struct fuzz_page *p = (struct fuzz_page *)CHILD_SHARED_VA;
	uint64_t s = seed;
	fp_fill(seed); /* an FP thread: every switch moves its state */
	for (;;) {
		struct sysregs r = { .info = rnd(&s) & 0xffff007f, .recvslot = fuzz_cptr(&s) };
		fuzz_call(&s, &r);
		for (unsigned i = 0; i < MSG_WORDS; i++)
			r.mr[i] = fuzz_arg(&s);
		for (unsigned i = 0; i < MSG_CAPS; i++)
			r.sendcap[i] = fuzz_cptr(&s);
		err_t e = sys(&r);
		p->results[e < E_COUNT ? e : E_COUNT]++;
		p->calls++;
	}
}

/* The root's capabilities at boot, by slot: type and rights. */
uint64_t root_caps_digest(void)
{
	uint64_t d = 0;
	for (cptr_t s = 1; s < ROOT_FIRST_IMAGE_FRAME + bootinfo->image_frames; s++) {
		uint64_t r[5];
		inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, s, 0, 0, 0, 0, 0, r);
		d = d * 1000003 + (r[0] << 8 | r[1]) + r[3];
	}
	return d;
}

bool fuzz_give(struct child *c, struct gifts *g, unsigned slot, cptr_t from)
{
	CHECK((g->src[slot] = slot_alloc()));
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, g->src[slot], ROOT_CNODE, from, R_ALL), E_OK);
	CHECK_ERR(child_give(c, slot, g->src[slot], R_ALL), E_OK);
	return true;
}

static bool fuzz_setup(struct child *c, struct gifts *g, cptr_t frame, cptr_t *copy,
		       uint64_t seed)
{
	cptr_t objs[F_GIVEN] = { 0 };
	CHECK_ERR(child_create(c, fuzzer, seed, ROOT_PRIO), E_OK);
	CHECK_ERR(child_map(c, frame, CHILD_SHARED_VA, R_READ | R_WRITE, copy), E_OK);
	CHECK((objs[F_MEMORY] = new_obj(OBJ_MEMORY, FUZZ_QUOTA)));
	CHECK((objs[F_ENDPOINT] = new_obj(OBJ_ENDPOINT, 0)));
	CHECK((objs[F_NOTIFICATION] = new_obj(OBJ_NOTIFICATION, 0)));
	CHECK((objs[F_THREAD] = new_obj(OBJ_THREAD, 0)));
	CHECK((objs[F_ASPACE] = new_obj(OBJ_ASPACE, 0)));
	CHECK((objs[F_FRAME] = new_obj(OBJ_FRAME, FRAME_BITS_4K)));
	/* without VCPUs an endpoint takes its place: the VCPU calls on it fail */
	CHECK((objs[F_VCPU] = new_obj(bootinfo->features & BOOT_HAS_VCPU ? OBJ_VCPU : OBJ_ENDPOINT, 0)));
	objs[F_CNODE] = c->cnode;
	objs[F_IRQ_CONTROL] = ROOT_IRQ_CONTROL;
	for (unsigned i = 1; i < F_GIVEN; i++) {
		if (!fuzz_give(c, g, i, objs[i]))
			return false;
		if (i != F_CNODE && i != F_IRQ_CONTROL)
			slot_free(objs[i]); /* the gift's source keeps the object */
	}
	return true;
}

/* Let the fuzzer run; free it whenever a random call has blocked it, and
 * give back what its random deletes and moves have taken from it. */
static bool fuzz_watch(struct child *c, struct gifts *g, struct fuzz_page *p,
		       uint64_t *unblocked)
{
	uint64_t last = 0, still = 0;
	while (p->calls < FUZZ_CALLS) {
		uint64_t r[5];
		INV0(SYS_YIELD, 0);
		for (unsigned i = 1; i < F_GIVEN; i++)
			child_give(c, i, g->src[i], R_ALL); /* E_SLOT where it still is */
		CHECK_ERR(inv(SYS_THREAD_READ_REGS, c->thread, 0, 0, 0, 0, 0, 0, r), E_OK);
		if (r[4] != TS_RUNNABLE) {
			CHECK_ERR(INV0(SYS_THREAD_SUSPEND, c->thread), E_OK);
			CHECK_ERR(INV0(SYS_THREAD_RESUME, c->thread), E_OK);
			++*unblocked;
		}
		still = p->calls == last ? still + 1 : 0;
		CHECK(still < 100000); /* it must make progress */
		last = p->calls;
	}
	return INV0(SYS_THREAD_SUSPEND, c->thread) == E_OK;
}

static void fuzz_report(struct fuzz_page *p, uint64_t unblocked)
{
	printf("fuzz: %lu calls, unblocked %lu times; results by error code "
	       "(include/cairn/error.h):", p->calls, unblocked);
	for (unsigned e = 0; e <= E_COUNT; e++)
		if (p->results[e])
			printf(" %s%u:%lu", e < E_COUNT ? "" : "INVALID", e, p->results[e]);
	printf("\n");
}

void fuzz_teardown(struct child *c, struct gifts *g, cptr_t copy)
{
	for (unsigned i = 1; i < F_GIVEN; i++)
		if (g->src[i]) {
			INV1(SYS_CNODE_REVOKE, ROOT_CNODE, g->src[i]);
			slot_free(g->src[i]);
		}
	INV1(SYS_CNODE_REVOKE, ROOT_CNODE, c->cnode);
	child_destroy(c);
	slot_free(copy);
}

/* `key`=N (decimal) from the bootargs, else the cycle counter. */
uint64_t fuzz_seed(const char *key)
{
	uint64_t seed = bootarg_u64(key, cycles() * 0x9e3779b97f4a7c15ull | 1);
	return seed ? seed : 1; /* xorshift never leaves 0 */
}

void run_fuzz(void)
{
	cptr_t frame, copy = 0;
	/* the root's page (and the page table it may need) come first: they
	 * stay until the accounts have been compared */
	struct fuzz_page *p = new_page(&frame);
	struct accounts before = accounts_read();
	uint64_t digest = root_caps_digest(), unblocked = 0;
	struct child c;
	struct gifts g = { 0 };
	uint64_t seed = fuzz_seed("fuzz.seed=");
	printf("fuzz: seed %lu\n", seed);
	bool set = p && fuzz_setup(&c, &g, frame, &copy, seed) && child_start(&c) == E_OK;
	bool ran = set && fuzz_watch(&c, &g, p, &unblocked);
	if (ran)
		fuzz_report(p, unblocked);
	bool valid = ran && p->results[E_COUNT] == 0;
	fuzz_teardown(&c, &g, copy);
	bool caps = root_caps_digest() == digest;
	bool back = accounts_equal(accounts_read(), before);
	printf("fuzz: kernel alive; root capabilities %s; memory %s\n",
	       caps ? "intact" : "CHANGED", back ? "back exactly" : "NOT BACK");
	unsigned ok = ran + valid + caps + back;
	printf("root: %u passed, %u failed\n", ok, 4 - ok);
}
