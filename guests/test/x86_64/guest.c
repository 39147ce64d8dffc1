/* The test guest on x86_64 (long mode, set up by start.S): the tests of
 * guests/test/guest.h that have an x86 form, each talking to the test
 * device, reporting a failure as the line where it was found.  Injected
 * interrupts arrive as their vector (the VMM's virtual interrupt number);
 * an access the VMM refuses arrives as #GP. */
#include <stdint.h>
#include "cairn/vcpu.h"
#include "guests/test/guest.h"

uint64_t t_vfuzz(uint64_t n);    /* ../vfuzz.c */
uint64_t t_vnetfuzz(uint64_t n); /* ../vnetfuzz.c */
uint64_t probe_read(uint64_t addr);          /* start.S: ~0 if it faulted */
void probe_write(uint64_t addr, uint64_t v);

#define REG(off) ((volatile uint64_t *)(TDEV_IPA + (off)))
#define FAIL_IF(c) do { if (c) return __LINE__ * 16 + 2; } while (0)

struct frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax, vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
extern char guest_stubs[];
extern uint64_t idt[512], resume_at;

static volatile uint64_t irqs_seen;       /* bit (vector - 16) per interrupt seen */
static volatile uint64_t last_vector, unexpected;

static void sync_vm(uint64_t step) { *REG(TDEV_SYNC) = step; }

/* --- Traps ----------------------------------------------------------------- */

void guest_idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)guest_stubs + 16 * v;
		idt[2 * v] = (a & 0xffff) | 0x08ull << 16 | 0x8eull << 40 |
			     ((a >> 16) & 0xffff) << 48;
		idt[2 * v + 1] = a >> 32;
	}
}

/* An exception a probe asked for resumes past it; any other is reported.
 * Interrupts are noted (no interrupt controller: nothing to acknowledge). */
void guest_trap(struct frame *f)
{
	if (f->vector >= 32) {
		if (f->vector < 80)
			irqs_seen |= 1ull << (f->vector - 16);
		return;
	}
	if (resume_at) {
		last_vector = f->vector;
		f->rip = resume_at;
		resume_at = 0;
		return;
	}
	unexpected = f->vector | 0x100;
	*REG(TDEV_RESULT) = 0xdead0000 | f->vector;
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* rax, rbx, rcx, rdx: a VMMCALL outside Cairn's range reaches the VMM with
 * them; rax comes back. */
static uint64_t vmmcall(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	__asm__ volatile("vmmcall" : "+a"(a), "+b"(b), "+c"(c), "+d"(d) : : "memory");
	return a;
}

/* Cairn's hypercalls: rax function, rdi capability, rsi info, rdx r10 r8
 * r9 r12 the words; rax the error. */
static uint64_t hcall(uint64_t fn, uint64_t cap, uint64_t info, uint64_t w0)
{
	register uint64_t r10 __asm__("r10") = 0, r8 __asm__("r8") = 0;
	__asm__ volatile("vmmcall" : "+a"(fn), "+D"(cap), "+S"(info), "+d"(w0), "+r"(r10),
			 "+r"(r8) : : "r9", "r12", "memory");
	return fn;
}

void guest_yield(void) { hcall(HC_YIELD, 0, 0, 0); }

/* Interrupts on, and sleep until every one of mask has arrived (STI's
 * shadow covers the HLT: none slips in between). */
static uint64_t wait_irqs(uint64_t mask)
{
	for (;;) {
		__asm__ volatile("cli" ::: "memory");
		if ((irqs_seen & mask) == mask)
			break;
		__asm__ volatile("sti; hlt" ::: "memory");
	}
	__asm__ volatile("sti" ::: "memory");
	return irqs_seen;
}

/* --- Tests ----------------------------------------------------------------- */

/* Every MOV form the kernel decodes, each size, each extension. */
static uint64_t t_mmio(void)
{
	volatile uint64_t *d = REG(TDEV_DATA);
	uint64_t v;
	__asm__ volatile("movb (%1), %b0" : "=q"(v) : "r"(d));
	FAIL_IF((uint8_t)v != 0x88);
	__asm__ volatile("movw (%1), %w0" : "=r"(v) : "r"(d));
	FAIL_IF((uint16_t)v != 0x8788);
	__asm__ volatile("movq $-1, %0; movl (%1), %k0" : "=r"(v) : "r"(d));
	FAIL_IF(v != 0x85868788u); /* a 32-bit load clears the upper half */
	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(d));
	FAIL_IF(v != TDEV_PATTERN);
	__asm__ volatile("movsbq (%1), %0" : "=r"(v) : "r"(d));
	FAIL_IF(v != 0xffffffffffffff88ull);
	__asm__ volatile("movq $-1, %0; movswl (%1), %k0" : "=r"(v) : "r"(d));
	FAIL_IF(v != 0xffff8788ull);
	__asm__ volatile("movq $-1, %0; movzbl (%1), %k0" : "=r"(v) : "r"(d));
	FAIL_IF(v != 0x88);
	__asm__ volatile("movq $-1, %0; movb (%1), %b0" : "=q"(v) : "r"(d));
	FAIL_IF(v != 0xffffffffffffff88ull); /* an 8-bit load merges */
	__asm__ volatile("movq $-1, %%r13; movw 0(%1), %%r13w; movq %%r13, %0"
			 : "=r"(v) : "r"(d) : "r13"); /* REX: r13 */
	FAIL_IF(v != 0xffffffffffff8788ull);
	__asm__ volatile("movb $0x11, (%0)" : : "r"(d) : "memory");
	__asm__ volatile("movw $0x2233, 0(%0)" : : "r"(d) : "memory");
	__asm__ volatile("movl $0x44556677, (%0)" : : "r"(d) : "memory");
	__asm__ volatile("movq %1, (%0)" : : "r"(d), "r"(0x8899aabbccddeeffull) : "memory");
	__asm__ volatile("movq $0, (%0)" : : "r"(d) : "memory");
	return TEST_PASS;
}

static uint64_t t_hvc_smc(void)
{
	FAIL_IF(vmmcall(PSCI_VERSION, 0, 0, 0) != VMM_PSCI_VERSION);
	FAIL_IF(vmmcall(PSCI_VERSION, 1, 2, 3) != VMM_PSCI_VERSION);
	FAIL_IF(hcall(HC_BASE + 0x99, 0, 0, 0) == 0); /* unknown: an error, not the VMM */
	return TEST_PASS;
}

static uint64_t t_inject(void)
{
	__asm__ volatile("sti");
	sync_vm(1); /* the VMM injects 40..47 now */
	uint64_t all = ((1ull << GT_INJECT_COUNT) - 1) << (GT_INJECT_FIRST - 16);
	FAIL_IF(wait_irqs(all) != all);
	return TEST_PASS;
}

static uint64_t t_disabled(void)
{
	__asm__ volatile("sti");
	sync_vm(1); /* the VMM disables 41, injects 41 and 40 */
	wait_irqs(1ull << (40 - 16));
	FAIL_IF(irqs_seen & 1ull << (41 - 16));
	sync_vm(2); /* the VMM enables 41: the held interrupt arrives */
	wait_irqs(1ull << (41 - 16));
	return TEST_PASS;
}

/* Outside RAM nothing answers: the VMM refuses, the guest takes #GP. */
static uint64_t t_abort(void)
{
	last_vector = 0;
	FAIL_IF(probe_read(OUTSIDE_RAM_IPA) != ~0ull);
	FAIL_IF(last_vector != 13);
	last_vector = 0;
	probe_write(OUTSIDE_RAM_IPA, 1);
	FAIL_IF(last_vector != 13);
	return TEST_PASS;
}

/* The VMM reads and rewrites CR2 (any 64 bits; parked in the VMCB) at
 * each of n syncs (3 if 0).  Not an MSR VMLOAD switches: those must be
 * canonical, which PARKED_MINE is not (QEMU canonicalizes them). */
static uint64_t t_parked(uint64_t n)
{
	for (uint64_t i = 1; i <= (n ? n : 3); i++) {
		uint64_t v = PARKED_MINE + i;
		__asm__ volatile("mov %0, %%cr2" : : "r"(v));
		sync_vm(i);
		__asm__ volatile("mov %%cr2, %0" : "=r"(v));
		FAIL_IF(v != PARKED_VMMS + i);
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
	register uint64_t r10 __asm__("r10") = 6;
	uint64_t rax = HC_CALL, rdi = HC_EP_SLOT, rsi = 7ull << 16 | 2, rdx = 5;
	__asm__ volatile("vmmcall" : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10)
			 : : "r8", "r9", "r12", "memory");
	FAIL_IF(rax != 0);
	FAIL_IF(rsi >> 16 != 8 || (rsi & 15) != 2); /* the server's label and length */
	FAIL_IF(rdx != 6 || r10 != 7);              /* each word plus one */
	FAIL_IF(hcall(HC_CALL, 99, 0, 0) == 0);     /* no capability there */
	FAIL_IF(hcall(HC_CALL, HC_EP_SLOT, 6, 0) == 0); /* six words: too long */
	FAIL_IF(hcall(HC_SIGNAL, HC_NTFN_SLOT, 0x40, 0) != 0);
	return TEST_PASS;
}

static uint64_t t_wfi_wake(void)
{
	__asm__ volatile("sti; hlt"); /* nothing armed: the VMM injects 42 */
	wait_irqs(1ull << (42 - 16));
	return TEST_PASS;
}

/* Random exits of every kind, forever, each through a guarded helper
 * (start.S) that survives the #GP or #UD a VMM may answer with; the VMM
 * counts and stops it. */
void g_out32(uint64_t port, uint64_t v);
uint64_t g_in8(uint64_t port);
uint64_t g_rdmsr(uint64_t msr);
void g_xsetbv(uint64_t xcr, uint64_t v);
void g_wbinvd(void);
uint64_t g_vmmcall(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
uint64_t g_cpuid(uint64_t leaf, uint64_t sub);

static uint64_t t_hostile(uint64_t seed)
{
	uint64_t x = seed | 1;
	for (;;) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t addr = (x >> 8) & 0xfffffff8ull;
		if (addr >= GUEST_RAM_IPA && addr < GUEST_RAM_IPA + GUEST_RAM_SIZE)
			addr += 0x40000000;
		switch (x % 8) {
		case 0: /* MMIO anywhere below RAM or beyond it */
			if (x & 0x100)
				probe_write(addr, x);
			else
				probe_read(addr | 1);
			break;
		case 1: /* a port, either way */
			if (x & 0x200)
				g_out32(x >> 16 & 0xffff, x);
			else
				g_in8(x >> 16 & 0xffff);
			break;
		case 2:
			g_vmmcall(x >> 32 << 16 | (x & 0xffff), x, ~x, x << 3);
			break;
		case 3:
			hcall(HC_BASE | (x & 3), x >> 7, x, x);
			break;
		case 4:
			g_cpuid(x & 0xffffffff, x >> 32);
			break;
		case 5:
			g_rdmsr(x >> 20);
			break;
		case 6:
			if (x & 0x400)
				g_xsetbv(x >> 40 & 1, x);
			else
				g_wbinvd();
			break;
		default:
			__asm__ volatile("pause");
			break;
		}
	}
	return 0;
}

/* No timer: the TSC (not intercepted) paces it.  It ticks about every
 * million cycles, each tick reported by a write to the device. */
static uint64_t t_spin(void)
{
	for (uint64_t ticks = 1;; ticks++) {
		uint32_t lo, hi;
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		uint64_t until = ((uint64_t)hi << 32 | lo) + 1000000;
		do
			__asm__ volatile("pause; rdtsc" : "=a"(lo), "=d"(hi));
		while (((uint64_t)hi << 32 | lo) < until);
		*REG(TDEV_DATA) = ticks;
	}
	return 0;
}

/* Each interrupt the notification raises is answered with HC_SIGNAL. */
static uint64_t t_virq_echo(uint64_t n)
{
	hcall(HC_SIGNAL, HC_NTFN_SLOT, 1, 0); /* ready */
	for (uint64_t i = 0; i < n; i++) {
		while (!irqs_seen)
			__asm__ volatile("sti; hlt; cli");
		irqs_seen = 0;
		hcall(HC_SIGNAL, HC_NTFN_SLOT, 1, 0);
	}
	return TEST_PASS;
}

static uint64_t t_bench(uint64_t kind, uint64_t n)
{
	volatile uint64_t *d = REG(TDEV_DATA);
	if (kind == BENCH_VIRQ)
		return t_virq_echo(n);
	sync_vm(0);
	for (uint64_t i = 0; i < n; i++) {
		if (kind == BENCH_HVC) {
			vmmcall(PSCI_VERSION, 0, 0, 0);
		} else if (kind == BENCH_MMIO) {
			(void)*d;
		} else if (kind == BENCH_HYPERCALL) {
			hcall(HC_CALL, HC_EP_SLOT, 1, i);
		} else if (kind == BENCH_INJECT) {
			__asm__ volatile("cli");
			uint64_t seen = irqs_seen; /* the VMM injects at each report */
			*d = i;
			while (irqs_seen == seen)
				__asm__ volatile("sti; hlt; cli");
			irqs_seen = 0;
		} else {
			guest_yield(); /* the other VCPU runs */
		}
	}
	sync_vm(1);
	return TEST_PASS;
}

static uint64_t t_isolation(uint64_t mark)
{
	volatile uint64_t *mine = (volatile uint64_t *)ISOLATION_SLOT;
	*mine = mark;
	sync_vm(1); /* the VMM checks every VM's RAM now */
	FAIL_IF(*mine != mark);
	last_vector = 0;
	probe_read(GUEST_RAM_IPA + GUEST_RAM_SIZE); /* refused */
	FAIL_IF(last_vector != 13);
	return TEST_PASS;
}

/* I/O ports, CPUID and MSRs (guest.h GT_X86_PORTS): the VMM answers. */
static uint64_t t_ports(void)
{
	uint32_t a = 0, b, c = 0, d;
	__asm__ volatile("outb %%al, $0x80" : : "a"(0x5a));
	__asm__ volatile("outw %%ax, %%dx" : : "a"(0x1234), "d"(0x510));
	uint64_t v = ~0ull;
	__asm__ volatile("inb $0x71, %%al" : "+a"(v));
	FAIL_IF(v != 0xffffffffffffff88ull); /* 8 bits in: the rest kept */
	__asm__ volatile("inl %%dx, %%eax" : "=a"(a) : "d"(0x511));
	FAIL_IF(a != 0x85868788u);
	a = 0;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	a = 0x40000000, c = 0;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	FAIL_IF(b != 0x6e726143 || c != 0x6e726143 || d != 0x6e726143); /* "Carn" */
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x10));
	FAIL_IF(((uint64_t)hi << 32 | lo) != TDEV_PATTERN);
	__asm__ volatile("wrmsr" : : "c"(0x8b), "a"(0x11223344), "d"(0x55667788));
	return TEST_PASS;
}

void guest_main(uint64_t test, uint64_t a1, uint64_t a2)
{
	uint64_t r;
	switch (test) {
	case GT_MMIO: r = t_mmio(); break;
	case GT_HVC_SMC: r = t_hvc_smc(); break;
	case GT_INJECT: r = t_inject(); break;
	case GT_DISABLED: r = t_disabled(); break;
	case GT_ABORT: r = t_abort(); break;
	case GT_HYPERCALL: r = t_hypercall(); break;
	case GT_WFI_WAKE: r = t_wfi_wake(); break;
	case GT_HOSTILE: r = t_hostile(a1); break;
	case GT_SPIN: r = t_spin(); break;
	case GT_BENCH: r = t_bench(a1, a2); break;
	case GT_ISOLATION: r = t_isolation(a1); break;
	case GT_PEEK: *REG(TDEV_DATA) = *(volatile uint64_t *)a1; r = TEST_PASS; break;
	case GT_PARKED: r = t_parked(a1); break;
	case GT_DOORBELL: r = t_doorbell(a1); break;
	case GT_VFUZZ: r = t_vfuzz(a1); break;
	case GT_VNETFUZZ: r = t_vnetfuzz(a1); break;
	case GT_X86_PORTS: r = t_ports(); break;
	default: r = 0xbad;
	}
	if (unexpected)
		r = 0xdead0000 | unexpected;
	*REG(TDEV_RESULT) = r;
}
