/* The test guest on riscv64: a bare-metal VS-mode program with the same
 * contract as guests/test/guest.c (guest.h), one test per run chosen by a0
 * at entry.  Where AArch64 makes an HVC it makes an SBI call (ecall, the
 * function in a7); Cairn's hypercalls are ecalls with a7 in HC_BASE's
 * range.  Its timer is SBI set_timer (the kernel's), its external
 * interrupts are claimed through the test device (TDEV_CLAIM). */
#include <stdint.h>
#include "cairn/vcpu.h"
#include "guests/test/guest.h"

uint64_t t_vfuzz(uint64_t n);    /* vfuzz.c */
uint64_t t_vnetfuzz(uint64_t n); /* vnetfuzz.c */

#define REG(off) ((volatile uint64_t *)(TDEV_IPA + (off)))
#define FAIL_IF(c) do { if (c) return __LINE__ * 16 + 2; } while (0)
#define CSR_R(r) ({ uint64_t v_; __asm__ volatile("csrr %0, " #r : "=r"(v_)); v_; })
#define CSR_W(r, v) __asm__ volatile("csrw " #r ", %0" : : "r"((uint64_t)(v)) : "memory")
#define TICKS_PER_MS 10000 /* QEMU virt's timebase, 10 MHz */
#define SBI_BASE 0x10
#define SBI_TIME 0x54494d45
#define IRQ_SOFT 1
#define IRQ_TIMER 5
#define IRQ_EXT 9

static volatile uint64_t irqs_seen;   /* bit (id - 16) per external interrupt claimed */
static volatile unsigned timer_ticks, soft_seen[2]; /* per hart */
static volatile uint64_t last_cause, last_tval, unexpected;

static void sync_vm(uint64_t step) { *REG(TDEV_SYNC) = step; }

static inline uint64_t hart(void)
{
	uint64_t h;
	__asm__("mv %0, tp" : "=r"(h));
	return h;
}

struct sbiret { int64_t error; uint64_t value; };

static struct sbiret sbi(uint64_t eid, uint64_t fid, uint64_t a0, uint64_t a1)
{
	register uint64_t r0 __asm__("a0") = a0, r1 __asm__("a1") = a1;
	register uint64_t r6 __asm__("a6") = fid, r7 __asm__("a7") = eid;
	__asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r6), "r"(r7) : "memory");
	return (struct sbiret){ (int64_t)r0, r1 };
}

/* A Cairn hypercall: a7 the function, a0 capability, a1 info or bits. */
static uint64_t hc(uint64_t fn, uint64_t cap, uint64_t info)
{
	register uint64_t a0 __asm__("a0") = cap, a1 __asm__("a1") = info, a7 __asm__("a7") = fn;
	__asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a7)
			 : "a2", "a3", "a4", "a5", "a6", "memory");
	return a0;
}

void guest_yield(void) { hc(HC_YIELD, 0, 0); }

static void timer_in(uint64_t ticks) { sbi(SBI_TIME, 0, CSR_R(time) + ticks, 0); }

/* --- Traps (start.S) --------------------------------------------------- */

static void skip_insn(void)
{
	uint64_t pc = CSR_R(sepc);
	CSR_W(sepc, pc + ((*(volatile uint16_t *)pc & 3) == 3 ? 4 : 2));
}

void guest_trap(uint64_t cause, uint64_t tval)
{
	if ((int64_t)cause < 0) {
		switch (cause & 63) {
		case IRQ_TIMER:
			sbi(SBI_TIME, 0, ~0ull, 0); /* none, until re-armed */
			timer_ticks++;
			return;
		case IRQ_SOFT:
			__asm__ volatile("csrc sip, %0" : : "r"(1ull << IRQ_SOFT));
			soft_seen[hart() & 1]++;
			return;
		case IRQ_EXT:
			for (uint64_t id; (id = *REG(TDEV_CLAIM)) != 0;)
				if (id >= 16 && id < 80)
					irqs_seen |= 1ull << (id - 16);
			return;
		}
	} else if (cause == 5 || cause == 7 || cause == 2) { /* what the VMM injects */
		last_cause = cause;
		last_tval = tval;
		skip_insn();
		return;
	}
	unexpected = cause | 1;
	*REG(TDEV_RESULT) = 0xdead0000 | (cause & 0xffff);
	for (;;)
		__asm__ volatile("wfi");
}

/* Wait, with interrupts masked between the test and the WFI (which wakes
 * for an enabled pending interrupt whatever sstatus.SIE says), so that
 * one taken in between cannot leave it asleep for good. */
static inline void SIE_OFF(void) { __asm__ volatile("csrc sstatus, 2" ::: "memory"); }
static inline void SIE_ON(void) { __asm__ volatile("csrs sstatus, 2" ::: "memory"); }
#define WAIT_UNTIL(cond)                                  \
	do {                                              \
		for (SIE_OFF(); !(cond); SIE_OFF()) {     \
			__asm__ volatile("wfi");          \
			SIE_ON();                         \
		}                                         \
		SIE_ON();                                 \
	} while (0)

static void irqs_on(void)
{
	__asm__ volatile("csrs sie, %0" : : "r"(1ull << IRQ_SOFT | 1ull << IRQ_TIMER | 1ull << IRQ_EXT));
	__asm__ volatile("csrs sstatus, 2" ::: "memory");
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

/* Three ecalls, as AArch64's two HVCs and an SMC: an SBI call the VMM
 * answers, an extension it does not have, and an unknown Cairn call the
 * kernel refuses. */
static uint64_t t_hvc_smc(void)
{
	struct sbiret r = sbi(SBI_BASE, 0, 0, 0);
	FAIL_IF(r.error != 0 || r.value != VMM_SBI_VERSION);
	FAIL_IF(sbi(0x0a123456, 0, 0, 0).error != -2); /* SBI_ERR_NOT_SUPPORTED */
	FAIL_IF(hc(HC_BASE + 0x99, 0, 0) == 0);
	return TEST_PASS;
}

static uint64_t t_timer(void)
{
	irqs_on();
	for (unsigned i = 0; i < GT_TIMER_TICKS; i++) {
		unsigned before = timer_ticks;
		timer_in(TICKS_PER_MS);
		WAIT_UNTIL(timer_ticks != before);
	}
	FAIL_IF(irqs_seen || soft_seen[0]);
	return TEST_PASS;
}

static uint64_t wait_irqs(uint64_t mask)
{
	WAIT_UNTIL((irqs_seen & mask) == mask);
	return irqs_seen;
}

static uint64_t t_inject(void)
{
	irqs_on();
	sync_vm(1); /* the VMM injects 40..47 now */
	uint64_t all = ((1ull << GT_INJECT_COUNT) - 1) << (GT_INJECT_FIRST - 16);
	FAIL_IF(wait_irqs(all) != all);
	return TEST_PASS;
}

static uint64_t t_disabled(void)
{
	irqs_on();
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
	uint64_t v = *outside; /* the VMM refuses: a load access fault */
	(void)v;
	FAIL_IF(last_cause != 5 || last_tval != OUTSIDE_RAM_IPA);
	*outside = 1;
	FAIL_IF(last_cause != 7 || last_tval != OUTSIDE_RAM_IPA);
	return TEST_PASS;
}

/* The VMM reads and rewrites vsscratch at each of n syncs (3 if 0), while
 * this VCPU's state may be parked in another hart's CSRs. */
static uint64_t t_parked(uint64_t n)
{
	for (uint64_t i = 1; i <= (n ? n : 3); i++) {
		CSR_W(sscratch, PARKED_MINE + i);
		sync_vm(i);
		FAIL_IF(CSR_R(sscratch) != PARKED_VMMS + i);
	}
	return t_abort();
}

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
	register uint64_t a7 __asm__("a7") = HC_CALL, a0 __asm__("a0") = HC_EP_SLOT;
	register uint64_t a1 __asm__("a1") = 7ull << 16 | 2, a2 __asm__("a2") = 5;
	register uint64_t a3 __asm__("a3") = 6;
	__asm__ volatile("ecall" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3) : "r"(a7)
			 : "a4", "a5", "a6", "memory");
	FAIL_IF(a0 != 0);
	FAIL_IF(a1 >> 16 != 8 || (a1 & 15) != 2); /* the server's label and length */
	FAIL_IF(a2 != 6 || a3 != 7);              /* each word plus one */
	FAIL_IF(hc(HC_CALL, 99, 0) == 0);         /* no capability there */
	FAIL_IF(hc(HC_CALL, HC_EP_SLOT, 6) == 0); /* six words: too long */
	FAIL_IF(hc(HC_SIGNAL, HC_NTFN_SLOT, 0x40) != 0);
	return TEST_PASS;
}

static uint64_t t_wfi_wake(void)
{
	irqs_on();
	__asm__ volatile("wfi"); /* nothing armed: the VMM injects 42 (or did: returns) */
	wait_irqs(1ull << (42 - 16));
	return TEST_PASS;
}

/* Random exits of every kind, forever; the VMM counts and stops it. */
static uint64_t t_hostile(uint64_t seed)
{
	uint64_t x = seed | 1;
	irqs_on();
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
		case 1: /* an atomic: no decoded access, the instruction instead */
			__asm__ volatile("amoadd.w zero, %0, (%1)" : : "r"(x), "r"(addr | 0x80000000ull)
					 : "memory");
			break;
		case 2:
			sbi(x >> 40, x >> 20 & 0xff, x, ~x);
			break;
		case 3:
			hc(HC_BASE | (x & 3), x >> 7, x);
			break;
		case 4: /* a CSR VS-mode may not touch (hstatus): a virtual instruction */
			__asm__ volatile("csrr %0, 0x600" : "=r"(addr));
			break;
		case 5:
			__asm__ volatile(".word 0"); /* illegal: the kernel hands it back */
			break;
		case 6:
			SIE_OFF();
			timer_in(x & 0xfff);
			__asm__ volatile("wfi");
			SIE_ON();
			break;
		default:
			guest_yield();
			break;
		}
	}
	return 0;
}

/* Each interrupt the notification raises is answered with HC_SIGNAL. */
static uint64_t t_virq_echo(uint64_t n)
{
	hc(HC_SIGNAL, HC_NTFN_SLOT, 1); /* ready */
	for (uint64_t i = 0; i < n; i++) {
		WAIT_UNTIL(irqs_seen);
		irqs_seen = 0;
		hc(HC_SIGNAL, HC_NTFN_SLOT, 1);
	}
	return TEST_PASS;
}

static uint64_t t_bench(uint64_t kind, uint64_t n)
{
	volatile uint64_t *d = REG(TDEV_DATA);
	if (kind == BENCH_INJECT || kind == BENCH_VIRQ)
		irqs_on();
	if (kind == BENCH_VIRQ)
		return t_virq_echo(n);
	sync_vm(0);
	for (uint64_t i = 0; i < n; i++) {
		if (kind == BENCH_HVC) {
			sbi(SBI_BASE, 0, 0, 0);
		} else if (kind == BENCH_MMIO) {
			(void)*d;
		} else if (kind == BENCH_HYPERCALL) {
			register uint64_t a7 __asm__("a7") = HC_CALL, a0 __asm__("a0") = HC_EP_SLOT;
			register uint64_t a1 __asm__("a1") = 1, a2 __asm__("a2") = i;
			__asm__ volatile("ecall" : "+r"(a0), "+r"(a1), "+r"(a2) : "r"(a7)
					 : "a3", "a4", "a5", "a6", "memory");
		} else if (kind == BENCH_INJECT) {
			uint64_t seen = irqs_seen;
			*d = i;
			WAIT_UNTIL(irqs_seen != seen);
			irqs_seen = 0;
		} else {
			guest_yield();
		}
	}
	sync_vm(1);
	return TEST_PASS;
}

static uint64_t t_spin(void)
{
	irqs_on();
	for (;;) {
		unsigned before = timer_ticks;
		timer_in(TICKS_PER_MS);
		WAIT_UNTIL(timer_ticks != before);
		*REG(TDEV_DATA) = timer_ticks;
	}
	return 0;
}

static uint64_t t_isolation(uint64_t mark)
{
	volatile uint64_t *mine = (volatile uint64_t *)ISOLATION_SLOT;
	*mine = mark;
	sync_vm(1);
	FAIL_IF(*mine != mark);
	(void)*(volatile uint64_t *)(GUEST_RAM_IPA + GUEST_RAM_SIZE); /* faults */
	FAIL_IF(last_cause != 5);
	return TEST_PASS;
}

/* --- Two harts: HSM hart_start, then IPIs both ways ------------------------- */

#define SBI_HSM 0x48534d
#define SBI_IPI 0x735049
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

/* The second hart: says it is up with an IPI, answers the first's. */
void guest_secondary(uint64_t h)
{
	irqs_on();
	secondary_hart = h;
	ipi(0);
	WAIT_UNTIL(soft_seen[1]);
	secondary_done = 1;
	ipi(0);
	for (;;)
		__asm__ volatile("wfi");
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
	case GT_HYPERCALL: r = t_hypercall(); break;
	case GT_WFI_WAKE: r = t_wfi_wake(); break;
	case GT_HOSTILE: r = t_hostile(a1); break;
	case GT_BENCH: r = t_bench(a1, a2); break;
	case GT_SPIN: r = t_spin(); break;
	case GT_ISOLATION: r = t_isolation(a1); break;
	case GT_PEEK: *REG(TDEV_DATA) = *(volatile uint64_t *)a1; r = TEST_PASS; break;
	case GT_PARKED: r = t_parked(a1); break;
	case GT_SMP: r = t_smp(); break;
	case GT_DOORBELL: r = t_doorbell(a1); break;
	case GT_VFUZZ: r = t_vfuzz(a1); break;
	case GT_VNETFUZZ: r = t_vnetfuzz(a1); break;
	default: r = 0xbad; /* AArch64's alone: GT_NO_SYNDROME, GT_SYSREG, ... */
	}
	if (unexpected)
		r = 0xdead0000 | unexpected;
	*REG(TDEV_RESULT) = r;
}
