/* A real disk behind a driver server the root task restarts (disk.c). */
#pragma once
#include "servers/lib/blkchan.h"
#include "servers/root/driver.h"
#include "servers/root/sysdesc.h"

#define DISK_CHAN_VA 0x3a00000000ull     /* where the root sees the slot page */

struct disk {
	struct driver drv;
	cptr_t chan_frame, queue_frame, data_frame;
	volatile struct blkchan *chan;
};

/* Start the PCI server and a driver for its first virtio-blk-pci device
 * (or the first with spec's IDs, the driver with spec's quota and
 * priority), whose completions signal client_ntfn (BLKCHAN_DONE) and whose
 * faults go to `faults` with badge 1 (0: an endpoint of its own). */
bool disk_start(struct disk *d, cptr_t client_ntfn, cptr_t faults, const struct sd_driver *spec);
bool disk_busy(struct disk *d);                /* the driver holds requests */
/* Make the driver hold requests when it is next killed (a test): take its
 * interrupt away, then wait until it has given the device some. */
bool disk_catch_busy(struct disk *d);
/* Its client is gone (a block server restarted): with no driver running,
 * every slot is free again, and the new client asks anew. */
void disk_forget_requests(struct disk *d);
/* The channel's capabilities, in the block server's slots (blkchan.h). */
void disk_give_client(struct disk *d, struct server *client);
