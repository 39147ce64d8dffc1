/* First C code on the boot hart: translation off, relocated, on the boot
 * stack, tp = &cpus[0]. */
#include "arch/riscv64/riscv.h"
#include "hyp/arch.h"
#include "hyp/boot.h"
#include "hyp/console.h"
#include "hyp/cpu.h"
#include "hyp/printk.h"

extern char _start[], _end[];

struct mem_range arch_kernel_image(void)
{
	return (struct mem_range){ pa_make((uintptr_t)_start),
				   (uintptr_t)_end - (uintptr_t)_start };
}

/* Before the DTB's UART: the SBI legacy console (OpenSBI 1.1 has no DBCN). */
void arch_early_putc(char c) { sbi_console_putchar(c); }

static void read_hstatus(void) { (void)csr_read(0x600); }

_Noreturn void riscv_boot(uint64_t hartid, uintptr_t fdt_pa)
{
	const void *fdt = (const void *)fdt_pa; /* translation off: VA == PA */
	cpus[0].hwid = hartid;
	riscv_trap_init();
	console_init(fdt);
	if (!riscv_probe(read_hstatus)) {
		printk("\ncairn: this hart has no H extension, but Cairn is a "
		       "hypervisor and needs it to run in HS-mode\n"
		       "cairn: (QEMU: -cpu rv64 has it unless h=false)\n"
		       "cairn: powering off\n");
		arch_poweroff();
	}
	riscv_cpu_setup(&cpus[0]);
	kernel_boot_fdt(fdt, pa_make(fdt_pa));
}
