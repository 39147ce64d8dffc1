/* The test guest's x86_64 part (common.h): its trap handler (start.S's
 * stubs), the checks that name x86's registers, and the tests that are its
 * alone or its form of AArch64's: every MOV form, a hostile guest of
 * ports, CPUID and MSRs, a GT_SPIN paced by the TSC (no timer), and
 * GT_X86_PORTS.  An access the VMM refuses arrives as #GP. */
#include "guests/test/common.h"

uint64_t probe_read(uint64_t addr);          /* start.S: ~0 if it faulted */
void probe_write(uint64_t addr, uint64_t v);

struct frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax, vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
extern char guest_stubs[];
extern uint64_t idt[512], resume_at;

static volatile uint64_t last_vector, last_error, last_cr2, int3_count, int3_rip;

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
	if (f->vector == 3) { /* GT_X86_INT3's, counted; it returns past the INT3 */
		int3_count++;
		int3_rip = f->rip;
		return;
	}
	if (resume_at) {
		last_vector = f->vector;
		last_error = f->error;
		__asm__ volatile("mov %%cr2, %0" : "=r"(last_cr2));
		f->rip = resume_at;
		resume_at = 0;
		return;
	}
	trap_unexpected(f->vector | 0x100, f->vector);
}

/* --- Primitives (common.h) ----------------------------------------------- */

uint64_t check_vmm_calls(void)
{
	FAIL_IF(vmmcall(PSCI_VERSION, 0, 0, 0) != VMM_PSCI_VERSION);
	FAIL_IF(vmmcall(PSCI_VERSION, 1, 2, 3) != VMM_PSCI_VERSION);
	return TEST_PASS;
}

/* Outside RAM nothing answers: the VMM refuses, the guest takes #GP. */
uint64_t check_refused_read(uint64_t addr)
{
	last_vector = 0;
	FAIL_IF(probe_read(addr) != ~0ull);
	FAIL_IF(last_vector != 13);
	return TEST_PASS;
}

uint64_t check_refused_write(uint64_t addr)
{
	last_vector = 0;
	probe_write(addr, 1);
	FAIL_IF(last_vector != 13);
	return TEST_PASS;
}

/* CR2: any 64 bits, parked in the VMCB.  Not an MSR VMLOAD switches:
 * those must be canonical, which PARKED_MINE is not (QEMU canonicalizes
 * them). */
void parked_set(uint64_t v) { __asm__ volatile("mov %0, %%cr2" : : "r"(v)); }

uint64_t parked_get(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* --- Tests ----------------------------------------------------------------- */

/* Every MOV form the kernel decodes, each size, each extension. */
uint64_t t_mmio(void)
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

uint64_t t_hostile(uint64_t seed)
{
	for (uint64_t x = seed | 1;;) {
		x = hostile_next(x);
		switch (x % 8) {
		case 0: /* hostile_mmio, but guarded: no length to step over */
			if (x & 0x100)
				probe_write(hostile_addr(x), x);
			else
				probe_read(hostile_addr(x) | 1);
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
			hc(HC_BASE | (x & 3), x >> 7, x, x);
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
uint64_t t_spin(void)
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
	/* CR8 is this guest's own; it stays 15 (masking every interrupt that
	 * reached this CPU's TPR, were it the host's: vmx.c) through the
	 * exits to come */
	uint64_t tpr = 15;
	__asm__ volatile("mov %0, %%cr8; mov %%cr8, %0" : "+r"(tpr));
	FAIL_IF(tpr != 15);
	__asm__ volatile("wrmsr" : : "c"(0x8b), "a"(0x11223344), "d"(0x55667788));
	return TEST_PASS;
}

/* Page faults its own tables cause (GT_X86_PF) arrive with the CR2 and
 * error code the CPU gives, whether or not the kernel intercepts #PF
 * (svm.c's exit_pf): the 2 MiB page at 3 GiB not present, then read-only
 * under CR0.WP, read and written from ring 0. */
static uint64_t t_pf(void)
{
	extern uint64_t pd[];
	const uint64_t at = 0xc0001238ull;
	uint64_t *pde = &pd[at >> 21], keep = *pde, cr0;
	__asm__ volatile("mov %%cr0, %0; or $0x10000, %0; mov %0, %%cr0" : "=&r"(cr0));
	*pde = keep & ~1ull;
	__asm__ volatile("invlpg (%0)" : : "r"(at) : "memory");
	FAIL_IF(probe_read(at) != ~0ull || last_vector != 14 || last_error != 0 || last_cr2 != at);
	probe_write(at, 1);
	FAIL_IF(last_vector != 14 || last_error != 2 || last_cr2 != at);
	*pde = keep & ~2ull;
	__asm__ volatile("invlpg (%0)" : : "r"(at) : "memory");
	last_vector = 0;
	probe_write(at + 8, 1);
	FAIL_IF(last_vector != 14 || last_error != 3 || last_cr2 != at + 8);
	*pde = keep;
	__asm__ volatile("invlpg (%0)" : : "r"(at) : "memory");
	return TEST_PASS;
}

/* An INT3 whose frame goes to a page the VMM mapped read-only: the first
 * push exits (a stage-2 write fault) with the INT3 cut short, the VMM
 * maps the page writable, and the INT3 must run once, its frame's rip
 * past it.  Injected again instead, as an exit's cut-short event is,
 * its handler returned to the INT3 itself (no NRIPS under TCG), which ran
 * again: two INT3s, the first frame's rip one byte early (svm.c). */
static __attribute__((noinline)) uint64_t t_int3(void)
{
	extern char int3_after[];
	__asm__ volatile("mov %%rsp, %%rbx; mov %0, %%rsp; int3\n"
			 ".globl int3_after\nint3_after: mov %%rbx, %%rsp"
			 : : "r"(INT3_STACK_IPA + 0x1000) : "rbx", "memory");
	FAIL_IF(int3_count != 1);
	FAIL_IF(int3_rip != (uint64_t)int3_after);
	return TEST_PASS;
}

/* No guest timer and one CPU: GT_TIMER, GT_SMP and AArch64's own are
 * not here. */
uint64_t isa_test(uint64_t test, uint64_t a1, uint64_t a2)
{
	(void)a1, (void)a2;
	switch (test) {
	case GT_X86_PORTS: return t_ports();
	case GT_X86_PF: return t_pf();
	case GT_X86_INT3: return t_int3();
	default: return 0xbad;
	}
}
