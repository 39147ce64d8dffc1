/* The test guest's riscv64 part (common.h): its trap handler (start.S
 * vectors here), the checks that name riscv64's registers and SBI calls,
 * and the tests that are its alone, or its form of AArch64's: every
 * load and store form (compressed ones too), SBI HSM hart_start with IPIs
 * for GT_SMP.  Its timer is SBI set_timer (the kernel's), its external
 * interrupts are claimed through the test device (TDEV_CLAIM). */
#include "guests/test/common.h"

#define TICKS_PER_MS 10000 /* QEMU virt's timebase, 10 MHz */
#define SBI_TIME 0x54494d45
#define SBI_HSM 0x48534d
#define SBI_IPI 0x735049

static volatile unsigned soft_seen[2]; /* per hart */
static volatile uint64_t last_cause, last_tval;

static inline uint64_t hart(void)
{
	uint64_t h;
	__asm__("mv %0, tp" : "=r"(h));
	return h;
}

/* --- Traps (start.S) --------------------------------------------------- */

static void skip_insn(void)
{
	uint64_t pc = CSR_R(sepc);
	CSR_W(sepc, pc + ((*(volatile uint16_t *)pc & 3) == 3 ? 4 : 2));
}

/* An interrupt the tests enable: noted; false for any other. */
static bool interrupt(uint64_t irq)
{
	switch (irq) {
	case IRQ_TIMER:
		sbi(SBI_TIME, 0, ~0ull, 0); /* none, until re-armed */
		timer_ticks++;
		return true;
	case IRQ_SOFT:
		__asm__ volatile("csrc sip, %0" : : "r"(1ull << IRQ_SOFT));
		soft_seen[hart() & 1]++;
		return true;
	case IRQ_EXT:
		for (uint64_t id; (id = *REG(TDEV_CLAIM)) != 0;)
			if (id >= 16 && id < 80)
				irqs_seen |= 1ull << (id - 16);
		return true;
	}
	return false;
}

void guest_trap(uint64_t cause, uint64_t tval)
{
	if ((int64_t)cause < 0 && interrupt(cause & 63))
		return;
	if (cause == 5 || cause == 7 || cause == 2) { /* what the VMM injects */
		last_cause = cause;
		last_tval = tval;
		skip_insn();
		return;
	}
	trap_unexpected(cause | 1, cause & 0xffff);
}

/* --- Primitives (common.h) ----------------------------------------------- */

/* Three ecalls, as AArch64's HVC and SMC: an SBI call the VMM answers and
 * an extension it does not have (guest.c adds an unknown Cairn call). */
uint64_t check_vmm_calls(void)
{
	struct sbiret r = sbi(SBI_BASE, 0, 0, 0);
	FAIL_IF(r.error != 0 || r.value != VMM_SBI_VERSION);
	FAIL_IF(sbi(0x0a123456, 0, 0, 0).error != -2); /* SBI_ERR_NOT_SUPPORTED */
	return TEST_PASS;
}

/* The VMM refuses with an access fault, which guest_trap steps over. */
uint64_t check_refused_read(uint64_t addr)
{
	(void)*(volatile uint64_t *)addr;
	FAIL_IF(last_cause != 5 || last_tval != addr); /* a load access fault */
	return TEST_PASS;
}

uint64_t check_refused_write(uint64_t addr)
{
	*(volatile uint64_t *)addr = 1;
	FAIL_IF(last_cause != 7 || last_tval != addr); /* a store access fault */
	return TEST_PASS;
}

/* sscratch: the VMM reads and writes it as vsscratch. */
void parked_set(uint64_t v) { CSR_W(sscratch, v); }
uint64_t parked_get(void) { return CSR_R(sscratch); }

void timer_in(uint64_t ticks) { sbi(SBI_TIME, 0, CSR_R(time) + ticks, 0); }
uint64_t ticks_per_ms(void) { return TICKS_PER_MS; }
bool timer_alone(void) { return !irqs_seen && !soft_seen[0]; }

/* --- Tests --------------------------------------------------------------- */

uint64_t t_mmio(void)
{
	volatile uint8_t *d = (volatile uint8_t *)REG(TDEV_DATA);
	uint64_t v;
	CHECK(check_plain_loads());
	__asm__ volatile("lb %0, 0(%1)" : "=r"(v) : "r"(d));
	FAIL_IF(v != 0xffffffffffffff88ull);
	__asm__ volatile("lh %0, 0(%1)" : "=r"(v) : "r"(d));
	FAIL_IF(v != 0xffffffffffff8788ull);
	__asm__ volatile("lw %0, 0(%1)" : "=r"(v) : "r"(d));
	FAIL_IF(v != 0xffffffff85868788ull);
	__asm__ volatile("lw zero, 0(%0)" : : "r"(d)); /* x0: the value goes nowhere */
	register uint64_t a0 __asm__("a0"), a1 __asm__("a1") = (uint64_t)d;
	__asm__ volatile(".option push\n.option rvc\nc.lw a0, 0(a1)\n.option pop"
			 : "=r"(a0) : "r"(a1));
	FAIL_IF(a0 != 0xffffffff85868788ull); /* a compressed load, sign-extended */
	__asm__ volatile(".option push\n.option rvc\nc.ld a0, 0(a1)\n.option pop"
			 : "=r"(a0) : "r"(a1));
	FAIL_IF(a0 != TDEV_PATTERN);
	*(volatile uint8_t *)d = 0x11;
	*(volatile uint16_t *)d = 0x2233;
	a0 = 0xffffffff44556677ull; /* a compressed store: only the low word */
	__asm__ volatile(".option push\n.option rvc\nc.sw a0, 0(a1)\n.option pop"
			 : : "r"(a0), "r"(a1) : "memory");
	*(volatile uint64_t *)d = 0x8899aabbccddeeffull;
	__asm__ volatile("sd zero, 0(%0)" : : "r"(d) : "memory");
	return TEST_PASS;
}

/* The exits riscv64 has, a random one at a time. */
uint64_t t_hostile(uint64_t seed)
{
	uint64_t v;
	irqs_on();
	for (uint64_t x = seed | 1;;) {
		x = hostile_next(x);
		switch (x % 8) {
		case 0:
			hostile_mmio(x);
			break;
		case 1: /* an atomic: no decoded access, the instruction instead */
			__asm__ volatile("amoadd.w zero, %0, (%1)"
					 : : "r"(x), "r"((x >> 8 & 0xfffffff8ull) | 0x80000000ull)
					 : "memory");
			break;
		case 2:
			sbi(x >> 40, x >> 20 & 0xff, x, ~x);
			break;
		case 3:
			hc(HC_BASE | (x & 3), x >> 7, x, 0);
			break;
		case 4: /* a CSR VS-mode may not touch (hstatus): a virtual instruction */
			__asm__ volatile("csrr %0, 0x600" : "=r"(v));
			break;
		case 5:
			__asm__ volatile(".word 0"); /* illegal: the kernel hands it back */
			break;
		case 6:
			irq_mask();
			timer_in(x & 0xfff);
			irq_sleep();
			break;
		default:
			guest_yield();
			break;
		}
	}
	return 0;
}

/* --- Two harts: HSM hart_start, then IPIs both ways ------------------------- */

extern char secondary_entry[];
static uint64_t secondary_stack[256] __attribute__((aligned(16)));
static volatile uint64_t secondary_hart, secondary_done;

static void ipi(unsigned to) { sbi(SBI_IPI, 0, 1, to); }

static int64_t hart_start(uint64_t h, uint64_t pc, uint64_t opaque)
{
	register uint64_t a0 __asm__("a0") = h, a1 __asm__("a1") = pc, a2 __asm__("a2") = opaque;
	register uint64_t a6 __asm__("a6") = 0, a7 __asm__("a7") = SBI_HSM;
	__asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a6), "r"(a7) : "memory");
	return (int64_t)a0;
}

static void secondary_stops(uint64_t opaque);
static volatile bool hsm_test; /* GT_SBI_RFENCE_HSM: the second hart stops */

/* The second hart: says it is up with an IPI, answers the first's. */
void guest_secondary(uint64_t h, uint64_t opaque)
{
	if (hsm_test)
		secondary_stops(opaque);
	irqs_on();
	secondary_hart = h;
	ipi(0);
	WAIT_UNTIL(soft_seen[1]);
	secondary_done = 1;
	ipi(0);
	for (;;)
		halt();
}

static uint64_t t_smp(void)
{
	irqs_on();
	uint64_t top = (uint64_t)(secondary_stack + 256);
	FAIL_IF(sbi(SBI_HSM, 2, 1, 0).value != 1); /* stopped */
	FAIL_IF(hart_start(1, (uint64_t)secondary_entry, top) != 0);
	WAIT_UNTIL(soft_seen[0]);
	FAIL_IF(secondary_hart != 1 || sbi(SBI_HSM, 2, 1, 0).value != 0); /* started */
	ipi(1);
	WAIT_UNTIL(soft_seen[0] >= 2 && secondary_done);
	FAIL_IF(hart_start(1, (uint64_t)secondary_entry, top) != -6); /* ALREADY_AVAILABLE */
	return TEST_PASS;
}

/* --- SBI RFENCE and HSM hart_stop ------------------------------------------ */

#define SBI_RFENCE 0x52464e43
#define SBI_ERR_NOT_SUPPORTED (-2)
#define SBI_ERR_INVALID_PARAM (-3)
#define SBI_ERR_ALREADY_AVAILABLE (-6)

static int64_t rfence(uint64_t fid, uint64_t mask, uint64_t base)
{
	register uint64_t a0 __asm__("a0") = mask, a1 __asm__("a1") = base;
	register uint64_t a2 __asm__("a2") = 0, a3 __asm__("a3") = ~0ull; /* every address */
	register uint64_t a4 __asm__("a4") = 1;                            /* ASID 1 */
	register uint64_t a6 __asm__("a6") = fid, a7 __asm__("a7") = SBI_RFENCE;
	__asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a3), "r"(a4), "r"(a6), "r"(a7)
			 : "memory");
	return (int64_t)a0;
}

/* Each of the three calls with masks naming harts the VM has (0: done),
 * and with ones naming others: harts 4 and up (VM_MAX_VCPUS), bits past a
 * base, a base with bits above 32 (the whole register counts). */
static uint64_t check_rfence(void)
{
	static const uint64_t good[][2] = { { 1, 0 }, { 3, 0 }, { 0xf, 0 }, { 1, 3 },
					    { 0, ~0ull }, { 0x55, ~0ull }, { 0, 12345 } };
	static const uint64_t bad[][2] = { { 0x10, 0 }, { 1, 4 }, { 2, 3 }, { 1ull << 63, 0 },
					   { 1, 1ull << 32 }, { 1, ~0ull - 1 }, { 3, 1ull << 63 } };
	FAIL_IF(sbi(SBI_BASE, 3, SBI_RFENCE, 0).value != 1); /* probe: there */
	for (uint64_t fid = 0; fid < 3; fid++) {
		for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++)
			FAIL_IF(rfence(fid, good[i][0], good[i][1]) != 0);
		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			FAIL_IF(rfence(fid, bad[i][0], bad[i][1]) != SBI_ERR_INVALID_PARAM);
	}
	FAIL_IF(rfence(3, 1, 0) != SBI_ERR_NOT_SUPPORTED); /* remote_hfence_gvma_vmid */
	FAIL_IF(rfence(1ull << 32, 1, 0) != SBI_ERR_NOT_SUPPORTED);
	return TEST_PASS;
}

static volatile unsigned secondary_runs;
static volatile uint64_t secondary_a1, hart_stop_returned;

/* Once started: notes its run and a1, and stops; hart_stop never returns. */
static void secondary_stops(uint64_t opaque)
{
	secondary_a1 = opaque;
	secondary_runs++;
	sbi(SBI_HSM, 1, 0, 0);
	hart_stop_returned = 1;
	for (;;)
		halt();
}

static uint64_t hart_status(uint64_t h) { return sbi(SBI_HSM, 2, h, 0).value; }

/* Yield (the other VCPU may share this CPU) until hart 1 has run `runs`
 * times and stopped again. */
static uint64_t wait_stopped(unsigned runs)
{
	for (unsigned n = 0; secondary_runs < runs || hart_status(1) != 1; n++) {
		FAIL_IF(n > 100000);
		guest_yield();
	}
	return TEST_PASS;
}

/* Hart 1 started, stopped by its own hart_stop, started again at the same
 * entry with another a1, stopped again. */
static uint64_t check_hart_stop(void)
{
	uint64_t top = (uint64_t)(secondary_stack + 256);
	hsm_test = true;
	FAIL_IF(hart_status(1) != 1 || hart_status(2) != 1);
	FAIL_IF(sbi(SBI_HSM, 2, 4, 0).error != SBI_ERR_INVALID_PARAM);
	FAIL_IF(sbi(SBI_HSM, 2, 1ull << 32 | 1, 0).error != SBI_ERR_INVALID_PARAM);
	FAIL_IF(hart_start(1, (uint64_t)secondary_entry, top) != 0);
	CHECK(wait_stopped(1));
	FAIL_IF(secondary_a1 != top);
	FAIL_IF(hart_start(1, (uint64_t)secondary_entry, top - 64) != 0);
	CHECK(wait_stopped(2));
	FAIL_IF(secondary_a1 != top - 64 || hart_stop_returned);
	FAIL_IF(hart_start(3, (uint64_t)secondary_entry, top) != SBI_ERR_INVALID_PARAM);
	return TEST_PASS;
}

static uint64_t t_sbi_rfence_hsm(void)
{
	CHECK(check_rfence());
	CHECK(check_hart_stop());
	CHECK(check_rfence()); /* with two VCPUs, one of them stopped */
	return TEST_PASS;
}

/* AArch64's alone: GT_NO_SYNDROME, GT_SYSREG, GT_PASSTHROUGH. */
uint64_t isa_test(uint64_t test, uint64_t a1, uint64_t a2)
{
	(void)a1, (void)a2;
	switch (test) {
	case GT_TIMER: return t_timer();
	case GT_SMP: return t_smp();
	case GT_SBI_RFENCE_HSM: return t_sbi_rfence_hsm();
	default: return 0xbad;
	}
}
