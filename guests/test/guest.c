/* The test guest: a bare-metal EL1 program exercising one kind of exit per
 * run (guest.h).  It reports through its test device; anything unexpected
 * (a wrong value, an exception it did not ask for) is reported as the line
 * number where it was found, so a failure names its check. */
#include <stdint.h>
#include "cairn/vcpu.h"
#include "guests/test/guest.h"

uint64_t t_vfuzz(uint64_t n); /* vfuzz.c */
uint64_t t_vnetfuzz(uint64_t n); /* vnetfuzz.c */

#define REG(off) ((volatile uint64_t *)(TDEV_IPA + (off)))
#define FAIL_IF(c) do { if (c) return __LINE__ * 16 + 2; } while (0)
#define SYSREG_R(r) ({ uint64_t v_; __asm__ volatile("mrs %0, " #r : "=r"(v_)); v_; })
#define SYSREG_W(r, v) __asm__ volatile("msr " #r ", %0; isb" : : "r"((uint64_t)(v)) : "memory")
#define ICC_SRE_EL1 S3_0_C12_C12_5
#define ICC_PMR_EL1 S3_0_C4_C6_0
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_IAR1_EL1 S3_0_C12_C12_0
#define ICC_EOIR1_EL1 S3_0_C12_C12_1
#define ICC_SGI1R_EL1 S3_0_C12_C11_5

static volatile uint64_t irqs_seen;       /* bit (intid - 16) per interrupt seen */
static volatile unsigned timer_ticks;
static volatile uint64_t last_esr, last_far, unexpected;
static volatile uint64_t sgis_seen;       /* bit intid per SGI seen */

static void sync_vm(uint64_t step) { *REG(TDEV_SYNC) = step; }

/* --- Exception handlers (start.S) -------------------------------------- */

void guest_unexpected(uint64_t off)
{
	unexpected = off | 1;
	*REG(TDEV_RESULT) = 0xdead0000 | off;
	for (;;)
		__asm__ volatile("wfi");
}

/* An abort the VMM injected: note it and step over the instruction. */
void guest_sync(void)
{
	last_esr = SYSREG_R(esr_el1);
	last_far = SYSREG_R(far_el1);
	SYSREG_W(elr_el1, SYSREG_R(elr_el1) + 4);
}

void guest_irq(void)
{
	uint64_t intid = SYSREG_R(ICC_IAR1_EL1) & 0xffffff;
	if (intid == VIRQ_VTIMER) {
		SYSREG_W(cntv_ctl_el0, 3); /* masked, as Linux does, until re-armed */
		timer_ticks++;
	}
	if (intid >= 16 && intid < 80)
		irqs_seen |= 1ull << (intid - 16);
	if (intid < 16)
		sgis_seen |= 1ull << intid;
	SYSREG_W(ICC_EOIR1_EL1, intid);
}

static void gic_on(void)
{
	SYSREG_W(ICC_SRE_EL1, 7);
	SYSREG_W(ICC_PMR_EL1, 0xff);
	SYSREG_W(ICC_IGRPEN1_EL1, 1);
	__asm__ volatile("msr daifclr, #2" ::: "memory");
}

static uint64_t hvc(uint64_t x0, uint64_t x1, uint64_t x2, uint64_t x3)
{
	register uint64_t r0 __asm__("x0") = x0, r1 __asm__("x1") = x1;
	register uint64_t r2 __asm__("x2") = x2, r3 __asm__("x3") = x3;
	__asm__ volatile("hvc #0" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3) : : "memory");
	return r0;
}

void guest_yield(void) { hvc(HC_YIELD, 0, 0, 0); }

static uint64_t smc(uint64_t x0)
{
	register uint64_t r0 __asm__("x0") = x0;
	__asm__ volatile("smc #0" : "+r"(r0) : : "x1", "x2", "x3", "memory");
	return r0;
}

/* --- Tests --------------------------------------------------------------- */

static uint64_t t_mmio(void)
{
	volatile uint8_t *d = (volatile uint8_t *)REG(TDEV_DATA);
	uint64_t v;
	FAIL_IF(*(volatile uint8_t *)d != 0x88);
	FAIL_IF(*(volatile uint16_t *)d != 0x8788);
	FAIL_IF(*(volatile uint32_t *)d != 0x85868788u);
	FAIL_IF(*(volatile uint64_t *)d != TDEV_PATTERN);
	__asm__ volatile("ldrsb %x0, [%1]" : "=r"(v) : "r"(d));
	FAIL_IF(v != 0xffffffffffffff88ull);
	__asm__ volatile("ldrsh %w0, [%1]" : "=r"(v) : "r"(d));
	FAIL_IF(v != 0xffff8788ull); /* a W register: upper half zero */
	__asm__ volatile("ldrsw %x0, [%1]" : "=r"(v) : "r"(d));
	FAIL_IF(v != 0xffffffff85868788ull);
	__asm__ volatile("mov x5, #-1; ldrb w5, [%1]; mov %0, x5" : "=r"(v) : "r"(d) : "x5");
	FAIL_IF(v != 0x88);
	*(volatile uint8_t *)d = 0x11;
	*(volatile uint16_t *)d = 0x2233;
	*(volatile uint32_t *)d = 0x44556677u;
	*(volatile uint64_t *)d = 0x8899aabbccddeeffull;
	__asm__ volatile("str xzr, [%0]" : : "r"(d) : "memory");
	return TEST_PASS;
}

static uint64_t t_hvc_smc(void)
{
	FAIL_IF(hvc(PSCI_VERSION, 0, 0, 0) != VMM_PSCI_VERSION);
	FAIL_IF(smc(PSCI_VERSION) != VMM_PSCI_VERSION);
	FAIL_IF(hvc(HC_BASE + 0x99, 0, 0, 0) == 0); /* unknown: an error, not the VMM */
	return TEST_PASS;
}

static void timer_in(uint64_t ticks)
{
	SYSREG_W(cntv_cval_el0, SYSREG_R(cntvct_el0) + ticks);
	SYSREG_W(cntv_ctl_el0, 1);
}

static uint64_t t_timer(void)
{
	gic_on();
	uint64_t ms = SYSREG_R(cntfrq_el0) / 1000;
	for (unsigned i = 0; i < GT_TIMER_TICKS; i++) {
		unsigned before = timer_ticks;
		timer_in(ms);
		while (timer_ticks == before)
			__asm__ volatile("wfi");
	}
	FAIL_IF(irqs_seen != 1ull << (VIRQ_VTIMER - 16));
	return TEST_PASS;
}

static uint64_t wait_irqs(uint64_t mask)
{
	while ((irqs_seen & mask) != mask)
		__asm__ volatile("wfi");
	return irqs_seen;
}

static uint64_t t_inject(void)
{
	gic_on();
	sync_vm(1); /* the VMM injects SPIs 40..47 now */
	uint64_t all = ((1ull << GT_INJECT_COUNT) - 1) << (GT_INJECT_FIRST - 16);
	FAIL_IF(wait_irqs(all) != all);
	return TEST_PASS;
}

static uint64_t t_disabled(void)
{
	gic_on();
	sync_vm(1); /* the VMM disables 41, injects 41 and 40 */
	wait_irqs(1ull << (40 - 16));
	FAIL_IF(irqs_seen & 1ull << (41 - 16));
	sync_vm(2); /* the VMM enables 41: the held interrupt arrives */
	wait_irqs(1ull << (41 - 16));
	return TEST_PASS;
}

static uint64_t t_abort(void)
{
	volatile uint64_t *outside = (volatile uint64_t *)OUTSIDE_RAM_IPA;
	uint64_t v = *outside; /* the VMM refuses: an abort, which guest_sync skips */
	(void)v;
	FAIL_IF(last_esr >> 26 != 0x25);    /* data abort, same EL */
	FAIL_IF((last_esr & 0x3f) != 0x10); /* synchronous external abort */
	FAIL_IF(last_far != OUTSIDE_RAM_IPA);
	*outside = 1; /* a write too */
	FAIL_IF(!(last_esr & (1u << 6)));
	return TEST_PASS;
}

static uint64_t t_no_syndrome(void)
{
	register uint64_t a __asm__("x1"), b __asm__("x2");
	__asm__ volatile("ldp x1, x2, [%2]" : "=r"(a), "=r"(b) : "r"(REG(TDEV_DATA)) : "memory");
	FAIL_IF(a != TDEV_PATTERN || b != ~TDEV_PATTERN);
	return TEST_PASS;
}

static uint64_t t_sysreg(void)
{
	SYSREG_W(ICC_SGI1R_EL1, 0x1234ull << 16 | 1);
	return TEST_PASS;
}

/* The VMM reads and rewrites TPIDR_EL1 at each of n syncs (3 if 0), while
 * this VCPU's EL1 state may be parked in another CPU's registers. */
static uint64_t t_parked(uint64_t n)
{
	for (uint64_t i = 1; i <= (n ? n : 3); i++) {
		SYSREG_W(tpidr_el1, PARKED_MINE + i);
		sync_vm(i);
		FAIL_IF(SYSREG_R(tpidr_el1) != PARKED_VMMS + i);
	}
	return t_abort(); /* an injected abort, its registers parked meanwhile */
}

/* Rings between two syncs: the VMM binds a doorbell at the first and
 * unbinds it at the second, so only the first lot goes by the kernel. */
static uint64_t t_doorbell(uint64_t n)
{
	for (unsigned round = 1; round <= 2; round++) {
		sync_vm(round);
		for (uint64_t i = 0; i < n; i++)
			*(volatile uint32_t *)REG(TDEV_DOORBELL) = (uint32_t)i;
	}
	sync_vm(3);
	return TEST_PASS;
}

static uint64_t t_hypercall(void)
{
	register uint64_t x0 __asm__("x0") = HC_CALL, x1 __asm__("x1") = HC_EP_SLOT;
	register uint64_t x2 __asm__("x2") = 7ull << 16 | 2, x3 __asm__("x3") = 5;
	register uint64_t x4 __asm__("x4") = 6;
	__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4)
			 : : "x5", "x6", "x7", "memory");
	FAIL_IF(x0 != 0);
	FAIL_IF(x2 >> 16 != 8 || (x2 & 15) != 2); /* the server's label and length */
	FAIL_IF(x3 != 6 || x4 != 7);              /* each word plus one */
	FAIL_IF(hvc(HC_CALL, 99, 0, 0) == 0);     /* no capability there */
	FAIL_IF(hvc(HC_CALL, HC_EP_SLOT, 6, 0) == 0); /* six words: too long */
	FAIL_IF(hvc(HC_SIGNAL, HC_NTFN_SLOT, 0x40, 0) != 0);
	return TEST_PASS;
}

static uint64_t t_wfi_wake(void)
{
	gic_on();
	__asm__ volatile("wfi"); /* nothing armed: the VMM injects 42 */
	wait_irqs(1ull << (42 - 16));
	return TEST_PASS;
}

/* Random exits of every kind, forever; the VMM counts and stops it. */
static uint64_t t_hostile(uint64_t seed)
{
	uint64_t x = seed | 1;
	for (;;) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t addr = (x >> 8) & 0xfffffff8ull;
		switch (x % 8) {
		case 0: /* MMIO anywhere below RAM or beyond it, any size */
			if (addr >= GUEST_RAM_IPA && addr < GUEST_RAM_IPA + GUEST_RAM_SIZE)
				addr += 0x40000000;
			if (x & 0x100)
				*(volatile uint32_t *)addr = (uint32_t)x;
			else
				(void)*(volatile uint8_t *)(addr | 1);
			break;
		case 1:
			__asm__ volatile("ldp x1, x2, [%0]" : : "r"(addr | 0x80000000ull)
					 : "x1", "x2", "memory");
			break;
		case 2:
			hvc(x >> 32 << 16 | (x & 0xffff), x, ~x, x << 3);
			break;
		case 3:
			hvc(HC_BASE | (x & 3), x >> 7, x, x);
			break;
		case 4:
			smc(x);
			break;
		case 5:
			SYSREG_W(ICC_SGI1R_EL1, x);
			break;
		case 6:
			timer_in(x & 0xfff);
			__asm__ volatile("wfi");
			break;
		default:
			__asm__ volatile("wfe");
			break;
		}
	}
	return 0;
}

/* Each interrupt the notification raises is answered with HC_SIGNAL. */
static uint64_t t_virq_echo(uint64_t n)
{
	hvc(HC_SIGNAL, HC_NTFN_SLOT, 1, 0); /* ready */
	for (uint64_t i = 0; i < n; i++) {
		while (!irqs_seen)
			__asm__ volatile("wfi");
		irqs_seen = 0;
		hvc(HC_SIGNAL, HC_NTFN_SLOT, 1, 0);
	}
	return TEST_PASS;
}

/* For make bench: x1 selects the exit, x2 the count; the VMM times the
 * loop between the two syncs. */
static uint64_t t_bench(uint64_t kind, uint64_t n)
{
	volatile uint64_t *d = REG(TDEV_DATA);
	if (kind == BENCH_INJECT || kind == BENCH_VIRQ)
		gic_on();
	if (kind == BENCH_VIRQ) /* the native side times this one: no syncs */
		return t_virq_echo(n);
	sync_vm(0);
	for (uint64_t i = 0; i < n; i++) {
		if (kind == BENCH_HVC) {
			hvc(PSCI_VERSION, 0, 0, 0);
		} else if (kind == BENCH_MMIO) {
			(void)*d;
		} else if (kind == BENCH_HYPERCALL) {
			hvc(HC_CALL, HC_EP_SLOT, 1, i);
		} else if (kind == BENCH_INJECT) {
			uint64_t seen = irqs_seen; /* the VMM injects at each report */
			*d = i;
			while (irqs_seen == seen)
				__asm__ volatile("wfi");
			irqs_seen = 0;
		} else {
			hvc(HC_YIELD, 0, 0, 0); /* the other VCPU runs */
		}
	}
	sync_vm(1);
	return TEST_PASS;
}

/* Timer ticks forever (the VMM migrates the thread meanwhile), each tick
 * reported by a write to the device. */
static uint64_t t_spin(void)
{
	gic_on();
	uint64_t ms = SYSREG_R(cntfrq_el0) / 1000;
	for (;;) {
		unsigned before = timer_ticks;
		timer_in(ms);
		while (timer_ticks == before)
			__asm__ volatile("wfi");
		*REG(TDEV_DATA) = timer_ticks;
	}
	return 0;
}

/* Its mark in its own RAM; the first byte past its RAM is nobody's. */
static uint64_t t_isolation(uint64_t mark)
{
	volatile uint64_t *mine = (volatile uint64_t *)ISOLATION_SLOT;
	*mine = mark;
	sync_vm(1); /* the VMM checks every VM's RAM now */
	FAIL_IF(*mine != mark);
	(void)*(volatile uint64_t *)(GUEST_RAM_IPA + GUEST_RAM_SIZE); /* aborts */
	FAIL_IF(last_esr >> 26 != 0x25);
	return TEST_PASS;
}

/* --- Two VCPUs: CPU_ON, then SGIs between them ------------------------------ */

extern char secondary_entry[];
static uint64_t secondary_stack[256] __attribute__((aligned(16)));
static volatile uint64_t secondary_mpidr;

static void send_sgi(unsigned intid, unsigned target_aff0)
{
	SYSREG_W(ICC_SGI1R_EL1, (uint64_t)intid << 24 | 1ull << target_aff0);
}

static void wait_sgi(unsigned intid)
{
	while (!(sgis_seen & 1u << intid))
		__asm__ volatile("wfi");
}

/* The second VCPU: says it is up with an SGI, answers the first's. */
void guest_secondary(void)
{
	gic_on();
	secondary_mpidr = SYSREG_R(mpidr_el1);
	send_sgi(SMP_SGI_TO_0, 0);
	wait_sgi(SMP_SGI_TO_1);
	send_sgi(SMP_SGI_DONE, 0);
	for (;;)
		__asm__ volatile("wfi");
}

static uint64_t t_smp(void)
{
	gic_on();
	uint64_t top = (uint64_t)(secondary_stack + 256);
	FAIL_IF(hvc(PSCI_CPU_ON, 1, (uint64_t)secondary_entry, top) != 0);
	wait_sgi(SMP_SGI_TO_0);
	FAIL_IF((secondary_mpidr & 0xff) != 1); /* the VMM gave it affinity 1 */
	send_sgi(SMP_SGI_TO_1, 1);
	wait_sgi(SMP_SGI_DONE);
	FAIL_IF(hvc(PSCI_CPU_ON, 1, (uint64_t)secondary_entry, top) != (uint64_t)-4); /* on */
	return TEST_PASS;
}

/* --- A passed-through device: the PL031 real-time clock ---------------------- */

enum { RTC_DR = 0x00, RTC_MR = 0x04, RTC_IMSC = 0x10, RTC_MIS = 0x18, RTC_ICR = 0x1c,
       RTC_CELL0 = 0xff0 };

/* Its registers are in this guest's space (no exits), its alarm interrupt
 * arrives as virtual interrupt `intid` (no VMM on the way). */
static uint64_t t_passthrough(uint64_t base, uint64_t intid)
{
	volatile uint32_t *rtc = (volatile uint32_t *)base;
	FAIL_IF((rtc[RTC_CELL0 / 4] & 0xff) != 0x0d); /* PrimeCell ID byte 0 */
	gic_on();
	rtc[RTC_ICR / 4] = 1;
	rtc[RTC_MR / 4] = rtc[RTC_DR / 4] + 1;         /* within two seconds */
	rtc[RTC_IMSC / 4] = 1;
	while (!(irqs_seen & 1ull << (intid - 16)))
		__asm__ volatile("wfi");
	FAIL_IF(!(rtc[RTC_MIS / 4] & 1));
	rtc[RTC_IMSC / 4] = 0;
	rtc[RTC_ICR / 4] = 1;
	return TEST_PASS;
}

void guest_main(uint64_t test, uint64_t a1, uint64_t a2)
{
	uint64_t r;
	switch (test) {
	case GT_MMIO: r = t_mmio(); break;
	case GT_HVC_SMC: r = t_hvc_smc(); break;
	case GT_TIMER: r = t_timer(); break;
	case GT_INJECT: r = t_inject(); break;
	case GT_DISABLED: r = t_disabled(); break;
	case GT_ABORT: r = t_abort(); break;
	case GT_NO_SYNDROME: r = t_no_syndrome(); break;
	case GT_SYSREG: r = t_sysreg(); break;
	case GT_HYPERCALL: r = t_hypercall(); break;
	case GT_WFI_WAKE: r = t_wfi_wake(); break;
	case GT_HOSTILE: r = t_hostile(a1); break;
	case GT_BENCH: r = t_bench(a1, a2); break;
	case GT_SPIN: r = t_spin(); break;
	case GT_ISOLATION: r = t_isolation(a1); break;
	case GT_PEEK: *REG(TDEV_DATA) = *(volatile uint64_t *)a1; r = TEST_PASS; break;
	case GT_SMP: r = t_smp(); break;
	case GT_PASSTHROUGH: r = t_passthrough(a1, a2); break;
	case GT_PARKED: r = t_parked(a1); break;
	case GT_DOORBELL: r = t_doorbell(a1); break;
	case GT_VFUZZ: r = t_vfuzz(a1); break;
	case GT_VNETFUZZ: r = t_vnetfuzz(a1); break;
	default: r = 0xbad;
	}
	if (unexpected)
		r = 0xdead0000 | unexpected;
	*REG(TDEV_RESULT) = r;
}
