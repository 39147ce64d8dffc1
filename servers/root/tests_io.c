/* User-level tests of how a task meets the world outside its address
 * space: an interrupt delivered to a user handler, an SPSC ring shared with
 * another task, a page moved by capability transfer, and the boot info. */
#include "servers/root/check.h"
#include "servers/root/suite.h"

/* --- Interrupts ------------------------------------------------------------------ */

/* The user timer (uarch.h): a line the kernel does not use (AArch64: the
 * EL1 physical timer; elsewhere a soft timer line). */
static void utimer_fire_soon(cptr_t h) { utimer_arm(h, counter_now() + 1000); }

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
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, UTIMER_IRQ, ROOT_CNODE, h), E_OK);
	CHECK_ERR(INV2(SYS_IRQ_SET_NOTIFICATION, h, n, 0x40), E_OK);
	/* two interrupts: the second comes only because the first was acked */
	for (unsigned i = 0; i < 2; i++) {
		utimer_fire_soon(h);
		CHECK(irq_wait(n) == 0x40);
		utimer_off(h); /* quieten the level-triggered source, then ack */
		CHECK_ERR(INV0(SYS_IRQ_ACK, h), E_OK);
	}
	/* errors */
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, UTIMER_IRQ, ROOT_CNODE, h2), E_BUSY);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, UARCH_IRQ_KERNEL, ROOT_CNODE, h2), E_RANGE);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, 1u << 20, ROOT_CNODE, h2), E_RANGE);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, IRQ_SOFT_TIMER + 1, ROOT_CNODE, n), E_SLOT);
	CHECK_ERR(INV3(SYS_IRQ_GET, n, IRQ_SOFT_TIMER + 1, ROOT_CNODE, h2), E_BADTYPE);
	CHECK_ERR(INV2(SYS_IRQ_SET_NOTIFICATION, h, ep, 1), E_BADTYPE);
	CHECK_ERR(INV2(SYS_IRQ_SET_NOTIFICATION, n, n, 1), E_BADTYPE);
	CHECK_ERR(INV0(SYS_IRQ_ACK, ep), E_BADTYPE);
	/* deleting the handler frees the line for the next driver */
	slot_free(h);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, UTIMER_IRQ, ROOT_CNODE, h2), E_OK);
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
		} else if (ring_idle(r)) {
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
	/* a DTB if the machine has one (x86 describes itself through ACPI) */
	CHECK(bootinfo->dtb_vaddr ? bootinfo->dtb_size >= 40 && dtb[0] == 0xd0 && dtb[1] == 0x0d &&
				    dtb[2] == 0xfe && dtb[3] == 0xed : bootinfo->dtb_size == 0);
	CHECK(strstr(bootinfo->bootargs, "cairn.root=test"));
	/* the scenario that boots with the test initrd says so */
	if (strstr(bootinfo->bootargs, "root.initrd=yes"))
		CHECK(bootinfo->initrd_size > 8192 && initrd_readable());
	else
		CHECK(bootinfo->initrd_size == 0 && bootinfo->initrd_frames == 0);
	return true;
}
