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
#include "servers/lib/pci.h"
#include "servers/lib/vdev.h"
#include "servers/root/root.h"

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

enum { C_DFSEL = 0x00, C_DF = 0x04, C_GFSEL = 0x08, C_GF = 0x0c, C_STATUS = 0x14,
       C_QSEL = 0x16, C_QSIZE = 0x18, C_QENABLE = 0x1c, C_QNOFF = 0x1e, C_QDESC = 0x20,
       C_QDRIVER = 0x28, C_QDEVICE = 0x30 };
enum { S_ACK = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8 };

static volatile struct blkchan *chan;
static volatile struct vring *vq;
static uint64_t vq_pa, data_pa, bar_lo, bar_hi;
static volatile uint8_t *common, *notify, *isr, *devcfg;
static uint32_t notify_mul;
static uint16_t queue_notify, last_used;

#define REG(t, p, o) (*(volatile t *)((p) + (o)))

/* A call on the PCI server: its error; *out its answer's x1. */
static err_t pci_call(enum pci_label label, uint64_t arg, uint64_t *out)
{
	struct sysregs r = { .mr = { arg }, .nr = SYS_CALL, .cap = DRV_SLOT_PCI,
			     .info = msginfo(label, 1, 0) };
	err_t e;
	struct sysregs call = r;
	while ((e = sys(&r)) == E_CANCELLED) /* suspended meanwhile: ask again */
		r = call;
	*out = r.mr[1];
	return e ? e : (err_t)r.mr[0];
}

/* A word of the device's configuration space. */
static uint32_t cfg(unsigned off)
{
	uint64_t v;
	return pci_call(PCI_CFG_READ, off, &v) ? ~0u : (uint32_t)v;
}

static uint64_t frame_pa(cptr_t f)
{
	uint64_t info[5];
	return inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, info) ? 0 : info[2];
}

/* The device frames the root task gave, mapped in order from BAR_VA. */
static bool map_bars(void)
{
	if (!bootinfo->ndev)
		return false;
	bar_lo = bootinfo->dev[0].base;
	for (uint64_t i = 0; i < bootinfo->ndev; i++)
		for (uint64_t k = 0, off; k < bootinfo->dev[i].frames; k++) {
			uint64_t pa = bootinfo->dev[i].base + (k << FRAME_BITS_2M);
			cptr_t f = device_frame(pa, &off);
			if (!f || off || INV3(SYS_AS_MAP, ROOT_ASPACE, f, BAR_VA + (pa - bar_lo),
					      R_READ | R_WRITE))
				return false;
			bar_hi = pa + (1ull << FRAME_BITS_2M);
		}
	return true;
}

/* Where this driver reaches bus address pa + len of BAR b, or NULL. */
static volatile uint8_t *bar_va(unsigned b, uint64_t off, uint64_t len)
{
	uint32_t lo = cfg(0x10 + 4 * b);
	uint64_t pa = lo & ~0xfull;
	if (lo & 1)
		return NULL; /* I/O space */
	if ((lo >> 1 & 3) == 2 && b < 5)
		pa |= (uint64_t)cfg(0x14 + 4 * b) << 32;
	pa += off;
	if (pa < bar_lo || pa >= bar_hi || len > bar_hi - pa)
		return NULL;
	return (volatile uint8_t *)(BAR_VA + (pa - bar_lo));
}

/* The virtio structures, from the vendor capabilities (virtio 4.1.4). */
static bool find_structures(void)
{
	unsigned at = cfg(0x04) >> 16 & 0x10 ? cfg(0x34) & 0xfc : 0, n = 0;
	for (; at && n < 48; n++) {
		uint32_t w0 = cfg(at);
		if ((w0 & 0xff) == 0x09) {
			unsigned type = w0 >> 24, b = cfg(at + 4) & 0xff;
			volatile uint8_t *p = b < 6 ? bar_va(b, cfg(at + 8), cfg(at + 12)) : NULL;
			if (type == 1)
				common = p;
			else if (type == 2)
				notify = p, notify_mul = cfg(at + 16);
			else if (type == 3)
				isr = p;
			else if (type == 4)
				devcfg = p;
		}
		at = w0 >> 8 & 0xfc;
	}
	return common && notify && isr && devcfg;
}

/* Reset the device and bring it up with one queue in the queue page; what
 * a predecessor left in flight is gone from the device after the reset. */
static bool device_up(void)
{
	REG(uint8_t, common, C_STATUS) = 0;
	while (REG(uint8_t, common, C_STATUS))
		;
	REG(uint8_t, common, C_STATUS) = S_ACK | S_DRIVER;
	REG(uint32_t, common, C_DFSEL) = 0;
	uint32_t lo = REG(uint32_t, common, C_DF) & 1u << VIRTIO_BLK_F_FLUSH;
	REG(uint32_t, common, C_DFSEL) = 1;
	uint32_t hi = REG(uint32_t, common, C_DF) & 3; /* VERSION_1, ACCESS_PLATFORM */
	if (!(hi & 1))
		return false;
	REG(uint32_t, common, C_GFSEL) = 0, REG(uint32_t, common, C_GF) = lo;
	REG(uint32_t, common, C_GFSEL) = 1, REG(uint32_t, common, C_GF) = hi;
	REG(uint8_t, common, C_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK;
	if (!(REG(uint8_t, common, C_STATUS) & S_FEATURES_OK))
		return false;
	REG(uint16_t, common, C_QSEL) = 0;
	if (REG(uint16_t, common, C_QSIZE) < QN)
		return false;
	memset((void *)vq, 0, sizeof(*vq));
	last_used = 0;
	REG(uint16_t, common, C_QSIZE) = QN;
	uint64_t at[3] = { vq_pa + __builtin_offsetof(struct vring, desc),
			   vq_pa + __builtin_offsetof(struct vring, avail),
			   vq_pa + __builtin_offsetof(struct vring, used) };
	for (unsigned i = 0; i < 3; i++) {
		REG(uint32_t, common, C_QDESC + 8 * i) = (uint32_t)at[i];
		REG(uint32_t, common, C_QDESC + 8 * i + 4) = (uint32_t)(at[i] >> 32);
	}
	queue_notify = REG(uint16_t, common, C_QNOFF);
	REG(uint16_t, common, C_QENABLE) = 1;
	uint64_t unused;
	if (pci_call(PCI_ENABLE, 0, &unused)) /* bus mastering: DMA from here on */
		return false;
	REG(uint8_t, common, C_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
	chan->flush = lo != 0;
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
	if (any) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the ring before the doorbell */
		REG(uint16_t, notify, queue_notify * notify_mul) = 0;
	}
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
 * holding just those two (copies of the frame capabilities, read-write),
 * bound to its stream.  Paid from this driver's memory, gone with it. */
static bool confine(void)
{
	cptr_t io = slot_alloc(), q = slot_alloc(), d = slot_alloc();
	return io && q && d && !retype(ROOT_MEMORY, OBJ_ASPACE, 1, ROOT_CNODE, io) &&
	       !INV4(SYS_CNODE_COPY, ROOT_CNODE, q, ROOT_CNODE, DRV_SLOT_QUEUE, R_READ | R_WRITE) &&
	       !INV4(SYS_CNODE_COPY, ROOT_CNODE, d, ROOT_CNODE, DRV_SLOT_DATA, R_READ | R_WRITE) &&
	       !INV3(SYS_AS_MAP, io, q, IOVA_QUEUE, R_READ | R_WRITE) &&
	       !INV3(SYS_AS_MAP, io, d, IOVA_DATA, R_READ | R_WRITE) &&
	       !INV1(SYS_STREAM_BIND, DRV_SLOT_STREAM, io);
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
	REG(uint16_t, notify, queue_notify * notify_mul) = 0;
	for (unsigned spin = 0; spin < 10000; spin++) { /* it completes, or breaks */
		if (vq->used.idx != last_used || REG(uint8_t, common, C_STATUS) & 0x40)
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
	    INV3(SYS_AS_MAP, ROOT_ASPACE, d, BLKCHAN_DATA_VA, R_READ | R_WRITE) || !map_bars())
		return false;
	chan = (volatile struct blkchan *)BLKCHAN_VA;
	chan->confined = !inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, DRV_SLOT_STREAM, 0, 0, 0, 0, 0, info) &&
			 info[0] == OBJ_STREAM;
	if (chan->confined ? !confine() : !(vq_pa = frame_pa(q)) || !(data_pa = frame_pa(d)))
		return false;
	if (chan->confined)
		vq_pa = IOVA_QUEUE, data_pa = IOVA_DATA;
	vq = (volatile struct vring *)QUEUE_VA;
	return find_structures() && device_up() &&
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
	uint64_t cap = REG(uint32_t, devcfg, 0) | (uint64_t)REG(uint32_t, devcfg, 4) << 32;
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
		if (w.cap & 1) { /* the interrupt: reading the ISR lowers INTx */
			(void)REG(uint8_t, isr, 0);
			if (reap())
				INV1(SYS_SIGNAL, DRV_SLOT_CLIENT, BLKCHAN_DONE);
			INV0(SYS_IRQ_ACK, DRV_SLOT_IRQ);
		}
		if (w.cap & BLKCHAN_KICK)
			take(false);
	}
}
