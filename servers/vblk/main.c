/* A virtio-blk-pci driver, a server of its own (virtio 1.x, 4.1).  It holds
 * exactly: the frames its device's BARs lie in, the device's interrupt, a
 * capability to the PCI server good for this one device (to read its
 * configuration space and turn on bus mastering), and its channel to the
 * block server (servers/lib/blkchan.h), whose memory the root task owns.
 * It may die or be killed at any point: the next instance resets the
 * device and replays what was in flight, so its only state worth keeping
 * is in the channel.
 *
 * Where the root task gives it its device's DMA stream (an IOMMU confines
 * the device), it makes an I/O address space of its own memory, maps the
 * queue page and the data frame there, binds the stream to it and gives
 * the device those I/O addresses: its device can reach nothing else.
 * Without one, it gives physical addresses (the device is trusted).
 *
 * Each channel slot has three descriptors of its own (3k: header, 3k + 1:
 * data, 3k + 2: status), so the queue never fills and a completion names
 * its slot. */
#include "servers/lib/blkchan.h"
#include "servers/lib/vdev.h"
#include "servers/lib/vpci.h"

#define BAR_VA 0x4100000000ull
#define QUEUE_VA 0x6000100000ull
#define QN 128 /* descriptors: 3 for each slot */
#define IOVA_QUEUE 0x100000ull  /* in its I/O space */
#define IOVA_DATA 0x200000ull
#define SECTOR 512u

const struct bootinfo *bootinfo;

struct vring { /* the queue page, the device's to read and write */
	struct { uint64_t addr; uint32_t len; uint16_t flags, next; } desc[QN];
	struct { uint16_t flags, idx, ring[QN], event; } avail;
	struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[QN]; uint16_t event; } used
		__attribute__((aligned(4)));
	struct virtio_blk_req hdr[BLKCHAN_SLOTS];
	uint8_t status[BLKCHAN_SLOTS];
};
_Static_assert(sizeof(struct vring) <= 4096, "one page");
_Static_assert(3 * BLKCHAN_SLOTS <= QN, "three descriptors a slot");

static volatile struct blkchan *chan;
static volatile struct vring *vq;
static struct vpci dev;
static uint64_t vq_pa, data_pa;
static uint16_t queue_notify, last_used;

/* Reset the device and bring it up with one queue in the queue page; what
 * a predecessor left in flight is gone from the device after the reset. */
static bool device_up(void)
{
	uint64_t got;
	if (!vpci_begin(&dev, 1ull << VIRTIO_BLK_F_FLUSH, &got))
		return false;
	memset((void *)vq, 0, sizeof(*vq));
	last_used = 0;
	uint64_t ring[3] = { vq_pa + __builtin_offsetof(struct vring, desc),
			     vq_pa + __builtin_offsetof(struct vring, avail),
			     vq_pa + __builtin_offsetof(struct vring, used) };
	if (!vpci_queue(&dev, 0, QN, ring, &queue_notify) || !vpci_go(&dev))
		return false;
	chan->flush = (got >> VIRTIO_BLK_F_FLUSH) & 1;
	return true;
}

/* Give slot k to the device: its header, its data buffer (none for a
 * flush), its status byte.  What the client wrote is read once and checked:
 * a bad request fails without reaching the device. */
static bool issue(unsigned k)
{
	volatile struct blkchan_slot *s = &chan->slot[k];
	uint32_t op = s->op, bytes = s->bytes;
	uint64_t sector = s->sector, cap = chan->capacity;
	bool io = op == BLK_OP_READ || op == BLK_OP_WRITE;
	if (io ? !bytes || bytes % SECTOR || bytes > BLKCHAN_SLOT_BYTES || sector > cap ||
			 bytes / SECTOR > cap - sector
	       : op != BLK_OP_FLUSH || !chan->flush) {
		s->status = io || op != BLK_OP_FLUSH ? BLK_IOERR : BLK_OK; /* no cache: done */
		__atomic_store_n(&s->state, SLOT_DONE, __ATOMIC_RELEASE);
		return false;
	}
	unsigned d = 3 * k;
	vq->hdr[k] = (struct virtio_blk_req){ .type = op == BLK_OP_READ ? VIRTIO_BLK_T_IN :
					      op == BLK_OP_WRITE ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_FLUSH,
					      .sector = sector };
	vq->status[k] = 0xff;
	vq->desc[d].addr = vq_pa + __builtin_offsetof(struct vring, hdr) + k * sizeof(vq->hdr[0]);
	vq->desc[d].len = sizeof(vq->hdr[0]);
	vq->desc[d].flags = 1; /* NEXT */
	vq->desc[d].next = (uint16_t)(io ? d + 1 : d + 2);
	vq->desc[d + 1].addr = data_pa + (uint64_t)k * BLKCHAN_SLOT_BYTES;
	vq->desc[d + 1].len = bytes;
	vq->desc[d + 1].flags = (uint16_t)(1 | (op == BLK_OP_READ ? 2 : 0)); /* NEXT, WRITE */
	vq->desc[d + 1].next = (uint16_t)(d + 2);
	vq->desc[d + 2].addr = vq_pa + __builtin_offsetof(struct vring, status) + k;
	vq->desc[d + 2].len = 1;
	vq->desc[d + 2].flags = 2;
	vq->avail.ring[vq->avail.idx % QN] = (uint16_t)d;
	__atomic_store_n(&vq->avail.idx, (uint16_t)(vq->avail.idx + 1), __ATOMIC_RELEASE);
	return true;
}

/* Take the client's new requests, and, once after a start, the ones a
 * predecessor held (ISSUED); tell the device if any went to it. */
static void take(bool replay)
{
	bool any = false, refused = false;
	for (unsigned k = 0; k < BLKCHAN_SLOTS; k++) {
		uint32_t st = __atomic_load_n(&chan->slot[k].state, __ATOMIC_ACQUIRE);
		if (st == SLOT_SUBMITTED || (replay && st == SLOT_ISSUED)) {
			chan->replayed += st == SLOT_ISSUED;
			chan->slot[k].state = SLOT_ISSUED;
			bool to_device = issue(k);
			any |= to_device, refused |= !to_device;
		}
	}
	if (refused)
		INV1(SYS_SIGNAL, DRV_SLOT_CLIENT, BLKCHAN_DONE);
	if (any)
		vpci_notify(&dev, queue_notify, 0);
}

/* The device's completions: each names its slot's first descriptor. */
static bool reap(void)
{
	bool any = false;
	while (last_used != __atomic_load_n(&vq->used.idx, __ATOMIC_ACQUIRE)) {
		uint32_t id = vq->used.ring[last_used++ % QN].id, k = id / 3;
		if (id % 3 || k >= BLKCHAN_SLOTS || chan->slot[k].state != SLOT_ISSUED)
			continue;
		chan->slot[k].status = vq->status[k] ? BLK_IOERR : BLK_OK;
		__atomic_store_n(&chan->slot[k].state, SLOT_DONE, __ATOMIC_RELEASE);
		chan->completed++;
		any = true;
	}
	return any;
}

/* The device's view of the queue page and the data frame: an I/O space
 * holding just those two, bound to its stream.  Paid from this driver's
 * memory, gone with it. */
static bool confine(void)
{
	const cptr_t f[2] = { DRV_SLOT_QUEUE, DRV_SLOT_DATA };
	const uint64_t iova[2] = { IOVA_QUEUE, IOVA_DATA };
	return vpci_confine(DRV_SLOT_STREAM, f, iova, 2);
}

/* The test of confinement: a read of sector 0 into chan->stray, outside
 * the I/O space (slot 0's descriptors, while no request is in flight: the
 * device is fresh).  The device's DMA must fault; the driver waits for the
 * device to answer or give up, records the stream's faults and resets the
 * device. */
static void stray_test(void)
{
	unsigned d = 0;
	vq->hdr[0] = (struct virtio_blk_req){ .type = VIRTIO_BLK_T_IN };
	vq->desc[d].addr = vq_pa + __builtin_offsetof(struct vring, hdr);
	vq->desc[d].len = sizeof(vq->hdr[0]), vq->desc[d].flags = 1, vq->desc[d].next = 1;
	vq->desc[1].addr = chan->stray, vq->desc[1].len = SECTOR;
	vq->desc[1].flags = 1 | 2, vq->desc[1].next = 2;
	vq->desc[2].addr = vq_pa + __builtin_offsetof(struct vring, status);
	vq->desc[2].len = 1, vq->desc[2].flags = 2;
	vq->avail.ring[vq->avail.idx % QN] = 0;
	__atomic_store_n(&vq->avail.idx, (uint16_t)(vq->avail.idx + 1), __ATOMIC_RELEASE);
	vpci_notify(&dev, queue_notify, 0);
	for (unsigned spin = 0; spin < 10000; spin++) { /* it completes, or breaks */
		if (vq->used.idx != last_used ||
		    VPCI_REG(uint8_t, dev.common, VPCI_C_STATUS) & VPCI_NEEDS_RESET)
			break;
		INV0(SYS_YIELD, 0);
	}
	uint64_t info[5] = { 0 };
	inv(SYS_STREAM_INFO, DRV_SLOT_STREAM, 0, 0, 0, 0, 0, 0, info);
	chan->stray_faults = info[1];
	chan->stray = 0;
	printf("vblk: test: the device read into 0x%lx outside its I/O space: %lu IOMMU "
	       "faults on its stream\n", vq->desc[1].addr, info[1]);
	if (!device_up())
		__builtin_trap();
}

static bool setup(void)
{
	cptr_t q = DRV_SLOT_QUEUE, d = DRV_SLOT_DATA;
	uint64_t info[5];
	if (INV3(SYS_AS_MAP, ROOT_ASPACE, DRV_SLOT_CHAN, BLKCHAN_VA, R_READ | R_WRITE) ||
	    INV3(SYS_AS_MAP, ROOT_ASPACE, q, QUEUE_VA, R_READ | R_WRITE) ||
	    INV3(SYS_AS_MAP, ROOT_ASPACE, d, BLKCHAN_DATA_VA, R_READ | R_WRITE) ||
	    !vpci_init(&dev, DRV_SLOT_PCI, DRV_SLOT_IRQ, BAR_VA))
		return false;
	chan = (volatile struct blkchan *)BLKCHAN_VA;
	chan->confined = !inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, DRV_SLOT_STREAM, 0, 0, 0, 0, 0, info) &&
			 info[0] == OBJ_STREAM;
	if (chan->confined ? !confine() : !(vq_pa = frame_pa(q)) || !(data_pa = frame_pa(d)))
		return false;
	if (chan->confined)
		vq_pa = IOVA_QUEUE, data_pa = IOVA_DATA;
	vq = (volatile struct vring *)QUEUE_VA;
	return device_up() &&
	       !INV2(SYS_IRQ_SET_NOTIFICATION, DRV_SLOT_IRQ, DRV_SLOT_NTFN, 1);
}

int main(const struct bootinfo *bi)
{
	bootinfo = bi;
	ulib_console = ROOT_CONSOLE;
	slots_init(bi->first_free_slot);
	if (!setup()) {
		printf("vblk: no virtio-blk device I can drive\n");
		__builtin_trap(); /* a fault: the root task decides */
	}
	if (chan->stray)
		stray_test();
	uint64_t cap = VPCI_REG(uint32_t, dev.devcfg, 0) |
		       (uint64_t)VPCI_REG(uint32_t, dev.devcfg, 4) << 32;
	__atomic_store_n(&chan->capacity, cap, __ATOMIC_RELEASE);
	if (!chan->instances++)
		printf("vblk: a driver of its own: virtio-blk-pci, %lu sectors, flush %s, DMA %s\n",
		       cap, chan->flush ? "on" : "not offered",
		       chan->confined ? "confined to its I/O space" : "unconfined (no IOMMU)");
	take(true);
	INV1(SYS_SIGNAL, DRV_SLOT_CLIENT, BLKCHAN_DONE); /* up: the capacity is known */
	for (;;) {
		struct sysregs w = { .nr = SYS_WAIT, .cap = DRV_SLOT_NTFN };
		err_t e = sys(&w);
		if (e == E_CANCELLED) /* suspended and resumed */
			continue;
		if (e)
			__builtin_trap(); /* a fault: the root task starts another */
		if (w.cap & 1) { /* the interrupt */
			vpci_irq_seen(&dev);
			if (reap())
				INV1(SYS_SIGNAL, DRV_SLOT_CLIENT, BLKCHAN_DONE);
			INV0(SYS_IRQ_ACK, DRV_SLOT_IRQ);
		}
		if (w.cap & BLKCHAN_KICK)
			take(false);
	}
}
