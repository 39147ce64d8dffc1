/* The architecture interface: every arch/<arch>/ implements exactly these
 * calls, and generic code reaches architecture-specific behaviour only
 * through this header. */
#pragma once
#include "hyp/types.h"

struct boot_info;
struct buddy;

/* --- CPUs ------------------------------------------------------------ */
unsigned arch_cpu_id(void);              /* logical index of this CPU */
void arch_cpu_relax(void);               /* spin-wait hint */
void arch_irq_local_enable(void);
void arch_irq_local_disable(void);
void arch_wait_for_interrupt(void);
_Noreturn void arch_halt(void);          /* stop this CPU for good */
_Noreturn void arch_poweroff(void);      /* power the machine off */
/* Start secondary CPU c (c->hwid, c->stack_top set); it ends in smp_secondary_main. */
struct cpu;
err_t arch_cpu_start(struct cpu *c);  /* E_BUSY: it has not stopped yet */
uint64_t arch_cpu_hwid(void);           /* this CPU's hardware id */
/* CPU hotplug (hyp/hotplug.c): whether this port can stop a CPU at run time
 * so that arch_cpu_start brings it back (PSCI CPU_OFF, SBI HSM stop, x86:
 * halt until INIT), and stopping the calling CPU, interrupts masked, the
 * lock dropped (it does not return where arch_cpu_stoppable() is true).
 * A port without may leave both out: hotplug.c has defaults that say no. */
bool arch_cpu_stoppable(void);
void arch_cpu_stop(void);
const char *arch_name(void);
/* Atomics the compiler's builtins make longer than they must be, inline
 * (arch/<arch>/include/arch_atomic.h): arch_cas0_acquire(w, v) sets the
 * 64-bit *w from 0 to v with acquire order, false if it was not 0 (it may
 * also fail, rarely, when another CPU wrote the word meanwhile). */
#include <arch_atomic.h>
/* One line of what this CPU offers the hypervisor (for the boot summary). */
void arch_cpu_describe(char *buf, size_t len);

/* Turn on what the CPU needs to host guests (EFER.SVME, a VMXON check),
 * once memory is up; where nothing usable exists, say so and power off. */
void arch_virt_init(void);

/* --- Early console (before or without a DTB-described UART) --------- */
void arch_early_putc(char c);
/* Its input, where it has any (x86_64's COM1): a received byte or -1, and
 * the interrupt line input raises (CONSOLE_NO_IRQ where none). */
int arch_early_getc(void);
uint64_t arch_early_irq(void);

/* --- Kernel memory ---------------------------------------------------- */
/* Offset of the kernel's direct map: va = pa + offset. */
uint64_t arch_direct_map_offset(void);
/* Build the kernel's own page tables (text RX, rodata R, data RW+XN, direct
 * map of RAM, the console's device page) and turn translation and caches on. */
err_t arch_mmu_init(const struct boot_info *bi, struct buddy *pages);
bool arch_mmu_enabled(void);
/* Map a device region into the kernel (uncached, XN); returns its address,
 * or NULL when there is no memory for page tables. */
void *arch_map_device(paddr_t base, uint64_t size);
/* Physical extent of the kernel image, so it is kept out of the allocator. */
struct mem_range arch_kernel_image(void);

/* --- Interrupt controller --------------------------------------------- */
err_t arch_irq_init(const struct boot_info *bi); /* global part, boot CPU */
void arch_irq_init_cpu(void);            /* this CPU's part */
void arch_irq_unmask(unsigned irq);      /* on this CPU for per-CPU irqs */
void arch_irq_mask(unsigned irq);
/* Whether `irq` is a line this controller really has and user space may
 * take (not an IPI or other kernel-only kind): checked before IRQ_GET. */
bool arch_irq_user_ok(uint64_t irq);
/* For an MSI line: the address and data a device writes to raise it; false
 * for any other line (the default: ports without MSI lines). */
bool arch_irq_msi_message(unsigned irq, uint64_t *addr, uint64_t *data);
/* The devices as a DTB where firmware gave none (x86_64: made from ACPI's
 * MCFG), for the root task; NULL (the default) where there is none. */
const void *arch_device_tree(void);
/* The arch's trap code acknowledges, calls irq_dispatch(), then completes. */

/* --- Timer (one-shot, tickless) ---------------------------------------- */
err_t arch_timer_init(const struct boot_info *bi);
unsigned arch_timer_irq(void);
uint64_t arch_timer_freq(void);          /* ticks per second */
uint64_t arch_timer_now(void);
void arch_timer_oneshot(uint64_t deadline);
void arch_timer_stop(void);

/* --- Native threads -------------------------------------------------------
 * A native address space is the user page-table format below (AArch64: a
 * stage-2 table, the kernel keeps its own EL2 regime), tagged with a VMID. */
#include <arch_regs.h>
/* The format of native address spaces; NULL while this port has none. */
const struct pt_format *arch_user_pt_format(void);
/* A guest-physical space's format (AS_GUEST), where the VCPUs' hardware
 * walks another than native threads' (x86 VMX's EPT); mm/aspace.c's
 * default is the native one. */
const struct pt_format *arch_guest_pt_format(void);
unsigned arch_vmid_bits(void);
/* The value that loads a space with its root table and VMID (AArch64's
 * VTTBR_EL2, riscv64's hgatp); never 0. */
uint64_t arch_space_root(paddr_t root, unsigned vmid);
/* TLB maintenance, broadcast to every CPU: one page of one address space,
 * or every entry of every address space. */
void arch_tlb_flush_page(unsigned vmid, uint64_t va);
void arch_tlb_flush_all(void);
/* AS_GUEST_FENCE: the guests of the VMID (root its table) drop their
 * guest-virtual translations (GUEST_FENCE_TLB) and fetch instructions
 * afresh (GUEST_FENCE_ICACHE) on every CPU, before this returns; E_NOSYS
 * where a guest's own fences reach every CPU already, or the port has
 * none. */
err_t arch_guest_fence(unsigned vmid, paddr_t root, unsigned what);
/* A new thread's registers: user mode, interrupts enabled, all else zero. */
void arch_regs_init(struct arch_regs *r);
/* Load the address space and registers and drop to user mode. */
_Noreturn void arch_user_enter(struct arch_regs *r, paddr_t root, unsigned vmid);
/* --- The IOMMU (AArch64: SMMUv3, mm/iospace.c) -----------------------------
 * It confines devices' DMA to I/O address spaces: page tables of the
 * format below, each tagged with an ASID, one per device stream bound to
 * it.  A stream bound to none has its DMA aborted.  All under the big lock. */
err_t arch_iommu_init(const struct boot_info *bi); /* E_NOENT: none */
const struct pt_format *arch_io_pt_format(void);   /* NULL: no IOMMU */
unsigned arch_iommu_streams(void);                  /* stream IDs below this exist */
void arch_iommu_attach(unsigned sid, paddr_t root, unsigned asid);
void arch_iommu_detach(unsigned sid);               /* back to abort; waits */
void arch_iommu_flush(unsigned asid);               /* its TLB entries; waits */
/* Translation faults recorded for sid since boot, the last one's address. */
uint64_t arch_iommu_faults(unsigned sid, uint64_t *last);

/* Interrupt another CPU so that it enters the kernel and reschedules. */
void arch_ipi_send(unsigned cpu);
/* The interrupt line that carries IPIs (the kernel keeps it). */
unsigned arch_ipi_irq(void);
/* Per-CPU set-up for running native threads (before the first one runs);
 * FP access from user mode starts out trapping. */
void arch_user_init_cpu(void);
/* A thread's FP/SIMD register file (struct arch_fp, arch_regs.h): save,
 * load (both with FP access enabled), and whether user FP access traps. */
void arch_fp_save(struct arch_fp *fp);
void arch_fp_load(const struct arch_fp *fp);
void arch_fp_trap(bool trap);

/* --- VCPUs (vcpu/) ----------------------------------------------------------
 * struct arch_vcpu (arch_vcpu.h) is a VCPU's privileged state; the guest's
 * general registers are its thread's struct arch_regs.  All with the big
 * kernel lock held; "loaded" means in this CPU's registers. */
#include <arch_vcpu.h>
struct vcpu;
bool arch_vcpu_supported(void);
void arch_vcpu_reset(struct arch_vcpu *a);        /* a new VCPU: CPU reset state */
void arch_vcpu_regs_reset(struct arch_regs *r);   /* a thread bound: guest reset state */
/* Load a's state from memory and set the CPU up for guests. */
void arch_vcpu_load(struct arch_vcpu *a);
/* The VCPU stops running but its state stays in the registers (it is
 * parked): save what native threads change, quieten the interrupt
 * interface, set the CPU up for native threads.  Its timer goes on and its
 * interrupt still comes to the kernel. */
void arch_vcpu_park_native(struct arch_vcpu *a);
/* Undo arch_vcpu_park_native: a's state is parked here. */
void arch_vcpu_resume(struct arch_vcpu *a);
/* Save the parked state into memory and stop its timer. */
void arch_vcpu_save(struct arch_vcpu *a);
/* Loaded: move deliverable pending interrupts into free list registers. */
void arch_vcpu_flush_virqs(struct vcpu *v);
/* Loaded: whether a list register holds a pending interrupt. */
bool arch_vcpu_virq_pending(const struct arch_vcpu *a);
/* Saved: when its virtual timer fires (arch_timer_now ticks), or ~0. */
uint64_t arch_vcpu_timer_deadline(const struct arch_vcpu *a);
/* Saved: the kernel raised the timer's interrupt; quieten the timer. */
void arch_vcpu_timer_fired(struct arch_vcpu *a);
/* SYS_VCPU_READ_REG/WRITE_REG (enum vcpu_reg); the VCPU is not loaded. */
err_t arch_vcpu_reg_read(struct vcpu *v, uint64_t id, uint64_t *val);
err_t arch_vcpu_reg_write(struct vcpu *v, uint64_t id, uint64_t val);
/* Apply a VMM's reply to the exit `exit` (its message words); returns
 * whether it asked for an exception, which arch_vcpu_take_exception takes
 * once the VCPU is loaded. */
bool arch_vcpu_exit_reply(struct arch_vcpu *a, struct arch_regs *r, uint64_t label,
			  const uint64_t *exit, const uint64_t *mr, unsigned len);
void arch_vcpu_take_exception(struct arch_vcpu *a, struct arch_regs *r);
/* Step over the instruction that made exit `exit` (a doorbell's write). */
void arch_vcpu_skip_insn(struct arch_regs *r, const uint64_t *exit);
