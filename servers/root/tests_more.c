/* User-level tests of interrupts delivered to user space, an SPSC ring
 * between two address spaces, page transfer by moving a frame capability,
 * and the error paths the other tests leave out. */
#include "servers/root/check.h"
#include "servers/root/suite.h"

/* --- Interrupts ------------------------------------------------------------------ */

/* The EL1 virtual timer, which EL0 may program (CNTKCTL_EL1.EL0VTEN):
 * a per-CPU line (PPI 27) that the kernel does not use. */
#define VTIMER_IRQ 27

static void vtimer_fire_soon(void)
{
	uint64_t now;
	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(now));
	__asm__ volatile("msr cntv_cval_el0, %0; msr cntv_ctl_el0, %1; isb"
			 : : "r"(now + 1000), "r"(1ull) : "memory");
}

static void vtimer_off(void) { __asm__ volatile("msr cntv_ctl_el0, xzr; isb" ::: "memory"); }

/* Wait for the handler's notification; the bits come back in x9. */
static uint64_t irq_wait(cptr_t n)
{
	struct sysregs r = { .nr = SYS_WAIT, .cap = n };
	return sys(&r) == E_OK ? r.cap : 0;
}

bool t_user_irq(void)
{
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0), h = slot_alloc(), h2 = slot_alloc();
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	CHECK(n && h && h2 && ep);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, VTIMER_IRQ, ROOT_CNODE, h), E_OK);
	CHECK_ERR(INV2(SYS_IRQ_SET_NOTIFICATION, h, n, 0x40), E_OK);
	/* two interrupts: the second comes only because the first was acked */
	for (unsigned i = 0; i < 2; i++) {
		vtimer_fire_soon();
		CHECK(irq_wait(n) == 0x40);
		vtimer_off(); /* quieten the level-triggered source, then ack */
		CHECK_ERR(INV0(SYS_IRQ_ACK, h), E_OK);
	}
	/* errors */
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, VTIMER_IRQ, ROOT_CNODE, h2), E_BUSY);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, 26, ROOT_CNODE, h2), E_RANGE); /* kernel's */
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, 1u << 20, ROOT_CNODE, h2), E_RANGE);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, 28, ROOT_CNODE, n), E_SLOT);
	CHECK_ERR(INV3(SYS_IRQ_GET, n, 28, ROOT_CNODE, h2), E_BADTYPE);
	CHECK_ERR(INV2(SYS_IRQ_SET_NOTIFICATION, h, ep, 1), E_BADTYPE);
	CHECK_ERR(INV2(SYS_IRQ_SET_NOTIFICATION, n, n, 1), E_BADTYPE);
	CHECK_ERR(INV0(SYS_IRQ_ACK, ep), E_BADTYPE);
	/* deleting the handler frees the line for the next driver */
	slot_free(h);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, VTIMER_IRQ, ROOT_CNODE, h2), E_OK);
	slot_free(h2), slot_free(n), slot_free(ep);
	return true;
}

/* --- Shared memory: an SPSC ring between two address spaces ---------------- */

#define RING_ITEMS 20000

/* Producer: pushes 0..RING_ITEMS-1 into the ring in its shared page,
 * signalling (slot 1) only when the ring goes from empty to non-empty and
 * yielding when it is full; counts its signals in the word after it. */
static void ring_producer(uint64_t va)
{
	struct ring *r = (struct ring *)va;
	volatile uint64_t *signals = (uint64_t *)(va + 4096);
	for (uint64_t v = 0; v < RING_ITEMS;) {
		bool was_empty;
		if (!ring_push(r, v, &was_empty)) {
			INV0(SYS_YIELD, 0);
			continue;
		}
		v++;
		if (was_empty) {
			++*signals;
			INV1(SYS_SIGNAL, 1, 1);
		}
	}
	child_park();
}

bool t_ring_between_tasks(void)
{
	struct child c;
	cptr_t f0, f1, c0, c1, n = new_obj(OBJ_NOTIFICATION, 0);
	void *mem = new_page(&f0);
	volatile uint64_t *signals = new_page(&f1);
	CHECK(n && mem && signals);
	struct ring *r = ring_init(mem, 6); /* 64 entries */
	CHECK_ERR(child_create(&c, ring_producer, CHILD_SHARED_VA, ROOT_PRIO), E_OK);
	CHECK_ERR(child_map(&c, f0, CHILD_SHARED_VA, R_READ | R_WRITE, &c0), E_OK);
	CHECK_ERR(child_map(&c, f1, CHILD_SHARED_VA + 4096, R_READ | R_WRITE, &c1), E_OK);
	CHECK_ERR(child_give(&c, 1, n, R_WRITE), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	uint64_t expect = 0, waits = 0;
	while (expect < RING_ITEMS) {
		uint64_t v;
		if (ring_pop(r, &v)) {
			CHECK(v == expect);
			expect++;
		} else {
			struct sysregs w = { .nr = SYS_WAIT, .cap = n };
			CHECK_ERR(sys(&w), E_OK);
			waits++;
		}
	}
	/* in order, all of it, and far fewer signals than items */
	CHECK(*signals >= 1 && *signals < RING_ITEMS / 2 && waits <= *signals);
	printf("root: ring moved %u items with %lu signals\n", RING_ITEMS, *signals);
	child_destroy(&c);
	slot_free(c0), slot_free(c1), slot_free(f0), slot_free(f1), slot_free(n);
	return true;
}

/* --- Page transfer ----------------------------------------------------------------- */

/* Receives a frame moved to it (slot 3), maps it with its own address
 * space (slot 4), checks and rewrites it, unmaps it and moves it back
 * through slot 2. */
static void page_taker(uint64_t arg)
{
	(void)arg;
	struct sysregs r = { .nr = SYS_RECV, .cap = 1, .recvslot = 3 };
	uint64_t ok = sys(&r) == E_OK && msginfo_caps(r.info) == 1 &&
		      INV3(SYS_AS_MAP, 4, 3, CHILD_SHARED_VA, R_READ | R_WRITE) == E_OK;
	volatile uint64_t *p = (uint64_t *)CHILD_SHARED_VA;
	for (unsigned i = 0; ok && i < 512; i++)
		ok = p[i] == i * 3;
	for (unsigned i = 0; ok && i < 512; i++)
		p[i] = i * 5;
	ok = ok && INV1(SYS_AS_UNMAP, 4, 3) == E_OK;
	r = (struct sysregs){ .mr = { ok }, .nr = SYS_SEND, .cap = 2,
			      .info = msginfo(0, 1, 1) | MSG_MOVE, .sendcap = { 3 } };
	sys(&r);
	child_park();
}

bool t_page_transfer(void)
{
	struct child c;
	cptr_t f, to = new_obj(OBJ_ENDPOINT, 0), back = new_obj(OBJ_ENDPOINT, 0);
	volatile uint64_t *p = new_page(&f);
	uint64_t va = (uint64_t)p, r5[5];
	CHECK(to && back && p);
	for (unsigned i = 0; i < 512; i++)
		p[i] = i * 3;
	CHECK_ERR(child_create(&c, page_taker, 0, ROOT_PRIO + 1), E_OK);
	CHECK_ERR(child_give(&c, 1, to, R_READ), E_OK);
	CHECK_ERR(child_give(&c, 2, back, R_WRITE | R_GRANT), E_OK);
	CHECK_ERR(child_give(&c, 4, c.as, R_ALL), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	/* move it: the capability leaves this CSpace and the page this space */
	struct sysregs r = { .nr = SYS_SEND, .cap = to, .info = msginfo(0, 0, 1) | MSG_MOVE,
			     .sendcap = { f } };
	CHECK_ERR(sys(&r), E_OK); /* the child ran (higher priority) and sent it back */
	r = (struct sysregs){ .nr = SYS_RECV, .cap = back, .recvslot = f };
	CHECK_ERR(INV0(SYS_FRAME_INFO, f), E_BADCAP);
	CHECK_ERR(sys(&r), E_OK);
	CHECK(r.mr[0] == 1 && msginfo_caps(r.info) == 1);
	CHECK_ERR(inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, r5), E_OK);
	CHECK(r5[1] == ~0ull); /* it came back unmapped */
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, f, va, R_READ | R_WRITE), E_OK);
	for (unsigned i = 0; i < 512; i++)
		CHECK(p[i] == i * 5);
	child_destroy(&c);
	slot_free(f), slot_free(to), slot_free(back);
	return true;
}

/* --- Error paths ------------------------------------------------------------------- */

/* With MCP 50, tries to set its sibling (slot 1) above that; reports. */
static void mcp_tester(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	p[0] = INV2(SYS_THREAD_SET_PRIORITY, 1, 60, 0);  /* priority above MCP */
	p[1] = INV2(SYS_THREAD_SET_PRIORITY, 1, 40, 60); /* MCP above MCP */
	p[2] = INV2(SYS_THREAD_SET_PRIORITY, 1, 50, 50); /* its own MCP: fine */
	p[3] = 1;
	INV1(SYS_SIGNAL, 2, 1);
	child_park();
}

bool t_more_errors(void)
{
	struct child a, b;
	cptr_t pf, pc, done = new_obj(OBJ_NOTIFICATION, 0);
	volatile uint64_t *page = new_page(&pf);
	CHECK(done && page);
	/* MCP, from a task that holds another's thread capability */
	CHECK_ERR(child_create(&a, mcp_tester, CHILD_SHARED_VA, 50), E_OK);
	CHECK_ERR(child_create(&b, mcp_tester, CHILD_SHARED_VA, 10), E_OK);
	CHECK_ERR(child_map(&a, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(child_give(&a, 1, b.thread, R_ALL), E_OK);
	CHECK_ERR(child_give(&a, 2, done, R_WRITE), E_OK);
	CHECK_ERR(child_start(&a), E_OK);
	/* a running thread cannot be reconfigured */
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, a.thread, a.cspace, a.as, 0), E_BUSY);
	struct sysregs w = { .nr = SYS_WAIT, .cap = done };
	CHECK_ERR(sys(&w), E_OK);
	CHECK(page[3] == 1 && page[0] == E_PRIO && page[1] == E_PRIO && page[2] == E_OK);
	/* a suspended one can */
	CHECK_ERR(INV0(SYS_THREAD_SUSPEND, a.thread), E_OK);
	CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, a.thread, a.cspace, a.as, 0), E_OK);
	child_destroy(&a), child_destroy(&b);
	slot_free(pc);
	/* protect: not mapped, more rights than the capability, no read */
	cptr_t f = new_obj(OBJ_FRAME, FRAME_BITS_4K), ro = slot_alloc();
	CHECK(f && ro);
	CHECK_ERR(INV2(SYS_AS_PROTECT, ROOT_ASPACE, f, R_READ), E_NOENT);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, f, R_READ), E_OK);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, ro, 0x3f000000, R_READ), E_OK);
	CHECK_ERR(INV2(SYS_AS_PROTECT, ROOT_ASPACE, ro, R_READ | R_WRITE), E_RIGHTS);
	CHECK_ERR(INV2(SYS_AS_PROTECT, ROOT_ASPACE, ro, R_WRITE), E_INVAL); /* no read */
	CHECK_ERR(INV2(SYS_AS_PROTECT, ROOT_ASPACE, ro, R_READ | 0x80), E_INVAL);
	CHECK_ERR(INV2(SYS_AS_PROTECT, ROOT_ASPACE, ro, R_READ), E_OK);
	CHECK_ERR(INV2(SYS_AS_PROTECT, done, ro, R_READ), E_BADTYPE);
	/* mint: only endpoints, notifications and CNodes take a badge; copy
	 * needs an empty destination */
	cptr_t m = slot_alloc();
	CHECK_ERR(inv(SYS_CNODE_MINT, ROOT_CNODE, m, ROOT_CNODE, f, R_ALL, 7, 0, 0), E_BADTYPE);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, f, R_ALL), E_SLOT);
	/* a CNode's guard must fit its bits, and guard and radix 64 bits */
	CHECK_ERR(inv(SYS_CNODE_MINT, ROOT_CNODE, m, ROOT_CNODE, ROOT_CNODE, R_ALL, 0, 60, 0),
		  E_INVAL);
	CHECK_ERR(inv(SYS_CNODE_MINT, ROOT_CNODE, m, ROOT_CNODE, ROOT_CNODE, R_ALL, 8, 3, 0),
		  E_INVAL);
	/* moving from an empty slot */
	CHECK_ERR(INV3(SYS_CNODE_MOVE, ROOT_CNODE, m, ROOT_CNODE, m), E_BADCAP);
	slot_free(m), slot_free(ro), slot_free(f), slot_free(pf), slot_free(done);
	return true;
}

/* A map whose page tables the space's Memory cannot pay for fails with
 * E_NOMEM, and what it did build comes back with the space. */
bool t_map_out_of_memory(void)
{
	struct accounts before = accounts_read();
	cptr_t sub = new_obj(OBJ_MEMORY, 3 * 4096), as = slot_alloc();
	cptr_t f = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	CHECK(sub && as && f);
	CHECK_ERR(retype(sub, OBJ_ASPACE, 0, ROOT_CNODE, as), E_OK); /* its root table */
	CHECK_ERR(INV3(SYS_AS_MAP, as, f, 0x40000000, R_READ), E_NOMEM); /* two more */
	uint64_t r[5];
	CHECK_ERR(inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[1] == ~0ull); /* not mapped */
	slot_free(f), slot_free(as), slot_free(sub);
	CHECK(accounts_equal(accounts_read(), before));
	return true;
}

/* --- FP/SIMD state ----------------------------------------------------------------- */

void fp_fill(uint64_t seed);
bool fp_check(uint64_t seed);
bool fp_all_zero(void);

#define FP_ROUNDS 300

/* Fills its FP registers, then yields again and again, checking them each
 * time; reports 1 (kept) or 2 (lost) in word arg & 7, then signals slot 1. */
static void fp_worker(uint64_t arg)
{
	volatile uint64_t *p = (uint64_t *)CHILD_SHARED_VA;
	uint64_t seed = arg << 16;
	unsigned i = 0;
	fp_fill(seed);
	while (i < FP_ROUNDS && fp_check(seed)) {
		INV0(SYS_YIELD, 0);
		i++;
	}
	p[arg & 7] = i == FP_ROUNDS ? 1 : 2;
	INV1(SYS_SIGNAL, 1, 1);
	child_park();
}

/* A thread's first FP access finds zeros, not what another left. */
static void fp_newcomer(uint64_t arg)
{
	volatile uint64_t *p = (uint64_t *)CHILD_SHARED_VA;
	p[arg & 7] = fp_all_zero() ? 1 : 2;
	INV1(SYS_SIGNAL, 1, 1);
	child_park();
}

static bool fp_run(struct child *c, void (*fn)(uint64_t), uint64_t arg, cptr_t pf,
		   cptr_t n, cptr_t *pc)
{
	CHECK_ERR(child_create(c, fn, arg, ROOT_PRIO), E_OK);
	CHECK_ERR(child_map(c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, pc), E_OK);
	CHECK_ERR(child_give(c, 1, n, R_WRITE), E_OK);
	return child_start(c) == E_OK;
}

bool t_fp_state(void)
{
	struct child c[3];
	cptr_t pf, pc[3], n = new_obj(OBJ_NOTIFICATION, 0);
	volatile uint64_t *page = new_page(&pf);
	CHECK(n && page);
	fp_fill(0x5000); /* the root is an FP thread too */
	CHECK(fp_run(&c[0], fp_worker, 0x1001, pf, n, &pc[0]));
	CHECK(fp_run(&c[1], fp_worker, 0x2002, pf, n, &pc[1]));
	/* all at one priority, yielding: every switch moves FP state; with
	 * more CPUs the root also moves the workers between them */
	for (unsigned i = 0; page[1] == 0 || page[2] == 0; i++) {
		INV0(SYS_YIELD, 0);
		if (bootinfo->ncpus > 1 && i % 4 == 0)
			INV1(SYS_THREAD_SET_AFFINITY, c[i / 4 % 2].thread, i / 8 % bootinfo->ncpus);
		CHECK(i < 100000);
	}
	CHECK(page[1] == 1 && page[2] == 1);
	CHECK(fp_run(&c[2], fp_newcomer, 3, pf, n, &pc[2]));
	while (page[3] == 0)
		INV0(SYS_YIELD, 0);
	CHECK(page[3] == 1);
	CHECK(fp_check(0x5000));
	for (unsigned i = 0; i < 3; i++)
		child_destroy(&c[i]), slot_free(pc[i]);
	slot_free(pf), slot_free(n);
	return true;
}

/* --- Cancellation -------------------------------------------------------------- */

/* Makes the call described in its page (number, capability), then reports
 * the result. */
static void child_one_call(uint64_t page)
{
	volatile uint64_t *p = (uint64_t *)page;
	struct sysregs r = { .nr = p[0], .cap = p[1] };
	p[2] = sys(&r);
	p[3] = 1;
	child_park();
}

/* Receives, then receives again without replying. */
static void forgetful_server(uint64_t arg)
{
	(void)arg;
	for (;;) {
		struct sysregs r = { .nr = SYS_RECV, .cap = 1 };
		sys(&r);
	}
}

/* A child blocked in `nr` on `obj` (its slot 1) wakes with E_CANCELLED
 * when the root deletes every capability to the object. */
static bool cancelled_by_delete(enum sys nr, cptr_t obj, unsigned rights)
{
	struct child c;
	cptr_t pf, pc;
	volatile uint64_t *p = new_page(&pf);
	CHECK(p);
	p[0] = nr, p[1] = 1, p[2] = ~0ull, p[3] = 0;
	CHECK_ERR(child_create(&c, child_one_call, CHILD_SHARED_VA, ROOT_PRIO + 1), E_OK);
	CHECK_ERR(child_map(&c, pf, CHILD_SHARED_VA, R_READ | R_WRITE, &pc), E_OK);
	CHECK_ERR(child_give(&c, 1, obj, rights), E_OK);
	CHECK_ERR(child_start(&c), E_OK); /* runs at once and blocks */
	CHECK(p[3] == 0);
	CHECK_ERR(INV1(SYS_CNODE_REVOKE, ROOT_CNODE, obj), E_OK);
	slot_free(obj);
	CHECK(p[3] == 1 && p[2] == E_CANCELLED);
	child_destroy(&c);
	slot_free(pc), slot_free(pf);
	return true;
}

bool t_cancellations(void)
{
	CHECK(cancelled_by_delete(SYS_SEND, new_obj(OBJ_ENDPOINT, 0), R_WRITE));
	CHECK(cancelled_by_delete(SYS_CALL, new_obj(OBJ_ENDPOINT, 0), R_WRITE));
	CHECK(cancelled_by_delete(SYS_WAIT, new_obj(OBJ_NOTIFICATION, 0), R_READ));
	/* a server that receives again without replying lets the call lapse */
	struct child c;
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	CHECK(ep);
	CHECK_ERR(child_create(&c, forgetful_server, 0, ROOT_PRIO + 1), E_OK);
	CHECK_ERR(child_give(&c, 1, ep, R_READ), E_OK);
	CHECK_ERR(child_start(&c), E_OK);
	err_t e;
	ipc_call1(ep, 7, &e);
	CHECK(e == E_CANCELLED);
	child_destroy(&c);
	slot_free(ep);
	return true;
}

/* --- Boot info -------------------------------------------------------------------- */

/* The byte at offset i of the test initrd (tests/tests.mk makes it). */
static uint8_t initrd_byte(uint64_t i) { return (uint8_t)(i * 7 + (i >> 12)); }

static bool initrd_readable(void)
{
	uint64_t first = bootinfo->initrd_first_slot, n = bootinfo->initrd_frames;
	CHECK(n == (bootinfo->initrd_size + 4095) / 4096);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, first, 0x3e000000, R_READ | R_WRITE), E_RIGHTS);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t va = 0x3e000000 + k * 4096;
		CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, first + k, va, R_READ), E_OK);
		const volatile uint8_t *p = (const uint8_t *)va;
		for (uint64_t i = 0; i < 4096 && k * 4096 + i < bootinfo->initrd_size; i += 61)
			CHECK(p[i] == initrd_byte(k * 4096 + i));
		CHECK_ERR(INV1(SYS_AS_UNMAP, ROOT_ASPACE, first + k), E_OK);
	}
	return true;
}

bool t_boot_info(void)
{
	const volatile uint8_t *dtb = (const uint8_t *)bootinfo->dtb_vaddr;
	CHECK(bootinfo->magic == BOOTINFO_MAGIC && bootinfo->ncpus >= 1 && bootinfo->nmem >= 1);
	CHECK(bootinfo->dtb_size >= 40 && dtb[0] == 0xd0 && dtb[1] == 0x0d && dtb[2] == 0xfe &&
	      dtb[3] == 0xed);
	CHECK(strstr(bootinfo->bootargs, "cairn.root=test"));
	/* the scenario that boots with the test initrd says so */
	if (strstr(bootinfo->bootargs, "root.initrd=yes"))
		CHECK(bootinfo->initrd_size > 8192 && initrd_readable());
	else
		CHECK(bootinfo->initrd_size == 0 && bootinfo->initrd_frames == 0);
	return true;
}
