/* The EL2 physical timer (CNTHP), one-shot: programmed only for the next
 * event, never as a periodic tick. */
#include <libfdt.h>

#include "arch/aarch64/sysreg.h"
#include "hyp/arch.h"
#include "hyp/dtb.h"

#define TIMER_HYP_PPI_DEFAULT 10 /* INTID 26 */
#define CTL_ENABLE 1

static unsigned hyp_timer_irq = 16 + TIMER_HYP_PPI_DEFAULT;

err_t arch_timer_init(const struct boot_info *bi)
{
	const void *fdt = bi->fdt;
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,armv8-timer");
	int len;
	const fdt32_t *irqs = node < 0 ? NULL : fdt_getprop(fdt, node, "interrupts", &len);
	/* Four 3-cell specifiers: secure, non-secure, virtual, hypervisor. */
	if (irqs && len >= 12 * 4 && fdt32_to_cpu(irqs[9]) == 1 /* PPI */)
		hyp_timer_irq = 16 + fdt32_to_cpu(irqs[10]);
	return arch_timer_freq() ? E_OK : E_NOENT;
}

unsigned arch_timer_irq(void) { return hyp_timer_irq; }
uint64_t arch_timer_freq(void) { return read_sysreg(cntfrq_el0); }

uint64_t arch_timer_now(void)
{
	isb(); /* do not read the counter early */
	return read_sysreg(cntpct_el0);
}

void arch_timer_oneshot(uint64_t deadline)
{
	write_sysreg(CNTHP_CVAL_EL2, deadline);
	write_sysreg(CNTHP_CTL_EL2, CTL_ENABLE);
	isb();
}

void arch_timer_stop(void)
{
	write_sysreg(CNTHP_CTL_EL2, 0);
	isb();
}
