/* The hostile guest (cairn.root=vmhostile): a guest makes random exits of
 * every kind (MMIO anywhere, in every size and the forms without a
 * syndrome, HVC/SMC with random function IDs and Cairn hypercalls, trapped
 * registers, WFI storms with its own timer, WFE) and this VMM answers each
 * with random flags and values (emulate, skip, inject an abort, change
 * registers).  Meanwhile a second guest keeps time and two native tasks
 * keep calling each other.  At the end the hostile VM is destroyed while
 * it runs, the kernel checks its invariants and every byte comes back.
 *
 * vmhostile.exits=N sets how many exits (default 100,000);
 * vmhostile.seed=S repeats a run. */
#include "guests/test/guest.h"
#include "servers/root/check.h"
#include "servers/vmm/vm.h"

extern const char guest_test_image[], guest_test_image_end[];
#define IMAGE guest_test_image, (uint64_t)(guest_test_image_end - guest_test_image)
#define SHARED_VA CHILD_SHARED_VA

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

/* Child code: answers calls on slot 1 (label + 1). */
static void echo(uint64_t arg)
{
	(void)arg;
	struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
	sys(&r);
	for (;;) {
		r.info = msginfo(msginfo_label(r.info) + 1, 0, 0);
		r.nr = SYS_REPLY_RECV;
		r.cap = 1;
		sys(&r);
	}
}

/* Child code: calls slot 1 for ever, counting answers in its page. */
static void pinger(uint64_t arg)
{
	volatile uint64_t *count = (volatile uint64_t *)SHARED_VA;
	for (uint64_t i = arg;; i++) {
		struct sysregs r = { .nr = SYS_CALL, .cap = 1, .info = msginfo(i, 0, 0) };
		if (sys(&r) == E_OK && msginfo_label(r.info) == (i + 1) << 16 >> 16)
			(*count)++;
	}
}

struct natives {
	struct child echo, pinger;
	cptr_t ep, page, page_copy;
	volatile uint64_t *count;
};

static bool natives_start(struct natives *n, unsigned cpu)
{
	CHECK((n->ep = new_obj(OBJ_ENDPOINT, 0)) && (n->count = new_page(&n->page)));
	CHECK_ERR(child_create(&n->echo, echo, 0, ROOT_PRIO), E_OK);
	CHECK_ERR(child_create(&n->pinger, pinger, 1, ROOT_PRIO), E_OK);
	CHECK_ERR(child_give(&n->echo, 1, n->ep, R_READ), E_OK);
	CHECK_ERR(child_give(&n->pinger, 1, n->ep, R_WRITE), E_OK);
	CHECK_ERR(child_map(&n->pinger, n->page, SHARED_VA, R_READ | R_WRITE, &n->page_copy), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, n->echo.thread, cpu), E_OK);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, n->pinger.thread, cpu), E_OK);
	return child_start(&n->echo) == E_OK && child_start(&n->pinger) == E_OK;
}

static void natives_end(struct natives *n)
{
	child_destroy(&n->pinger);
	child_destroy(&n->echo);
	cptr_t slots[] = { n->page_copy, n->page, n->ep };
	for (unsigned i = 0; i < 3; i++)
		if (slots[i])
			slot_free(slots[i]);
}

/* A random answer: any flags, any values. */
static void hostile_reply(uint64_t *s, uint64_t *reply)
{
	uint64_t x = rnd(s);
	reply[0] = x & 15;
	for (unsigned i = 1; i < 5; i++)
		reply[i] = x & (16u << i) ? rnd(s) : i;
}

struct counts {
	uint64_t hostile, ticks, other;
};

/* The answer and the next exit as vm_reply_wait has them, with a message
 * info of any length, label or stray bit the seed gives (every other of
 * them clean but for its length): the kernel's fast answer must take
 * what the general one takes, and nothing more. */
static err_t reply_wait_any(cptr_t ep, const uint64_t reply[5], struct vm_exit *x, uint64_t *s)
{
	uint64_t i = rnd(s);
	struct sysregs r = { .nr = SYS_REPLY_RECV, .cap = ep,
			     .info = i & 1 ? i & ~0xfff8ull : i >> 1 };
	for (unsigned k = 0; k < 5; k++)
		r.mr[k] = reply[k];
	err_t e = sys(&r);
	for (unsigned k = 0; k < VMEXIT_WORDS; k++)
		x->w[k] = r.mr[k];
	x->label = msginfo_label(r.info);
	x->badge = r.cap;
	return e;
}

static bool serve(cptr_t ep, uint64_t want, uint64_t *s, struct counts *c, bool alone)
{
	struct vm_exit x;
	uint64_t reply[5] = { 0 };
	CHECK_ERR(vm_wait(ep, &x), E_OK);
	for (;;) {
		if (vm_exit_vm(&x) == 1) {
			if (++c->hostile == want)
				return true; /* its last exit stays unanswered */
			hostile_reply(s, reply);
		} else if (x.label == VMEXIT_DATA_ABORT && x.w[0] == TDEV_IPA + TDEV_DATA) {
			CHECK(x.w[4] == c->ticks + 1); /* the timer guest's own count */
			c->ticks++;
			reply[0] = VMREPLY_ADVANCE;
		} else {
			c->other++;
			reply[0] = VMREPLY_ABORT;
		}
		CHECK_ERR(alone ? reply_wait_any(ep, reply, &x, s) : vm_reply_wait(ep, reply, &x),
			  E_OK);
	}
}

static bool hostile(void)
{
	uint64_t want = bootarg_u64("vmhostile.exits=", 100000);
	uint64_t seed = bootarg_u64("vmhostile.seed=", cycles() | 1), s = seed;
	/* alone: the hostile guest on its VMM's CPU with nothing else there,
	 * so that its exits and their answers take the fast paths */
	bool alone = bootarg_u64("vmhostile.alone=", 0);
	unsigned far = bootinfo->ncpus > 1 && !alone ? 1 : 0;
	printf("vmhostile: seed %lu, %lu exits%s\n", seed, want, alone ? ", alone" : "");
	struct accounts before = accounts_read();
	struct vm bad, good;
	struct natives n = { 0 };
	struct counts c = { 0 };
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	bool ok = ep && !vm_create(&bad, 1, ep, GUEST_RAM_IPA, GUEST_RAM_SIZE, IMAGE) &&
		  !vm_create(&good, 2, ep, GUEST_RAM_IPA, GUEST_RAM_SIZE, IMAGE) &&
		  !vm_add_vcpu(&bad, GUEST_RAM_IPA, GT_HOSTILE, rnd(&s), 0, far, ROOT_PRIO) &&
		  !vm_start(&bad, 0) &&
		  (alone || (!vm_add_vcpu(&good, GUEST_RAM_IPA, GT_SPIN, 0, 0, 0, ROOT_PRIO) &&
			     !vm_start(&good, 0) && natives_start(&n, far))) &&
		  serve(ep, want, &s, &c, alone);
	uint64_t calls = n.count ? *n.count : 0;
	/* answer the hostile guest's last exit and destroy it as it runs on */
	struct sysregs r = { .nr = SYS_REPLY, .info = msginfo(0, 1, 0) };
	sys(&r);
	vm_destroy(&bad);
	vm_destroy(&good);
	natives_end(&n);
	if (ep)
		slot_free(ep);
	printf("vmhostile: %lu exits from the hostile guest, the timer guest ticked %lu times, "
	       "the native pair made %lu calls\n", c.hostile, c.ticks, calls);
	CHECK_ERR(INV0(SYS_DEBUG_CHECK, ROOT_CONSOLE), E_OK);
	CHECK(accounts_equal(before, accounts_read()));
	CHECK(ok && c.hostile == want && (alone || (c.ticks >= 2 && calls > 0)));
	printf("vmhostile: kernel invariants held; memory back exactly\n");
	return true;
}

void run_vm_hostile(void)
{
	bool ok = hostile();
	printf("root: %u passed, %u failed\n", ok, !ok);
}
