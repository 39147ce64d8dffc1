/* A real disk: the PCI server (servers/pci), a driver server for the first
 * virtio-blk-pci device it finds (servers/vblk), and the channel between
 * that driver and its client (servers/lib/blkchan.h).  The root task makes
 * the channel's memory and keeps it, so that the device's DMA never lands
 * in a freed frame, and it starts a new driver whenever the old one dies:
 * a fault reported on the driver's fault endpoint, or a kill (a test). */
#include <libfdt.h>
#include "servers/lib/blkchan.h"
#include "servers/lib/pci.h"
#include "servers/root/disk.h"

#define DRIVER_QUOTA (4ull << 20)
/* Above its client: a kick runs it at once, so the device works on one
 * piece while the block server copies the next. */
#define DRIVER_PRIO ROOT_PRIO

/* The PCI server, given the bridge's ECAM and 32-bit memory window (the
 * DTB's pci node: reg and ranges) and nothing else of the machine. */
static bool pci_start(struct disk *d)
{
	extern const char pci_image[];
	const void *fdt = (const void *)bootinfo->dtb_vaddr;
	int node = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic"), len;
	const fdt64_t *reg = node >= 0 ? fdt_getprop(fdt, node, "reg", &len) : NULL;
	const fdt32_t *r = node >= 0 ? fdt_getprop(fdt, node, "ranges", &len) : NULL;
	if (!reg || !r)
		return false;
	struct pa_range want[2] = { { fdt64_to_cpu(reg[0]), fdt64_to_cpu(reg[1]) } };
	for (int i = 0; i + 7 <= len / 4; i += 7)
		if ((fdt32_to_cpu(r[i]) >> 24 & 3) == 2) /* 32-bit memory */
			want[1] = (struct pa_range){
				(uint64_t)fdt32_to_cpu(r[i + 3]) << 32 | fdt32_to_cpu(r[i + 4]),
				(uint64_t)fdt32_to_cpu(r[i + 5]) << 32 | fdt32_to_cpu(r[i + 6]) };
	d->pci_ep = new_obj(OBJ_ENDPOINT, 0);
	err_t e = d->pci_ep ? server_create_with(&d->pci, pci_image, 16ull << 20, ROOT_PRIO, want, 2)
			    : E_NOMEM;
	if (!e && !(e = server_give(&d->pci, PCI_SLOT_EP, d->pci_ep, R_READ)))
		e = server_start(&d->pci);
	printf("root: PCI server %s\n", e ? "did not start" : "started");
	return !e;
}

/* The first virtio-blk-pci device (legacy or modern ID), as PCI_FIND says. */
static bool find_vblk(struct disk *d, uint64_t *handle)
{
	static const uint32_t ids[] = { 0x10011af4, 0x10421af4 };
	for (unsigned i = 0; i < 2; i++) {
		struct sysregs r = { .mr = { ids[i], 0 }, .nr = SYS_CALL, .cap = d->pci_ep,
				     .info = msginfo(PCI_FIND, 2, 0) };
		if (!sys(&r) && r.mr[0] == E_OK && r.mr[3] && r.mr[4]) {
			*handle = r.mr[1];
			d->bars = (struct pa_range){ r.mr[2], r.mr[3] };
			d->intid = (unsigned)r.mr[4];
			d->rid = r.mr[6];
			return true;
		}
	}
	return false;
}

/* The channel's memory and the objects that outlive every driver. */
static bool make_channel(struct disk *d, uint64_t handle, cptr_t client_ntfn)
{
	d->chan_frame = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	d->queue_frame = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	d->data_frame = new_obj(OBJ_FRAME, FRAME_BITS_2M);
	d->drv_ntfn = new_obj(OBJ_NOTIFICATION, 0);
	d->fault_ep = new_obj(OBJ_ENDPOINT, 0);
	d->irq = slot_alloc();
	d->dev_ep = slot_alloc();
	d->client_ntfn = client_ntfn;
	cptr_t view = slot_alloc();
	/* its DMA stream, where an IOMMU confines it (else none: E_RANGE) */
	d->stream = slot_alloc();
	if (d->stream && INV3(SYS_STREAM_GET, ROOT_IRQ_CONTROL, d->rid, ROOT_CNODE, d->stream)) {
		slot_free(d->stream);
		d->stream = 0;
	}
	return d->chan_frame && d->queue_frame && d->data_frame && d->drv_ntfn && d->fault_ep &&
	       d->irq && d->dev_ep && view &&
	       !INV3(SYS_IRQ_GET, ROOT_IRQ_CONTROL, d->intid, ROOT_CNODE, d->irq) &&
	       !inv(SYS_CNODE_MINT, ROOT_CNODE, d->dev_ep, ROOT_CNODE, d->pci_ep, R_WRITE,
		    handle + 1, 0, 0) &&
	       !INV4(SYS_CNODE_COPY, ROOT_CNODE, view, ROOT_CNODE, d->chan_frame, R_ALL) &&
	       !INV3(SYS_AS_MAP, ROOT_ASPACE, view, DISK_CHAN_VA, R_READ | R_WRITE) &&
	       (d->chan = (volatile struct blkchan *)DISK_CHAN_VA);
}

err_t disk_driver_start(struct disk *d)
{
	extern const char vblk_image[];
	struct { uint64_t slot; cptr_t cap; unsigned rights; } give[] = {
		{ DRV_SLOT_PCI, d->dev_ep, R_WRITE },
		{ DRV_SLOT_NTFN, d->drv_ntfn, R_READ | R_WRITE },
		{ DRV_SLOT_CLIENT, d->client_ntfn, R_WRITE },
		{ DRV_SLOT_IRQ, d->irq, R_WRITE },
		{ DRV_SLOT_CHAN, d->chan_frame, R_READ | R_WRITE },
		{ DRV_SLOT_QUEUE, d->queue_frame, R_READ | R_WRITE },
		{ DRV_SLOT_DATA, d->data_frame, R_READ | R_WRITE },
	};
	err_t e = server_create_with(&d->drv, vblk_image, DRIVER_QUOTA, DRIVER_PRIO, &d->bars, 1);
	for (unsigned i = 0; !e && i < sizeof(give) / sizeof(give[0]); i++)
		e = server_give(&d->drv, give[i].slot, give[i].cap, give[i].rights);
	if (!e && d->stream)
		e = server_give(&d->drv, DRV_SLOT_STREAM, d->stream, R_ALL);
	if (!e) /* its faults come to the root task, which restarts it */
		e = INV3(SYS_THREAD_CONFIGURE, d->drv.thread, d->drv.cspace, d->drv.as, d->fault_ep);

	if (!e)
		e = server_start(&d->drv);
	if (e)
		server_destroy(&d->drv);
	else
		d->started++;
	return e;
}

bool disk_busy(struct disk *d)
{
	for (unsigned k = 0; k < BLKCHAN_SLOTS; k++)
		if (__atomic_load_n(&d->chan->slot[k].state, __ATOMIC_ACQUIRE) == SLOT_ISSUED)
			return true;
	return false;
}

/* Make sure the driver holds requests when it is killed, so that its
 * successor must replay them: the root task takes its device's interrupt
 * away (binds it to a notification nobody waits on), so the driver can no
 * longer see completions, and waits until it has given the device some.
 * Its successor binds the interrupt to itself again. */
bool disk_steal_irq(struct disk *d)
{
	if (!d->stolen)
		d->stolen = new_obj(OBJ_NOTIFICATION, 0);
	/* not before the driver has bound the interrupt to itself */
	for (unsigned spin = 0; spin < 100000 && d->chan->instances < d->started; spin++)
		INV0(SYS_YIELD, 0);
	return d->stolen && !INV2(SYS_IRQ_SET_NOTIFICATION, d->irq, d->stolen, 1);
}

bool disk_catch_busy(struct disk *d)
{
	if (!disk_steal_irq(d))
		return false;
	for (unsigned spin = 0; spin < 100000; spin++) {
		if (disk_busy(d))
			return true;
		INV0(SYS_YIELD, 0);
	}
	return false;
}

void disk_driver_kill(struct disk *d) { server_destroy(&d->drv); }

err_t disk_restart(struct disk *d)
{
	disk_driver_kill(d);
	d->restarts++;
	return disk_driver_start(d);
}

bool disk_start(struct disk *d, cptr_t client_ntfn)
{
	uint64_t handle;
	*d = (struct disk){ 0 };
	if (!pci_start(d))
		return false;
	if (!find_vblk(d, &handle)) {
		printf("root: no virtio-blk-pci disk\n");
		return false;
	}
	if (!make_channel(d, handle, client_ntfn) || disk_driver_start(d)) {
		printf("root: the disk driver did not start\n");
		return false;
	}
	printf("root: disk driver started (INTID %u)\n", d->intid);
	return true;
}

void disk_give_client(struct disk *d, struct server *client)
{
	server_give(client, BLK_SLOT_DRIVER, d->drv_ntfn, R_WRITE);
	server_give(client, BLK_SLOT_CHAN, d->chan_frame, R_READ | R_WRITE);
	server_give(client, BLK_SLOT_DATA, d->data_frame, R_READ | R_WRITE);
}
