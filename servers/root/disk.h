/* A real disk behind a driver server the root task restarts (disk.c). */
#pragma once
#include "servers/lib/blkchan.h"
#include "servers/root/spawn.h"

#define DISK_CHAN_VA 0x3a00000000ull     /* where the root sees the slot page */

struct disk {
	struct server pci, drv;
	cptr_t pci_ep;         /* the PCI server's, unbadged: the manager's */
	cptr_t dev_ep;         /* minted for the disk's device: the driver's */
	cptr_t irq, drv_ntfn, fault_ep, client_ntfn;
	cptr_t stolen;         /* where disk_catch_busy sends its interrupt */
	cptr_t chan_frame, queue_frame, data_frame;
	struct pa_range bars;  /* the device's frames */
	unsigned intid;
	uint64_t rid;          /* its requester ID, the IOMMU's stream ID */
	cptr_t stream;         /* its DMA stream, 0 without an IOMMU */
	unsigned restarts;
	uint32_t started;      /* driver instances started */
	volatile struct blkchan *chan;
};

/* Start the PCI server and a driver for its first virtio-blk-pci device,
 * whose completions signal client_ntfn (BLKCHAN_DONE). */
bool disk_start(struct disk *d, cptr_t client_ntfn);
err_t disk_driver_start(struct disk *d);
void disk_driver_kill(struct disk *d);
err_t disk_restart(struct disk *d);            /* kill, then start anew */
bool disk_busy(struct disk *d);                /* the driver holds requests */
bool disk_catch_busy(struct disk *d);          /* make it hold some (a test) */
bool disk_steal_irq(struct disk *d);           /* its first step */
/* The channel's capabilities, in the block server's slots (blkchan.h). */
void disk_give_client(struct disk *d, struct server *client);
