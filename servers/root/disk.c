/* A real disk: a driver server (servers/vblk) for the first virtio-blk-pci
 * device the PCI server finds, and the channel between that driver and its
 * client (servers/lib/blkchan.h).  The root task makes the channel's memory
 * and keeps it, so that the device's DMA never lands in a freed frame
 * (servers/root/driver.c restarts the driver). */
#include "servers/root/disk.h"

static bool make_channel(struct disk *d)
{
	d->chan_frame = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	d->queue_frame = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	d->data_frame = new_obj(OBJ_FRAME, FRAME_BITS_2M);
	cptr_t view = slot_alloc();
	if (!d->chan_frame || !d->queue_frame || !d->data_frame || !view ||
	    INV4(SYS_CNODE_COPY, ROOT_CNODE, view, ROOT_CNODE, d->chan_frame, R_ALL) ||
	    INV3(SYS_AS_MAP, ROOT_ASPACE, view, DISK_CHAN_VA, R_READ | R_WRITE))
		return false;
	d->chan = (volatile struct blkchan *)DISK_CHAN_VA;
	driver_give(&d->drv, DRV_SLOT_CHAN, d->chan_frame, R_READ | R_WRITE);
	driver_give(&d->drv, DRV_SLOT_QUEUE, d->queue_frame, R_READ | R_WRITE);
	driver_give(&d->drv, DRV_SLOT_DATA, d->data_frame, R_READ | R_WRITE);
	return true;
}

bool disk_busy(struct disk *d)
{
	for (unsigned k = 0; k < BLKCHAN_SLOTS; k++)
		if (__atomic_load_n(&d->chan->slot[k].state, __ATOMIC_ACQUIRE) == SLOT_ISSUED)
			return true;
	return false;
}

bool disk_catch_busy(struct disk *d)
{
	if (!driver_steal_irq(&d->drv, &d->chan->instances))
		return false;
	/* below everyone while it waits: the guest and the servers must run
	 * for a request to reach the driver, whatever their priorities */
	INV2(SYS_THREAD_SET_PRIORITY, ROOT_THREAD, 1, ROOT_MCP);
	bool busy = false;
	for (unsigned spin = 0; spin < 100000 && !(busy = disk_busy(d)); spin++)
		INV0(SYS_YIELD, 0);
	INV2(SYS_THREAD_SET_PRIORITY, ROOT_THREAD, ROOT_PRIO, ROOT_MCP);
	return busy;
}

bool disk_start(struct disk *d, cptr_t client_ntfn, cptr_t faults, const struct sd_driver *spec)
{
	extern const char vblk_image[];
	static const uint32_t ids[] = { 0x10011af4, 0x10421af4 }; /* legacy, modern */
	struct pcidev p;
	*d = (struct disk){ 0 };
	if (!pci_server_start())
		return false;
	if (!pci_find(spec ? spec->ids : ids, spec ? spec->nids : 2, &p)) {
		printf("root: no virtio-blk-pci disk\n");
		return false;
	}
	bool ok = driver_init(&d->drv, vblk_image, &p, client_ntfn);
	d->drv.name = "vblk";
	if (ok && spec)
		d->drv.quota = spec->s.quota, d->drv.prio = spec->s.prio, d->drv.cpu = spec->s.cpu;
	if (!ok || !make_channel(d) ||
	    (faults && !driver_watch(&d->drv, faults, 1)) || driver_start(&d->drv)) {
		printf("root: the disk driver did not start\n");
		return false;
	}
	printf("root: disk driver started (%s %u)\n", d->drv.msi ? "MSI line" : "INTID",
	       d->drv.msi ? d->drv.msi : p.intid);
	return true;
}

void disk_give_client(struct disk *d, struct server *client)
{
	server_give(client, BLK_SLOT_DRIVER, d->drv.ntfn, R_WRITE);
	server_give(client, BLK_SLOT_CHAN, d->chan_frame, R_READ | R_WRITE);
	server_give(client, BLK_SLOT_DATA, d->data_frame, R_READ | R_WRITE);
}

void disk_forget_requests(struct disk *d)
{
	for (unsigned k = 0; k < BLKCHAN_SLOTS; k++)
		__atomic_store_n(&d->chan->slot[k].state, SLOT_FREE, __ATOMIC_RELEASE);
}
