/* The native-thread hooks of a port that has none yet (riscv64, x86_64
 * list this file in ARCH_SRCS): arch_user_pt_format() returning NULL keeps
 * the kernel from starting the root task, so the rest are never called. */
#include "hyp/arch.h"
#include "hyp/panic.h"

const struct pt_format *arch_user_pt_format(void) { return NULL; }
unsigned arch_vmid_bits(void) { return 0; }
void arch_tlb_flush_page(unsigned vmid, uint64_t va) { (void)vmid, (void)va; }
void arch_tlb_flush_all(void) {}
void arch_regs_init(struct arch_regs *r) { *r = (struct arch_regs){ .pc = 0 }; }
void arch_ipi_send(unsigned cpu) { (void)cpu; }
unsigned arch_ipi_irq(void) { return 0; }
void arch_user_init_cpu(void) {}
void arch_fp_save(struct arch_fp *fp) { (void)fp; }
void arch_fp_load(const struct arch_fp *fp) { (void)fp; }
void arch_fp_trap(bool trap) { (void)trap; }

_Noreturn void arch_user_enter(struct arch_regs *r, paddr_t root, unsigned vmid)
{
	(void)r, (void)root, (void)vmid;
	panic("no native threads on this port");
}
