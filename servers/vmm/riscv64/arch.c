/* The riscv64 guest's exits that are not MMIO: its SBI calls (the VMM
 * library's vm_sbi, but for the legacy console, which is the guest's
 * console here, and what makes or stops VCPUs), and its PLIC. */
#include "servers/vmm/vmm.h"

/* SBI's console for the early and the late console (hvc0 is the SBI's
 * until a virtio-console comes, which is then hvc1). */
const char arch_console_args[] = "console=hvc0 earlycon=sbi";

#define SBI_SRST_SHUTDOWN 0

bool arch_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	return vplic_mmio(m, vcpu, ipa, acc, val);
}

static bool sbi_console(struct vmm *m, const struct vm_exit *x, uint64_t *reply)
{
	reply[0] |= VMREPLY_REGS;
	reply[2] = 0;
	if (x->w[0] == SBI_EXT_LEGACY_PUTCHAR) {
		vcons_put(m, (char)x->w[4]);
		reply[1] = 0;
	} else {
		reply[1] = (uint64_t)(int64_t)vcons_getc(m);
	}
	return true;
}

bool arch_exit(struct vmm *m, const struct vm_exit *x, uint64_t *reply)
{
	unsigned i = vm_exit_vcpu(x);
	if (x->label == VMEXIT_HVC && x->w[2] == SBI_ECALL_VS &&
	    (x->w[0] == SBI_EXT_LEGACY_PUTCHAR || x->w[0] == SBI_EXT_LEGACY_GETCHAR))
		return sbi_console(m, x, reply);
	switch (vm_sbi(&m->vm, x, reply)) {
	case VM_SBI_DONE: /* hart_stop too: its reply finds no caller */
		if (m->vm.v[i].stopped)
			m->running[i] = false;
		return true;
	case VM_SBI_RESET:
		m->stopped = x->w[4] == SBI_SRST_SHUTDOWN ? "powered off" : "reset";
		vcons_flush(m);
		return false;
	case VM_SBI_HART_START:
		reply[1] = vmm_start_vcpu(m, (unsigned)reply[2], reply[3], reply[2], reply[4])
				   ? (uint64_t)SBI_ERR_FAILED : 0;
		reply[2] = 0;
		return true;
	default:
		vmm_refuse(x, reply);
		return true;
	}
}

void arch_vcpu_init(struct vmm *m, unsigned i)
{
	vplic_vcpu_init(m, i);
}

/* Only vm_sbi restarts a stopped hart (hart_start), itself. */
err_t arch_vcpu_restart(struct vmm *m, unsigned i, uint64_t pc, uint64_t arg)
{
	(void)m, (void)i, (void)pc, (void)arg;
	return E_INVAL;
}

void arch_raise_irq(struct vmm *m, unsigned irq)
{
	vplic_raise(m, irq);
}

/* The SBI console is polled: the input waits for getchar. */
void arch_console_input(struct vmm *m)
{
	(void)m;
}

void arch_events(struct vmm *m, uint64_t bits)
{
	(void)m, (void)bits; /* none of its own */
}
