/* First C code on the boot CPU: MMU off, relocated, on the boot stack. */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/sysreg.h"
#include "hyp/arch.h"
#include "hyp/boot.h"
#include "hyp/console.h"
#include "hyp/printk.h"

extern char _start[], _end[];

struct mem_range arch_kernel_image(void)
{
	return (struct mem_range){ pa_make((uintptr_t)_start),
				   (uintptr_t)_end - (uintptr_t)_start };
}

/* QEMU virt's PL011: used only when the DTB names no usable console. */
void arch_early_putc(char c)
{
	volatile uint32_t *uart = (volatile uint32_t *)0x09000000;
	while (uart[0x18 / 4] & (1u << 5))
		;
	uart[0] = (uint8_t)c;
}

static enum psci_conduit psci_from_dtb(const void *fdt, enum psci_conduit dflt)
{
	struct boot_info bi; /* psci only; the full parse comes later */
	return dtb_parse(fdt, &bi) == E_OK && bi.psci ? bi.psci : dflt;
}

_Noreturn void aarch64_boot(uintptr_t fdt_pa, unsigned el)
{
	const void *fdt = (const void *)fdt_pa; /* MMU off: VA == PA */
	console_init(fdt);
	if (el != 2) {
		/* Entered at EL1: the platform keeps EL2 for itself. */
		psci_init(psci_from_dtb(fdt, PSCI_HVC));
		printk("\ncairn: entered at EL%u, but Cairn is a hypervisor and must "
		       "start at EL2.\ncairn: this CPU or platform provides no "
		       "virtualization extensions to us\n"
		       "cairn: (QEMU: use -machine virt,virtualization=on)\n"
		       "cairn: powering off\n", el);
		arch_poweroff();
	}
	cpus[0].hwid = arch_cpu_hwid(); /* cpus[0] is the boot CPU */
	aarch64_cpu_setup(&cpus[0]);
	psci_init(psci_from_dtb(fdt, PSCI_SMC));
	kernel_boot_fdt(fdt, pa_make(fdt_pa));
}
