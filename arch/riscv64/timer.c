/* The supervisor timer, one-shot: stimecmp where the hart has Sstc, the
 * SBI TIME extension where it does not.  The frequency is the DTB's
 * /cpus/timebase-frequency. */
#include <libfdt.h>

#include "arch/riscv64/riscv.h"
#include "hyp/arch.h"
#include "hyp/dtb.h"

uint64_t riscv_timer_freq;

err_t arch_timer_init(const struct boot_info *bi)
{
	int node = fdt_path_offset(bi->fdt, "/cpus"), len;
	const fdt32_t *p = node < 0 ? NULL :
		fdt_getprop(bi->fdt, node, "timebase-frequency", &len);
	if (!p || len != 4 || fdt32_to_cpu(*p) == 0)
		return E_NOENT;
	riscv_timer_freq = fdt32_to_cpu(*p);
	arch_timer_stop();
	return E_OK;
}

unsigned arch_timer_irq(void) { return RISCV_IRQ_TIMER; }
uint64_t arch_timer_freq(void) { return riscv_timer_freq; }
uint64_t arch_timer_now(void) { return csr_read(time); }

void arch_timer_oneshot(uint64_t deadline)
{
	if (riscv_has_sstc())
		csr_write(0x14d, deadline); /* stimecmp */
	else
		sbi_set_timer(deadline);
}

/* A deadline that never comes also clears the pending bit (priv. spec 3.2.1). */
void arch_timer_stop(void) { arch_timer_oneshot(UINT64_MAX); }
