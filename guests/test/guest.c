/* The test guest: a bare-metal program exercising one kind of exit per
 * run (guest.h), the tests every ISA has written once over the ISA's
 * primitives (common.h).  It reports through its test device; anything
 * unexpected (a wrong value, a trap it did not ask for) is reported as the
 * line where it was found, so a failure names its check. */
#include "guests/test/common.h"

volatile uint64_t irqs_seen, unexpected;

void guest_yield(void) { hc(HC_YIELD, 0, 0, 0); }

void trap_unexpected(uint64_t noted, uint64_t code)
{
	unexpected = noted;
	*REG(TDEV_RESULT) = 0xdead0000 | code;
	for (;;)
		halt();
}

uint64_t wait_irqs(uint64_t mask)
{
	WAIT_UNTIL((irqs_seen & mask) == mask);
	return irqs_seen;
}

/* --- Tests --------------------------------------------------------------- */

uint64_t check_plain_loads(void)
{
	volatile uint8_t *d = (volatile uint8_t *)REG(TDEV_DATA);
	FAIL_IF(*d != 0x88);
	FAIL_IF(*(volatile uint16_t *)d != 0x8788);
	FAIL_IF(*(volatile uint32_t *)d != 0x85868788u);
	FAIL_IF(*(volatile uint64_t *)d != TDEV_PATTERN);
	return TEST_PASS;
}

static uint64_t t_hvc_smc(void)
{
	CHECK(check_vmm_calls());
	FAIL_IF(hc(HC_BASE + 0x99, 0, 0, 0) == 0); /* unknown: an error, not the VMM */
	return TEST_PASS;
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
	CHECK(check_refused_read(OUTSIDE_RAM_IPA));
	CHECK(check_refused_write(OUTSIDE_RAM_IPA));
	return TEST_PASS;
}

/* The VMM reads and rewrites the parked register at each of n syncs (3
 * if 0), while this VCPU's state may be parked in another CPU's. */
static uint64_t t_parked(uint64_t n)
{
	for (uint64_t i = 1; i <= (n ? n : 3); i++) {
		parked_set(PARKED_MINE + i);
		sync_vm(i);
		FAIL_IF(parked_get() != PARKED_VMMS + i);
	}
	return t_abort(); /* an injected fault, its registers parked meanwhile */
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

/* The VMM binds TDEV_STATUS to a word (0xa5) at step 1 and unbinds it at
 * step 3; the 64-bit read is not the kernel's to answer, so it exits. */
static uint64_t t_status(void)
{
	volatile uint32_t *status = (volatile uint32_t *)REG(TDEV_STATUS), *ack = status + 1;
	sync_vm(1);
	FAIL_IF(*status != 0xa5);
	*ack = 0x05;
	FAIL_IF(*status != 0xa0);
	(void)*REG(TDEV_STATUS);
	sync_vm(2); /* the word is now 0x5a5a0000 */
	FAIL_IF(*status != 0x5a5a0000);
	*ack = ~0u;
	sync_vm(3); /* unbound: these two exit, and the VMM answers 0 */
	FAIL_IF(*status != 0);
	*ack = 1;
	sync_vm(4);
	return TEST_PASS;
}

static uint64_t t_hypercall(void)
{
	struct hc h = { HC_CALL, HC_EP_SLOT, 7ull << 16 | 2, 5, 6 };
	hypercall(&h);
	FAIL_IF(h.fn != 0);
	FAIL_IF(h.info >> 16 != 8 || (h.info & 15) != 2); /* the server's label and length */
	FAIL_IF(h.w0 != 6 || h.w1 != 7);                  /* each word plus one */
	FAIL_IF(hc(HC_CALL, 99, 0, 0) == 0);              /* no capability there */
	FAIL_IF(hc(HC_CALL, HC_EP_SLOT, 6, 0) == 0);      /* six words: too long */
	FAIL_IF(hc(HC_SIGNAL, HC_NTFN_SLOT, 0x40, 0) != 0);
	return TEST_PASS;
}

static uint64_t t_wfi_wake(void)
{
	irqs_on();
	irq_mask();
	irq_sleep(); /* nothing armed: the VMM injects 42 (or did: returns) */
	wait_irqs(1ull << (42 - 16));
	return TEST_PASS;
}

/* Each interrupt the notification raises is answered with HC_SIGNAL. */
static uint64_t t_virq_echo(uint64_t n)
{
	hc(HC_SIGNAL, HC_NTFN_SLOT, 1, 0); /* ready */
	for (uint64_t i = 0; i < n; i++) {
		WAIT_UNTIL(irqs_seen);
		irqs_seen = 0;
		hc(HC_SIGNAL, HC_NTFN_SLOT, 1, 0);
	}
	return TEST_PASS;
}

/* One exit of make bench's kind, the i-th. */
static void bench_exit(uint64_t kind, uint64_t i)
{
	volatile uint64_t *d = REG(TDEV_DATA);
	uint64_t seen;
	switch (kind) {
	case BENCH_HVC:
		vmm_version();
		break;
	case BENCH_MMIO:
		(void)*d;
		break;
	case BENCH_HYPERCALL:
		hc(HC_CALL, HC_EP_SLOT, 1, i);
		break;
	case BENCH_INJECT:
		seen = irqs_seen;
		*d = i; /* the VMM injects at each report */
		WAIT_UNTIL(irqs_seen != seen);
		irqs_seen = 0;
		break;
	default:
		guest_yield(); /* the other VCPU runs */
	}
}

/* For make bench: a1 selects the exit, a2 the count; the VMM times the
 * loop between the two syncs. */
static uint64_t t_bench(uint64_t kind, uint64_t n)
{
	if (kind == BENCH_INJECT || kind == BENCH_VIRQ)
		irqs_on();
	if (kind == BENCH_VIRQ) /* the native side times this one: no syncs */
		return t_virq_echo(n);
	sync_vm(0);
	for (uint64_t i = 0; i < n; i++)
		bench_exit(kind, i);
	sync_vm(1);
	return TEST_PASS;
}

/* Its mark in its own RAM; the first byte past its RAM is nobody's. */
static uint64_t t_isolation(uint64_t mark)
{
	volatile uint64_t *mine = (volatile uint64_t *)ISOLATION_SLOT;
	*mine = mark;
	sync_vm(1); /* the VMM checks every VM's RAM now */
	FAIL_IF(*mine != mark);
	CHECK(check_refused_read(GUEST_RAM_IPA + GUEST_RAM_SIZE));
	return TEST_PASS;
}

static uint64_t t_peek(uint64_t addr)
{
	*REG(TDEV_DATA) = *(volatile uint64_t *)addr;
	return TEST_PASS;
}

/* A page of guest RAM the VMM maps without the execute right: a call
 * into it exits (VMEXIT_INSN_ABORT at EXEC_IPA), and returns once the VMM
 * has mapped it executable; the sync tells the VMM it did. */
static uint64_t t_exec(void)
{
	*(volatile uint32_t *)EXEC_IPA = RET_INSN;
	((void (*)(void))EXEC_IPA)();
	sync_vm(1);
	return TEST_PASS;
}

/* The tests every ISA has; the others are the ISA's (isa_test). */
static uint64_t run_test(uint64_t test, uint64_t a1, uint64_t a2)
{
	switch (test) {
	case GT_MMIO: return t_mmio();
	case GT_HVC_SMC: return t_hvc_smc();
	case GT_INJECT: return t_inject();
	case GT_DISABLED: return t_disabled();
	case GT_ABORT: return t_abort();
	case GT_HYPERCALL: return t_hypercall();
	case GT_WFI_WAKE: return t_wfi_wake();
	case GT_HOSTILE: return t_hostile(a1);
	case GT_BENCH: return t_bench(a1, a2);
	case GT_SPIN: return t_spin();
	case GT_ISOLATION: return t_isolation(a1);
	case GT_PEEK: return t_peek(a1);
	case GT_PARKED: return t_parked(a1);
	case GT_DOORBELL: return t_doorbell(a1);
	case GT_STATUS: return t_status();
	case GT_EXEC: return t_exec();
	case GT_VFUZZ: return t_vfuzz(a1);
	case GT_VNETFUZZ: return t_vnetfuzz(a1);
	default: return isa_test(test, a1, a2);
	}
}

void guest_main(uint64_t test, uint64_t a1, uint64_t a2)
{
	uint64_t r = run_test(test, a1, a2);
	if (unexpected)
		r = 0xdead0000 | unexpected;
	*REG(TDEV_RESULT) = r;
}
