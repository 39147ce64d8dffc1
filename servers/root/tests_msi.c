/* MSI for user-level drivers (IRQ_MSI_MESSAGE): on x86_64 a driver takes an
 * MSI line (a LAPIC vector the kernel lends) with IRQ_GET, asks the kernel
 * what its device must write to raise it, and programs that into the
 * device; end to end with QEMU's edu device (hw/misc/edu.c: BAR0 registers,
 * 0x60 raises an interrupt with that value in 0x24, 0x64 clears it), found
 * through the ECAM and window that the root task gets as device frames. */
#include <libfdt.h>
#include "servers/root/check.h"

#define ECAM_VA 0x3100000000ull
#define BAR_VA 0x3200000000ull
#define EDU_ID 0x11e81234u
#define MSI_LINE 0x41          /* an MSI line on x86_64 (0x40-0xdf but 0x80) */
#define TIMEOUT_BIT 0x100      /* the soft timer's bit: the wait's deadline */
#define SPARE_TIMER (IRQ_SOFT_TIMER + IRQ_SOFT_TIMERS - 1) /* msi-refusals' */
#define EDU_TIMER (IRQ_SOFT_TIMER + IRQ_SOFT_TIMERS - 2)   /* msi-edu's deadline */

/* A copy of the device frame holding pa, mapped at va; 0 on failure. */
static cptr_t map_dev(uint64_t pa, uint64_t va, volatile uint8_t **p)
{
	uint64_t off;
	cptr_t f = device_frame(pa, &off), c = f ? slot_alloc() : 0;
	if (!c || INV4(SYS_CNODE_COPY, ROOT_CNODE, c, ROOT_CNODE, f, R_ALL) ||
	    INV3(SYS_AS_MAP, ROOT_ASPACE, c, va, R_READ | R_WRITE)) {
		if (c)
			slot_free(c);
		return 0;
	}
	*p = (volatile uint8_t *)(va + off);
	return c;
}

static uint64_t ecam_base(void)
{
	const void *fdt = (const void *)bootinfo->dtb_vaddr;
	int node = fdt ? fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic") : -1, len;
	const fdt64_t *reg = node >= 0 ? fdt_getprop(fdt, node, "reg", &len) : NULL;
	return reg && len >= 16 ? fdt64_to_cpu(reg[0]) : 0;
}

#define CFG32(off) (*(volatile uint32_t *)(edu_cfg + (off)))
#define CFG16(off) (*(volatile uint16_t *)(edu_cfg + (off)))
#define REG(off) (*(volatile uint32_t *)(bar + (off)))

static volatile uint8_t *edu_cfg, *bar;

/* The edu device on bus 0, its configuration space in edu_cfg. */
static bool find_edu(volatile uint8_t *ecam)
{
	for (unsigned dev = 0; dev < 32; dev++)
		if (*(volatile uint32_t *)(ecam + (dev << 15)) == EDU_ID) {
			edu_cfg = ecam + (dev << 15);
			printf("root: edu at 00:%02x.0\n", dev);
			return true;
		}
	return false;
}

/* Offset of the MSI capability (ID 5), 0 if none. */
static unsigned msi_cap(void)
{
	if (!(CFG16(0x06) & 0x10))
		return 0;
	for (unsigned p = edu_cfg[0x34] & 0xfc, n = 0; p && n < 48; p = edu_cfg[p + 1] & 0xfc, n++)
		if (edu_cfg[p] == 5)
			return p;
	return 0;
}

/* The device's MSI capability set to the kernel's message, enabled. */
static void program_msi(unsigned cap, uint64_t addr, uint64_t data)
{
	uint16_t ctl = CFG16(cap + 2);
	CFG32(cap + 4) = (uint32_t)addr;
	if (ctl & 0x80) { /* 64-bit address */
		CFG32(cap + 8) = (uint32_t)(addr >> 32);
		CFG16(cap + 12) = (uint16_t)data;
	} else {
		CFG16(cap + 8) = (uint16_t)data;
	}
	CFG16(cap + 2) = (uint16_t)((ctl & ~0x70u) | 1); /* one vector, enabled */
}

/* Wait for the notification, at most about a second (a soft timer on the
 * same notification is the deadline); the bits that came. */
static uint64_t wait_or_timeout(cptr_t n, cptr_t timer)
{
	struct sysregs r = { .mr = { counter_now() + counter_freq() }, .nr = SYS_IRQ_SET_TIMER,
			     .cap = timer };
	sys(&r);
	r = (struct sysregs){ .nr = SYS_WAIT, .cap = n };
	uint64_t bits = sys(&r) == E_OK ? r.cap : 0;
	utimer_off(timer);
	if (bits & TIMEOUT_BIT)
		INV0(SYS_IRQ_ACK, timer);
	return bits;
}

static uint64_t poll_bits(cptr_t n)
{
	struct sysregs r = { .nr = SYS_POLL, .cap = n };
	return sys(&r) == E_OK ? r.cap : 0;
}

/* Raise edu's interrupt with `v` and see it arrive (status 0x24 holds v);
 * then clear it at the device. */
static bool raise_and_take(cptr_t n, cptr_t timer, uint32_t v)
{
	REG(0x60) = v;
	uint64_t bits = wait_or_timeout(n, timer);
	CHECK(bits == 1);
	CHECK(REG(0x24) == v);
	REG(0x64) = v;
	CHECK(REG(0x24) == 0);
	return true;
}

/* The MSI round trips, once bar and edu_cfg are mapped: delivery, the mask
 * until ACK (an MSI while masked comes at the ack, once), and a line taken
 * again after its handler went, with what was pending then forgotten. */
static bool edu_msi(cptr_t n, cptr_t timer, unsigned cap)
{
	cptr_t h = slot_alloc();
	uint64_t m[5] = { 0 };
	CHECK(h);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, MSI_LINE, ROOT_CNODE, h), E_OK);
	CHECK_ERR(inv(SYS_IRQ_MSI_MESSAGE, h, 0, 0, 0, 0, 0, 0, m), E_OK);
	printf("root: MSI line 0x%x: address 0x%lx, data 0x%lx\n", MSI_LINE, m[0], m[1]);
	CHECK((m[0] & ~0xff000ull) == 0xfee00000ull && m[1] == MSI_LINE);
	CHECK_ERR(INV2(SYS_IRQ_SET_NOTIFICATION, h, n, 1), E_OK);
	program_msi(cap, m[0], m[1]);
	CHECK(raise_and_take(n, timer, 0x5a));
	/* masked until the ack: a second MSI waits, then comes exactly once */
	REG(0x60) = 0x11;
	for (unsigned i = 0; i < 200; i++)
		INV0(SYS_YIELD, 0);
	CHECK(REG(0x24) == 0x11); /* the device did raise it */
	CHECK(poll_bits(n) == 0);
	REG(0x64) = 0x11;
	CHECK_ERR(INV0(SYS_IRQ_ACK, h), E_OK);
	CHECK(wait_or_timeout(n, timer) == 1);
	CHECK(poll_bits(n) == 0);
	CHECK_ERR(INV0(SYS_IRQ_ACK, h), E_OK);
	CHECK(raise_and_take(n, timer, 0xa5));
	/* pending when the handler goes: the next holder does not get it */
	REG(0x60) = 0x22;
	for (unsigned i = 0; i < 200; i++)
		INV0(SYS_YIELD, 0);
	REG(0x64) = 0x22;
	slot_free(h);
	CHECK((h = slot_alloc()));
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, MSI_LINE, ROOT_CNODE, h), E_OK);
	CHECK_ERR(INV2(SYS_IRQ_SET_NOTIFICATION, h, n, 1), E_OK);
	CHECK(poll_bits(n) == 0);
	CHECK(raise_and_take(n, timer, 0x33));
	CHECK_ERR(INV0(SYS_IRQ_ACK, h), E_OK);
	CFG16(cap + 2) &= (uint16_t)~1u; /* MSI off again */
	slot_free(h);
	return true;
}

static bool t_msi_edu(void)
{
	struct accounts before = accounts_read();
	uint64_t ecam = ecam_base();
	volatile uint8_t *cfg0 = NULL;
	if (!ecam) {
		printf("root: SKIP msi-edu: no PCI ECAM bridge in the boot DTB (no ACPI MCFG)\n");
		return true;
	}
	cptr_t ec = map_dev(ecam, ECAM_VA, &cfg0);
	CHECK(ec);
	if (!find_edu(cfg0)) {
		slot_free(ec);
		printf("root: SKIP msi-edu: no QEMU edu device (1234:11e8) on PCI bus 0\n");
		return true;
	}
	unsigned cap = msi_cap();
	CFG16(0x04) |= 0x6; /* memory decoding and bus mastering: MSIs are writes */
	uint64_t bar0 = CFG32(0x10) & ~0xfull;
	printf("root: edu BAR0 at 0x%lx, MSI capability at 0x%x\n", bar0, cap);
	cptr_t bc = bar0 ? map_dev(bar0, BAR_VA, &bar) : 0;
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0), timer = slot_alloc();
	CHECK(cap && bc && n && timer);
	CHECK(REG(0x00) == 0x010000ed); /* edu's identification, version 1.0 */
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, EDU_TIMER, ROOT_CNODE, timer), E_OK);
	CHECK_ERR(INV2(SYS_IRQ_SET_NOTIFICATION, timer, n, TIMEOUT_BIT), E_OK);
	bool ok = edu_msi(n, timer, cap);
	slot_free(timer), slot_free(n), slot_free(bc), slot_free(ec);
	CHECK(ok);
	CHECK(accounts_equal(accounts_read(), before));
	return true;
}
ROOT_TEST_NEEDS("msi-edu", t_msi_edu, UARCH_IS_X86_64);

/* What IRQ_GET and IRQ_MSI_MESSAGE refuse, on every port: a soft timer
 * line's or an IOAPIC pin's handler has no MSI message, bad capabilities
 * the usual errors; on x86_64 the MSI lines are exactly 0x40-0xdf but the
 * system call's vector, each taken once, and a deleted handler's line is
 * free again with nothing leaked. */
static bool t_msi_refusals(void)
{
	struct accounts before = accounts_read();
	cptr_t h = slot_alloc(), h2 = slot_alloc(), ro = slot_alloc();
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0);
	uint64_t m[5];
	CHECK(h && h2 && ro && n);
	CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, SPARE_TIMER, ROOT_CNODE, h), E_OK);
	CHECK_ERR(inv(SYS_IRQ_MSI_MESSAGE, h, 0, 0, 0, 0, 0, 0, m), E_INVAL);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, ro, ROOT_CNODE, h, R_READ), E_OK);
	CHECK_ERR(inv(SYS_IRQ_MSI_MESSAGE, ro, 0, 0, 0, 0, 0, 0, m), E_RIGHTS);
	CHECK_ERR(inv(SYS_IRQ_MSI_MESSAGE, n, 0, 0, 0, 0, 0, 0, m), E_BADTYPE);
	CHECK_ERR(inv(SYS_IRQ_MSI_MESSAGE, h2, 0, 0, 0, 0, 0, 0, m), E_BADCAP);
	CHECK_ERR(inv(SYS_IRQ_MSI_MESSAGE, 1ull << 63 | h, 0, 0, 0, 0, 0, 0, m), E_BADCAP);
	slot_free(ro), slot_free(h);
	if (!(UARCH_FEATURES & UARCH_IS_X86_64)) {
		printf("root: no MSI lines on this port: IRQ_MSI_MESSAGE refuses every handler\n");
	} else {
		CHECK((ro = slot_alloc()) && (h = slot_alloc()));
		CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, 0x20 + 20, ROOT_CNODE, h), E_OK);
		CHECK_ERR(inv(SYS_IRQ_MSI_MESSAGE, h, 0, 0, 0, 0, 0, 0, m), E_INVAL); /* IOAPIC pin */
		slot_free(h);
		static const uint64_t kernel[] = { 0x1f, 0x80, 0xe0, 0xef, 0xf0, 0xf1, 0xff,
						   1ull << 32 | 0x41, 1ull << 63 | 0x41 };
		for (unsigned i = 0; i < sizeof(kernel) / sizeof(kernel[0]); i++)
			CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, kernel[i], ROOT_CNODE, h2), E_RANGE);
		for (uint64_t v = 0x40; v <= 0xdf; v++) { /* every MSI line, its message */
			if (v == 0x80)
				continue;
			CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, v, ROOT_CNODE, h2), E_OK);
			CHECK_ERR(inv(SYS_IRQ_MSI_MESSAGE, h2, 0, 0, 0, 0, 0, 0, m), E_OK);
			CHECK(m[1] == v && m[0] >> 20 == 0xfee);
			CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, v, ROOT_CNODE, ro), E_BUSY);
			INV1(SYS_CNODE_DELETE, ROOT_CNODE, h2);
		}
		CHECK_ERR(INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, 0xdf, ROOT_CNODE, h2), E_OK);
		CHECK_ERR(INV2(SYS_IRQ_SET_NOTIFICATION, h2, n, 1), E_OK); /* holds n */
		slot_free(ro);
	}
	slot_free(h2), slot_free(n);
	CHECK(accounts_equal(accounts_read(), before));
	return true;
}
ROOT_TEST("msi-refusals", t_msi_refusals);
