/* virtio-pci for driver servers (virtio 1.x, 4.1): the device's structures
 * found through its configuration space (read through the PCI server,
 * servers/lib/pci.h) in the BAR frames the root task gave, feature
 * negotiation, queue set-up, and the I/O space that confines its DMA where
 * there is an IOMMU.  Used by servers/vblk and servers/vnet.
 *
 * The interrupt: where the root task gave the driver an MSI line (x86_64:
 * its handler has an IRQ_MSI_MESSAGE), the device signals through MSI-X,
 * table entry 0 holding that message, and the configuration change and
 * every queue use vector 0; otherwise through its INTx line, as the handler
 * says (AArch64: the DTB's interrupt-map). */
#pragma once
#include "servers/lib/pci.h"
#include "servers/root/root.h"

struct vpci {
	cptr_t pci;                    /* the PCI server, badged for this device */
	volatile uint8_t *common, *notify, *isr, *devcfg;
	uint32_t notify_mul;
	uint64_t bar_lo, bar_hi;       /* the frames given, mapped from va */
	uint64_t va;
	bool msix;                     /* MSI-X vector 0 is its interrupt */
};

#define VPCI_REG(t, p, o) (*(volatile t *)((p) + (o)))
enum { VPCI_C_DFSEL = 0x00, VPCI_C_DF = 0x04, VPCI_C_GFSEL = 0x08, VPCI_C_GF = 0x0c,
       VPCI_C_STATUS = 0x14, VPCI_C_QSEL = 0x16, VPCI_C_QSIZE = 0x18, VPCI_C_QENABLE = 0x1c,
       VPCI_C_QNOFF = 0x1e, VPCI_C_QDESC = 0x20,
       VPCI_C_MSIX = 0x10, VPCI_C_QMSIX = 0x1a }; /* msix_config, queue_msix_vector */
#define VPCI_NEEDS_RESET 0x40u
#define VIRTIO_F_ACCESS_PLATFORM 33

/* A call on the PCI server (asked again if this thread was suspended
 * meanwhile): its error; *out its answer's x1. */
err_t vpci_call(const struct vpci *v, enum pci_label label, uint64_t arg, uint64_t *out);
/* Map the device frames of this server's boot info from va and find the
 * virtio structures in them; irq: the handler of the device's interrupt
 * (an MSI line: MSI-X programmed and on, v->msix). */
bool vpci_init(struct vpci *v, cptr_t pci, cptr_t irq, uint64_t va);
/* Reset the device and negotiate: VERSION_1 and ACCESS_PLATFORM when
 * offered, and those of `want` the device offers.  *got: what was agreed. */
bool vpci_begin(struct vpci *v, uint64_t want, uint64_t *got);
/* Set queue q up (size entries; its rings at these device addresses);
 * *noff: where its notifications go (vpci_notify). */
bool vpci_queue(struct vpci *v, unsigned q, unsigned size, const uint64_t ring[3],
		uint16_t *noff);
/* Bus mastering on and DRIVER_OK: the device runs. */
bool vpci_go(struct vpci *v);
static inline void vpci_notify(const struct vpci *v, uint16_t noff, unsigned q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the rings before the doorbell */
	VPCI_REG(uint16_t, v->notify, noff * v->notify_mul) = (uint16_t)q;
}
/* The interrupt came: lower INTx (reading the ISR does); nothing to do
 * with MSI-X, where the ISR is not the interrupt's (and the driver looks at
 * its queues whatever the ISR says). */
static inline void vpci_irq_seen(const struct vpci *v)
{
	if (!v->msix)
		(void)VPCI_REG(uint8_t, v->isr, 0);
}
/* An I/O space of this server's memory holding the frames (copies of the
 * capabilities, read-write) at the I/O addresses, bound to `stream`. */
bool vpci_confine(cptr_t stream, const cptr_t *frames, const uint64_t *iova, unsigned n);
uint64_t frame_pa(cptr_t f);
