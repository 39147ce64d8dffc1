/* The Linux VMM (cairn.root=linux): one guest with up to VM_MAX_VCPUS
 * VCPUs, its devices emulated here: a GICv3 distributor and redistributors
 * (vgic.c), a PL011 (pl011.c), PSCI (psci.c); its DTB built with libfdt
 * (guest_fdt.c).  The guest's physical map is QEMU virt's. */
#pragma once
#include "servers/vmm/virtio_mmio.h"

#define GUEST_GICD 0x08000000ull
#define GUEST_GICD_SIZE 0x10000ull
#define GUEST_GICR 0x080a0000ull
#define GUEST_GICR_STRIDE 0x20000ull   /* RD_base and SGI_base frames */
#define GUEST_UART 0x09000000ull
#define GUEST_UART_SPI 1               /* INTID 33 */
#define GUEST_VIRTIO 0x0a000000ull    /* QEMU virt's first virtio-mmio slot */
#define GUEST_VIRTIO_INTID 48          /* SPI 16, edge; slot i: 48 + i */
#define VMM_VDEVS 2                    /* virtio-mmio slots, 0x200 apart */
/* Which guest of the system this VMM runs (1, 2, ...): the badge of a
 * notification the root task gives it here (none: 1). */
#define VMM_SLOT_ID 12
extern unsigned vmm_index;
#define GUEST_RAM 0x40000000ull
#define VGIC_IRQS 96                   /* SGIs, PPIs and 64 SPIs */

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

struct uart {
	uint32_t cr, lcr, ibrd, fbrd, ifls, imsc, dmacr;
	char line[96];                 /* output, a line at a time, after a tag */
	unsigned len;
	bool midline;                  /* the last flush did not end a line */
	char rx[256];                  /* input typed on the console */
	unsigned rx_head, rx_tail;
};

struct vmm {
	struct vm vm;
	unsigned nvcpus;               /* the guest's CPUs (VCPUs made as it starts them) */
	bool running[VM_MAX_VCPUS];
	unsigned cpu_of[VM_MAX_VCPUS]; /* physical CPU of each VCPU's thread */
	struct vgic gic;
	struct uart uart;
	struct vdev dev[VMM_VDEVS];    /* virtio-mmio slots */
	const char *stopped;           /* why the guest stopped, once it has */
	uint64_t exits;
};

/* An MMIO access to a device: false when no device is there.  *val is the
 * value written, or receives the value read. */
bool vgic_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val);
bool pl011_mmio(struct vmm *m, uint64_t ipa, uint64_t acc, uint64_t *val);
/* The virtio devices whose backends the root task gave this VMM (device
 * i: slots VDEV_SLOT_EP + 2i and VDEV_SLOT_KICK + 2i); after VCPU 0 exists. */
void virtio_start(struct vmm *m);
/* What the devices did, at the end. */
void virtio_report(const struct vmm *m);
/* Console input for the guest's PL011 (dropped when its buffer is full). */
void pl011_input(struct vmm *m, const char *s, unsigned n);
/* A VCPU is made: tell the kernel which of its interrupts are enabled. */
void vgic_vcpu_init(struct vmm *m, unsigned vcpu);
/* Raise an SPI (from a device model) on the VCPU it is routed to. */
void vgic_raise_spi(struct vmm *m, unsigned intid);
/* ICC_SGI1R_EL1 written by VCPU `from`. */
void vgic_sgi(struct vmm *m, unsigned from, uint64_t sgi1r);
/* An SMCCC/PSCI call from VCPU `vcpu`: x0-x3 in, results into res[0-3].
 * Returns false when the VCPU must not be resumed (CPU_OFF, SYSTEM_OFF). */
bool psci_call(struct vmm *m, unsigned vcpu, const uint64_t *x, uint64_t *res);
/* Start VCPU i at pc with x0 (PSCI CPU_ON, and the boot CPU). */
err_t vmm_start_vcpu(struct vmm *m, unsigned i, uint64_t pc, uint64_t x0);
/* The guest's DTB into buf; returns its size, 0 if it does not fit. */
uint64_t guest_fdt(const struct vmm *m, void *buf, uint64_t len, const char *bootargs,
		   uint64_t initrd, uint64_t initrd_size);
void run_linux(void);
