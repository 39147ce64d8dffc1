/* x86_64's side of the Linux VMM: none yet (vmm_arch.h), so guest_fdt
 * fails and run_linux stops before making a VCPU. */
#include "servers/vmm/vmm.h"

const char arch_console_args[] = "console=ttyS0";

uint64_t guest_fdt(const struct vmm *m, void *buf, uint64_t len, const char *bootargs,
		   uint64_t initrd, uint64_t initrd_size)
{
	(void)m, (void)buf, (void)len, (void)bootargs, (void)initrd, (void)initrd_size;
	printf("vmm: no Linux guest on x86_64 yet\n");
	return 0;
}

bool arch_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	(void)m, (void)vcpu, (void)ipa, (void)acc, (void)val;
	return false;
}

bool arch_exit(struct vmm *m, const struct vm_exit *x, uint64_t *reply)
{
	(void)m;
	vmm_refuse(x, reply);
	return true;
}

void arch_vcpu_init(struct vmm *m, unsigned i)
{
	(void)m, (void)i;
}

err_t arch_vcpu_restart(struct vmm *m, unsigned i, uint64_t pc, uint64_t arg)
{
	(void)m, (void)i, (void)pc, (void)arg;
	return E_INVAL;
}

void arch_raise_irq(struct vmm *m, unsigned irq)
{
	(void)m, (void)irq;
}

void arch_console_input(struct vmm *m)
{
	(void)m;
}
