/* The AArch64 guest's exits that are not MMIO (PSCI calls by HVC or SMC,
 * system registers), its MMIO devices, and its VCPUs' reset state. */
#include "servers/vmm/vmm.h"

const char arch_console_args[] = "console=ttyAMA0 earlycon=pl011,0x9000000";

/* ICC_SGI1R_EL1 as the exit message names it (ESR ISS, Rt and direction clear). */
#define ISS_ICC_SGI1R (3u << 20 | 5u << 17 | 0u << 14 | 12u << 10 | 11u << 1)

bool arch_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	return vgic_mmio(m, vcpu, ipa, acc, val) || pl011_mmio(m, ipa, acc, val);
}

bool arch_exit(struct vmm *m, const struct vm_exit *x, uint64_t *reply)
{
	unsigned i = vm_exit_vcpu(x);
	uint64_t acc = x->w[3], val = x->w[4];
	if (x->label == VMEXIT_HVC || x->label == VMEXIT_SMC) {
		uint64_t in[4] = { x->w[0], x->w[3], x->w[4], x->w[5] };
		uint64_t res[4] = { 0, x->w[3], x->w[4], x->w[5] };
		if (!psci_call(m, i, in, res))
			return false;
		reply[0] |= VMREPLY_REGS;
		for (unsigned k = 0; k < 4; k++)
			reply[1 + k] = res[k];
		return true;
	}
	if (x->label != VMEXIT_SYSREG) {
		vmm_refuse(x, reply);
		return true;
	}
	if (x->w[0] == ISS_ICC_SGI1R && (acc & VMACC_WRITE))
		vgic_sgi(m, i, val);
	else if (!(acc & VMACC_WRITE)) /* debug, PMU and the like: read as zero */
		reply[0] |= VMREPLY_READ, reply[1] = 0;
	return true;
}

void arch_vcpu_init(struct vmm *m, unsigned i)
{
	vgic_vcpu_init(m, i);
}

/* On again after CPU_OFF: from reset, EL1h with interrupts masked, the MMU off. */
err_t arch_vcpu_restart(struct vmm *m, unsigned i, uint64_t pc, uint64_t arg)
{
	cptr_t v = m->vm.v[i].vcpu;
	err_t e;
	if ((e = INV2(SYS_VCPU_WRITE_REG, v, VREG_PC, pc)) ||
	    (e = INV2(SYS_VCPU_WRITE_REG, v, VREG_X0, arg)) ||
	    (e = INV2(SYS_VCPU_WRITE_REG, v, VREG_PSTATE, 0x3c5)) ||
	    (e = INV2(SYS_VCPU_WRITE_REG, v, VREG_SCTLR_EL1, 0x30d00800)))
		return e;
	return E_OK;
}

void arch_raise_irq(struct vmm *m, unsigned irq)
{
	vgic_raise_spi(m, irq);
}

void arch_console_input(struct vmm *m)
{
	pl011_input(m);
}

void arch_events(struct vmm *m, uint64_t bits)
{
	(void)m, (void)bits; /* none of its own */
}
