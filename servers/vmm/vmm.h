/* The Linux VMM (cairn.root=linux): one guest with up to VM_MAX_VCPUS
 * VCPUs, its devices emulated here: a GICv3 distributor and redistributors
 * (vgic.c), a PL011 (pl011.c), PSCI (psci.c); its DTB built with libfdt
 * (guest_fdt.c).  The guest's physical map is QEMU virt's. */
#pragma once
#include "servers/vmm/guest.h"
#include "servers/vmm/virtio_mmio.h"

extern unsigned vmm_index;

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

_Static_assert(GUEST_VCPUS_MAX == VM_MAX_VCPUS, "one limit");

struct vmm {
	const struct guest_config *cfg; /* from the root task, read-only */
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
 * i: slots VMM_SLOT_VDEV(i) and the one after); after VCPU 0 exists. */
void virtio_start(struct vmm *m);
/* Their backends were restarted: connect again. */
void virtio_reconnect(struct vmm *m);
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
