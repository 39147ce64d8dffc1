/* Exception and interrupt dispatch, and the report for exceptions the
 * kernel did not expect. */
#include "arch/x86_64/x86.h"
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/irq.h"
#include "hyp/panic.h"
#include "hyp/printk.h"

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization",
	"#CP control protection", [29] = "#VC VMM communication",
	[30] = "#SX security",
};

static void dump(const struct trap_frame *f)
{
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	printk("cairn: unexpected exception: %s (vector %lu) on cpu%u\n",
	       exc_names[f->vector] ? exc_names[f->vector] : "reserved", f->vector,
	       arch_cpu_id());
	if (f->vector == 14)
		printk("  fault: %s on %s, %s mode, CR2 0x%016lx\n",
		       f->error & 1 ? "protection violation" : "page not present",
		       f->error & 16 ? "instruction fetch" : f->error & 2 ? "write" : "read",
		       f->error & 4 ? "user" : "kernel", cr2);
	printk("  error 0x%lx  RIP 0x%016lx  CS 0x%lx  RFLAGS 0x%lx  RSP 0x%016lx\n",
	       f->error, f->rip, f->cs, f->rflags, f->rsp);
	printk("  rax 0x%016lx  rbx 0x%016lx  rcx 0x%016lx  rdx 0x%016lx\n",
	       f->rax, f->rbx, f->rcx, f->rdx);
	printk("  rsi 0x%016lx  rdi 0x%016lx  rbp 0x%016lx  r8  0x%016lx\n",
	       f->rsi, f->rdi, f->rbp, f->r8);
	printk("  r9  0x%016lx  r10 0x%016lx  r11 0x%016lx  r12 0x%016lx\n",
	       f->r9, f->r10, f->r11, f->r12);
	printk("  r13 0x%016lx  r14 0x%016lx  r15 0x%016lx\n", f->r13, f->r14, f->r15);
}

/* Waiting for an interrupt.  The kernel waits with interrupts masked and
 * takes them once it holds the big lock (idle(): arch_irq_local_enable),
 * as WFI lets it on the other ISAs; but HLT wakes only for an interrupt it
 * takes, with the lock dropped.  One taken there is noted and
 * acknowledged (so others can follow) and dispatched when interrupts are
 * next enabled.  Dispatched at the HLT, the timer's handler ran the
 * scheduler and the kernel timers unlocked, beside another CPU (a budget's
 * refill lost, a thread queued twice: root-fuzz-smp2, budget-destroy-race). */
static bool halted[MAX_CPUS];
static uint64_t deferred[MAX_CPUS][256 / 64];

/* sti takes effect after the next instruction: no wake-up is lost. */
void arch_wait_for_interrupt(void)
{
	unsigned cpu = arch_cpu_id();
	halted[cpu] = true;
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	halted[cpu] = false;
}

void arch_irq_local_enable(void)
{
	uint64_t *d = deferred[arch_cpu_id()];
	for (unsigned w = 0; w < 256 / 64; w++)
		for (; d[w]; d[w] &= d[w] - 1)
			irq_dispatch(w * 64 + (unsigned)__builtin_ctzll(d[w]));
	__asm__ volatile("sti" ::: "memory");
}

void x86_trap(struct trap_frame *f)
{
	if (f->vector >= 32) {
		unsigned cpu = arch_cpu_id(), v = (unsigned)f->vector;
		if (v == VEC_SPURIOUS)
			return;
		if (halted[cpu])
			deferred[cpu][v / 64] |= 1ull << (v % 64);
		else
			irq_dispatch(v);
		lapic_eoi();
		return;
	}
	dump(f);
	panic("unexpected exception");
}
