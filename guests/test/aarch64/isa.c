/* The test guest's AArch64 part (common.h): its exception handlers (start.S
 * vectors here), the checks that name AArch64's registers, and the tests
 * that are AArch64's alone: a syndrome-less ldp, an ICC_SGI1R_EL1 write,
 * PSCI CPU_ON with SGIs, a passed-through PL031. */
#include "guests/test/common.h"

static volatile uint64_t last_esr, last_far;
static volatile uint64_t sgis_seen; /* bit intid per SGI seen */

/* --- Exception handlers (start.S) -------------------------------------- */

void guest_unexpected(uint64_t off)
{
	trap_unexpected(off | 1, off);
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

static uint64_t smc(uint64_t x0)
{
	register uint64_t r0 __asm__("x0") = x0;
	__asm__ volatile("smc #0" : "+r"(r0) : : "x1", "x2", "x3", "memory");
	return r0;
}

/* --- Primitives (common.h) ----------------------------------------------- */

uint64_t check_vmm_calls(void)
{
	FAIL_IF(hvc(PSCI_VERSION, 0, 0, 0) != VMM_PSCI_VERSION);
	FAIL_IF(smc(PSCI_VERSION) != VMM_PSCI_VERSION);
	return TEST_PASS;
}

/* The VMM refuses with a synchronous external abort, which guest_sync
 * steps over. */
uint64_t check_refused_read(uint64_t addr)
{
	(void)*(volatile uint64_t *)addr;
	FAIL_IF(last_esr >> 26 != 0x25);    /* data abort, same EL */
	FAIL_IF((last_esr & 0x3f) != 0x10); /* synchronous external abort */
	FAIL_IF(last_far != addr);
	return TEST_PASS;
}

uint64_t check_refused_write(uint64_t addr)
{
	*(volatile uint64_t *)addr = 1;
	FAIL_IF(!(last_esr & (1u << 6))); /* WnR */
	return TEST_PASS;
}

void parked_set(uint64_t v) { SYSREG_W(tpidr_el1, v); }
uint64_t parked_get(void) { return SYSREG_R(tpidr_el1); }

void timer_in(uint64_t ticks)
{
	SYSREG_W(cntv_cval_el0, SYSREG_R(cntvct_el0) + ticks);
	SYSREG_W(cntv_ctl_el0, 1);
}

uint64_t ticks_per_ms(void) { return SYSREG_R(cntfrq_el0) / 1000; }

bool timer_alone(void) { return irqs_seen == 1ull << (VIRQ_VTIMER - 16); }

/* --- Tests --------------------------------------------------------------- */

uint64_t t_mmio(void)
{
	volatile uint8_t *d = (volatile uint8_t *)REG(TDEV_DATA);
	uint64_t v;
	CHECK(check_plain_loads());
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

/* The exits AArch64 has, a random one at a time. */
uint64_t t_hostile(uint64_t seed)
{
	for (uint64_t x = seed | 1;;) {
		x = hostile_next(x);
		switch (x % 8) {
		case 0:
			hostile_mmio(x);
			break;
		case 1:
			__asm__ volatile("ldp x1, x2, [%0]" : : "r"((x >> 8 & 0xfffffff8ull) | 0x80000000ull)
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
	WAIT_UNTIL(sgis_seen & 1u << intid);
}

/* The second VCPU: says it is up with an SGI, answers the first's. */
void guest_secondary(void)
{
	irqs_on();
	secondary_mpidr = SYSREG_R(mpidr_el1);
	send_sgi(SMP_SGI_TO_0, 0);
	wait_sgi(SMP_SGI_TO_1);
	send_sgi(SMP_SGI_DONE, 0);
	for (;;)
		halt();
}

static uint64_t t_smp(void)
{
	irqs_on();
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
	irqs_on();
	rtc[RTC_ICR / 4] = 1;
	rtc[RTC_MR / 4] = rtc[RTC_DR / 4] + 1;         /* within two seconds */
	rtc[RTC_IMSC / 4] = 1;
	wait_irqs(1ull << (intid - 16));
	FAIL_IF(!(rtc[RTC_MIS / 4] & 1));
	rtc[RTC_IMSC / 4] = 0;
	rtc[RTC_ICR / 4] = 1;
	return TEST_PASS;
}

uint64_t isa_test(uint64_t test, uint64_t a1, uint64_t a2)
{
	switch (test) {
	case GT_TIMER: return t_timer();
	case GT_NO_SYNDROME: return t_no_syndrome();
	case GT_SYSREG: return t_sysreg();
	case GT_SMP: return t_smp();
	case GT_PASSTHROUGH: return t_passthrough(a1, a2);
	default: return 0xbad;
	}
}
