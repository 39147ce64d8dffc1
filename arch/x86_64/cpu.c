/* Per-CPU state on x86_64: the GDT with one TSS per CPU, the IDT, EFER,
 * and the GS base that points at struct pcpu (x86.h). */
#include "arch/x86_64/x86.h"
#include "hyp/arch.h"
#include "hyp/printk.h"

struct tss {
	uint32_t res0;
	uint64_t rsp[3];
	uint64_t res1;
	uint64_t ist[7];
	uint64_t res2;
	uint16_t res3, iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, res;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

#define IST_STACK_SIZE 4096

/* null, kernel code, kernel data, user data, user code, then TSS pairs. */
static uint64_t gdt[5 + 2 * MAX_CPUS] __attribute__((aligned(16))) = {
	0, 0x00af9a000000ffff, 0x00cf92000000ffff,
	0x00cff2000000ffff, 0x00affa000000ffff,
};
static struct tss tss[MAX_CPUS];
static struct idt_gate idt[256] __attribute__((aligned(16)));
struct pcpu pcpus[MAX_CPUS];
/* NMIs, double faults and machine checks switch to their own stack (IST 1). */
static uint8_t ist_stacks[MAX_CPUS][IST_STACK_SIZE] __attribute__((aligned(16)));

extern char isr_stubs[];
void x86_reload_segments(void);

/* One gs-relative load; pcpus[0] is the GS base from the first
 * instruction of x86_boot, its cpu NULL until x86_cpu_setup. */
struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}
unsigned arch_cpu_id(void) { return this_cpu() ? this_cpu()->id : 0; }
void arch_cpu_relax(void) { __asm__ volatile("pause"); }
void arch_irq_local_disable(void) { __asm__ volatile("cli" ::: "memory"); }
const char *arch_name(void) { return "x86_64 in long mode"; }

_Noreturn void arch_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uintptr_t)isr_stubs + 16 * v;
		bool own_stack = v == 2 || v == 8 || v == 18; /* NMI, #DF, #MC */
		/* present interrupt gates; only int $0x80 may be raised from ring 3 */
		idt[v] = (struct idt_gate){ (uint16_t)a, SEL_KCODE, own_stack ? 1 : 0,
					    v == VEC_SYSCALL ? 0xee : 0x8e,
					    (uint16_t)(a >> 16), (uint32_t)(a >> 32), 0 };
	}
}

static void tss_install(unsigned id)
{
	uint64_t base = (uintptr_t)&tss[id], limit = sizeof(struct tss) - 1;
	tss[id].ist[0] = (uintptr_t)ist_stacks[id] + IST_STACK_SIZE;
	tss[id].iomap_base = sizeof(struct tss); /* no I/O bitmap */
	gdt[5 + 2 * id] = (limit & 0xffff) | (base & 0xffffff) << 16 |
			  0x89ull << 40 /* present, available 64-bit TSS */ |
			  ((base >> 24) & 0xff) << 56;
	gdt[6 + 2 * id] = base >> 32;
}

struct __attribute__((packed)) dtr { uint16_t limit; uint64_t base; };

void x86_cpu_setup(struct cpu *c)
{
	if (c->id == 0)
		idt_init();
	tss_install(c->id);
	struct dtr g = { sizeof(gdt) - 1, (uintptr_t)gdt };
	struct dtr i = { sizeof(idt) - 1, (uintptr_t)idt };
	__asm__ volatile("lgdt %0" :: "m"(g));
	x86_reload_segments();
	__asm__ volatile("ltr %w0" :: "r"(SEL_TSS(c->id)));
	__asm__ volatile("lidt %0" :: "m"(i));
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	struct pcpu *p = &pcpus[c->id];
	p->cpu = c;
	p->self = p;
	p->tss_rsp0 = (uint8_t *)&tss[c->id] + 4; /* rsp[0]: unaligned in the packed TSS */
	wrmsr(MSR_GS_BASE, (uintptr_t)p);
	wrmsr(MSR_KERNEL_GS_BASE, 0); /* user space's, after SWAPGS */
}
