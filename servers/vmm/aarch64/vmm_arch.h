/* The AArch64 guest's devices, as its VMM models them: a GICv3 distributor
 * and redistributors (vgic.c), a PL011 (pl011.c), PSCI (psci.c), its DTB
 * (guest_fdt.c); the exits that are AArch64's own (arch.c). */
#pragma once
#include "servers/vmm/guest.h"
#include "servers/vmm/vm.h"

struct vgic_redist {
	uint32_t waker, group0, enable0;
	uint32_t cfg[2];
	uint8_t prio[32];
};

struct vgic {
	uint32_t ctlr;
	uint32_t group[VGIC_IRQS / 32], enable[VGIC_IRQS / 32];
	uint32_t cfg[VGIC_IRQS / 16];
	uint8_t prio[VGIC_IRQS];
	uint64_t irouter[VGIC_IRQS];
	struct vgic_redist r[VM_MAX_VCPUS];
};

/* The PL011's registers (its data goes through struct vcons). */
struct uart {
	uint32_t cr, lcr, ibrd, fbrd, ifls, imsc, dmacr;
};

struct vmm_arch {
	struct vgic gic;
	struct uart uart;
};

/* A passed-through device's interrupt: an SPI the VGIC models. */
#define VMM_PASS_IRQ_OK(intid) ((intid) >= 32 && (intid) < VGIC_IRQS)

/* The boot CPU's arguments: x0 the DTB. */
static inline void arch_boot_args(uint64_t dtb, uint64_t a[2])
{
	a[0] = dtb;
	a[1] = 0;
}

struct vmm;
struct vm_exit;
bool vgic_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val);
bool pl011_mmio(struct vmm *m, uint64_t ipa, uint64_t acc, uint64_t *val);
/* Typed input waits: the PL011's receive interrupt, where unmasked. */
void pl011_input(struct vmm *m);
void vgic_vcpu_init(struct vmm *m, unsigned vcpu);
/* Raise an SPI (from a device model) on the VCPU it is routed to. */
void vgic_raise_spi(struct vmm *m, unsigned intid);
/* ICC_SGI1R_EL1 written by VCPU `from`. */
void vgic_sgi(struct vmm *m, unsigned from, uint64_t sgi1r);
/* An SMCCC/PSCI call from VCPU `vcpu`: x0-x3 in, results into res[0-3].
 * Returns false when the VCPU must not be resumed (CPU_OFF, SYSTEM_OFF). */
bool psci_call(struct vmm *m, unsigned vcpu, const uint64_t *x, uint64_t *res);

/* Where the boot VCPU starts: the Image's first instruction. */
static inline uint64_t arch_entry(const uint8_t *image, uint64_t ipa)
{
	(void)image;
	return ipa;
}

/* A device's interrupt before the guest routes it: its own number. */
#define ARCH_UNROUTED_VIRQ(intid) (intid)
