/* A block driver's channel to its client, the block server.
 *
 * The root task makes the channel's memory and keeps it, so that it outlives
 * every instance of the driver: the device may still be writing to it when a
 * driver dies, and no frame the device can reach is ever freed under it
 * (where the IOMMU confines the device to the driver's I/O space, this
 * memory is what the driver maps there).  Three pieces:
 *   the slot page (struct blkchan), shared by the client and the driver;
 *   the queue page, the device's virtqueue and request headers, the
 *     driver's alone (a client cannot race the device on a header);
 *   the data frame, 2 MiB, BLKCHAN_SLOTS buffers of BLKCHAN_SLOT_BYTES,
 *     shared: the client copies a guest's data in and out of them, because
 *     a driver is never given guest memory (that copy is what isolates a
 *     guest from the driver, and the driver from a guest's later writes).
 *
 * Each slot is one request, owned by one side at a time; the state passes
 * it on (stored with release, loaded with acquire):
 *   FREE      client: fills op, sector, bytes, then SUBMITTED, then
 *             signals the driver's notification (BLKCHAN_KICK);
 *   SUBMITTED driver: ISSUED, then gives it to the device;
 *   ISSUED    driver, when the device is done: status, then DONE, then
 *             signals the client's notification (BLKCHAN_DONE);
 *   DONE      client: takes the status (and a read's data), then FREE.
 * A driver that starts resets its device and issues every slot that is
 * SUBMITTED or ISSUED: the requests its predecessor died holding are
 * replayed, and the client sees only the delay.  A replayed request is
 * harmless: a read or write of the same sectors from the same buffer, or a
 * flush; only requests still in flight are replayed, and those had no order
 * among themselves to keep (virtio-blk promises none). */
#pragma once
#include <stdint.h>

#define BLKCHAN_SLOTS 16
#define BLKCHAN_SLOT_BYTES (128u << 10)
#define BLKCHAN_KICK 2u        /* the client's bit on the driver's notification */
#define BLKCHAN_DONE 2u        /* the driver's bit on the client's notification */

enum blkchan_state { SLOT_FREE, SLOT_SUBMITTED, SLOT_ISSUED, SLOT_DONE };
enum blkchan_op { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH };
enum blkchan_status { BLK_OK, BLK_IOERR };

struct blkchan_slot {
	uint32_t state;      /* enum blkchan_state */
	uint32_t op;         /* enum blkchan_op */
	uint64_t sector;     /* 512-byte sectors */
	uint32_t bytes;      /* a multiple of 512, at most BLKCHAN_SLOT_BYTES */
	uint32_t status;     /* enum blkchan_status, once DONE */
	uint64_t tag;        /* the client's */
};

struct blkchan {
	struct blkchan_slot slot[BLKCHAN_SLOTS];
	uint64_t capacity;   /* driver: the disk's sectors; 0 until one is up */
	uint64_t completed;  /* driver: requests done, all instances */
	uint64_t replayed;   /* driver: requests a new instance issued again */
	uint32_t instances;  /* driver: instances that started */
	uint32_t flush;      /* driver: the device honours flushes */
	uint32_t confined;   /* driver: its device's DMA goes through an I/O space */
	/* A test (servers/root/disk_test.c): the next instance programs its
	 * device to read a sector into stray, an address outside its I/O
	 * space, and says what the IOMMU reported. */
	uint64_t stray;      /* root: the address; driver: 0 once tried */
	uint64_t stray_faults; /* driver: faults its stream had after it */
};
_Static_assert(sizeof(struct blkchan) <= 4096, "one page");
_Static_assert(BLKCHAN_SLOTS * BLKCHAN_SLOT_BYTES == 2u << 20, "one 2 MiB frame");

/* Slots in the driver's and the block server's CNodes (root_slot's gap,
 * 8-15; the block server's 8 is its VDEV endpoint, servers/lib/vdev.h). */
enum {
	DRV_SLOT_PCI = 8,     /* the PCI server, badged for this device */
	DRV_SLOT_NTFN = 9,    /* the driver waits here: its interrupt, BLKCHAN_KICK */
	DRV_SLOT_CLIENT = 10, /* the client's notification, to signal BLKCHAN_DONE */
	DRV_SLOT_IRQ = 11,    /* its device's interrupt */
	DRV_SLOT_CHAN = 12,   /* the slot page */
	DRV_SLOT_QUEUE = 13,  /* the queue page */
	DRV_SLOT_DATA = 14,   /* the data frame */
	DRV_SLOT_STREAM = 15, /* its device's DMA stream, where there is an IOMMU */
	BLK_SLOT_KICK = 9,    /* the block server's own (VDEV_SLOT_KICK): the VMM's kicks, BLKCHAN_DONE */
	BLK_SLOT_DRIVER = 10, /* the driver's notification, to signal BLKCHAN_KICK */
	BLK_SLOT_CHAN = 11,
	BLK_SLOT_DATA = 12,
	BLK_SLOT_PROGRESS = 13, /* optional: signalled every BLK_PROGRESS_EVERY requests */
};
#define BLK_PROGRESS_EVERY 64
#define BLKCHAN_VA 0x6000000000ull      /* where both map the slot page */
#define BLKCHAN_DATA_VA 0x6000200000ull /* and the data frame */
