/* Declarations shared between the x86_64 files (not part of the arch
 * interface: generic code never includes this). */
#pragma once
#include "hyp/cpu.h"

/* The kernel image is linked at KERNEL_VBASE + its physical address; RAM is
 * direct-mapped at DIRECT_MAP (docs/ARCHITECTURE.md, memory layout). */
#define KERNEL_VBASE 0xffffffff80000000ull
#define DIRECT_MAP 0xffff800000000000ull
#define TRAMPOLINE_PA 0x8000ull  /* AP start page (SIPI vector 0x08) */

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1b  /* user data and code, RPL 3: sysret's order (STAR) */
#define SEL_UCODE 0x23
#define SEL_TSS(cpu) (0x28 + 16 * (cpu))

#define VEC_TIMER 0xef
#define VEC_SPURIOUS 0xff
#define VEC_IPI 0xf0      /* reschedule: entering the kernel is the point */
#define VEC_TLB 0xf1      /* TLB shootdown: leave user mode (uspace.c) */
#define VEC_SYSCALL 0x80  /* int $0x80: the system call with every register */
#define VEC_IRQ_BASE 0x20   /* IOAPIC pin n arrives as vector 0x20 + n */
#define VEC_MSI_FIRST 0x40  /* MSI lines: 0x40-0xdf but VEC_SYSCALL (apic.c) */
#define VEC_MSI_LAST 0xdf

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "entry.S frame");

static inline void *phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)(pa + DIRECT_MAP); }
static inline bool canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }
#define PTE_A (1ull << 5) /* accessed: set by the CPU in the tables it walks */

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define MSR_EFER 0xc0000080
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

/* Per-CPU data of this port, at the GS base while in the kernel; entry.S
 * knows the first four offsets. */
struct pcpu {
	struct cpu *cpu;          /* 0: this_cpu() */
	uint64_t scratch;         /* 8: the user's rsp during syscall entry */
	uint64_t rsp0;            /* 16: the running thread's frame end (TSS.RSP0) */
	uint64_t ustate;          /* 24: odd while in user mode (uspace.c) */
	struct pcpu *self;        /* 32 */
	uint64_t tlb_seen;        /* the shootdown generation this TLB has seen */
	uint64_t space;           /* root of the address space loaded, and its VMID */
	uint64_t vmid;
	uint64_t *pml4;           /* this CPU's own PML4 (uspace.c) */
	uint64_t irq_vec;         /* the interrupt being taken from user mode */
	uint8_t *tss_rsp0;         /* this CPU's TSS.RSP0 (4-byte aligned) */
} __attribute__((aligned(64)));
extern struct pcpu pcpus[MAX_CPUS];
static inline struct pcpu *pcpu_this(void)
{
	struct pcpu *p;
	__asm__ volatile("movq %%gs:32, %0" : "=r"(p));
	return p;
}

/* What ACPI told us (acpi.c). */
struct acpi_info {
	uint64_t lapic_pa;
	uint64_t ioapic_pa;
	unsigned ioapic_gsi_base;
	uint16_t pm1a_cnt;      /* PM1a control port, 0 if unknown */
	uint16_t slp_typ_s5;    /* SLP_TYPa for S5 */
	bool has_s5;
	uint64_t ecam_pa;       /* PCI segment 0's ECAM (MCFG), 0 if none */
	uint8_t bus_first, bus_last;
};
extern struct acpi_info acpi;
struct boot_info;
err_t acpi_parse(struct boot_info *bi);

void x86_cpu_setup(struct cpu *c);      /* GDT, TSS, IDT, EFER, GS base */
void x86_mmu_enable(void);              /* load the kernel's CR3 */
void lapic_eoi(void);
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_init_sipi(uint32_t apic_id, uint8_t vector);
void com1_init(void);

/* SVM or VMX (hv.h, virt.c): whether Cairn runs guests on this CPU (SVM with
 * nested paging), per-CPU set-up, and the entry into a loaded VCPU. */
struct arch_regs;
void x86_hv_init_cpu(void);
void x86_hv_fini_cpu(void);
_Noreturn void x86_vcpu_enter(struct pcpu *p, struct arch_regs *r, paddr_t root, unsigned vmid);

/* Ring 3 (uspace.c): its space on this CPU, and the way back to it; the
 * system calls (syscall.c), from entry.S or int $0x80. */
void x86_switch_space(struct pcpu *p, paddr_t root, unsigned vmid);
_Noreturn void x86_leave(struct pcpu *p, struct arch_regs *r);
struct cpu;
_Noreturn void x86_syscall(struct arch_regs *r, struct cpu *c);
