/* Exception and interrupt dispatch, and the report for exceptions the
 * kernel did not expect. */
#include "arch/x86_64/x86.h"
#include "hyp/arch.h"
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

void x86_trap(struct trap_frame *f)
{
	if (f->vector >= 32) {
		if (f->vector != VEC_SPURIOUS) {
			irq_dispatch((unsigned)f->vector);
			lapic_eoi();
		}
		return;
	}
	dump(f);
	panic("unexpected exception");
}
