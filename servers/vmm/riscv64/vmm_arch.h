/* The riscv64 guest's devices, as its VMM models them: a PLIC (vplic.c),
 * the SBI (the VMM library's vm_sbi, and its legacy console here, arch.c),
 * its DTB (guest_fdt.c).  Its physical map is AArch64's (RAM, virtio-mmio
 * slots), with the PLIC where QEMU's riscv64 virt has it. */
#pragma once
#include "servers/vmm/guest.h"
#include "servers/vmm/vm.h"

#define GUEST_PLIC 0x0c000000ull
#define PLIC_SOURCES 96            /* 1-95; those below 16 are never raised */
#define PLIC_FIRST_VIRQ 16         /* the kernel's external virtual interrupts */
#define GUEST_PLIC_SIZE (0x200000ull + VM_MAX_VCPUS * 0x1000ull)

/* Context i is hart i's S-mode (the guest has no M-mode). */
struct vplic {
	uint32_t prio[PLIC_SOURCES];
	uint32_t enable[VM_MAX_VCPUS][PLIC_SOURCES / 32];
	uint32_t threshold[VM_MAX_VCPUS];
	uint32_t told[VM_MAX_VCPUS][PLIC_SOURCES / 32]; /* enabled in the kernel */
};

struct vmm_arch {
	struct vplic plic;
};

#define VMM_PASS_IRQ_OK(src) ((src) >= PLIC_FIRST_VIRQ && (src) < PLIC_SOURCES)

/* The boot hart's arguments: a0 its hart id, a1 the DTB. */
static inline void arch_boot_args(uint64_t dtb, uint64_t a[2])
{
	a[0] = 0;
	a[1] = dtb;
}

struct vmm;
bool vplic_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val);
void vplic_vcpu_init(struct vmm *m, unsigned vcpu);
void vplic_raise(struct vmm *m, unsigned src);

/* Where the boot VCPU starts: the Image's first instruction. */
static inline uint64_t arch_entry(const uint8_t *image, uint64_t ipa)
{
	(void)image;
	return ipa;
}

/* A device's interrupt before the guest routes it: its own number. */
#define ARCH_UNROUTED_VIRQ(intid) (intid)
