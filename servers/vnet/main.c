/* A virtio-net-pci driver, a server of its own (virtio 1.x, 5.1).  It holds
 * exactly: the frames its device's BARs lie in, the device's interrupt, a
 * capability to the PCI server good for this device, its DMA stream where
 * there is an IOMMU, and its channel to the net server
 * (servers/lib/netchan.h), whose memory the root task owns.  Receive queue
 * 0 holds every receive buffer the net server has handed back; transmit
 * queue 1 takes what the net server sends.  One descriptor per buffer: a
 * buffer is a virtio-net header and one frame.  No offloads, no
 * mergeable buffers: the device gives whole frames.  It may die at any
 * point: the next instance takes the rings over (netchan.h). */
#include "servers/lib/netchan.h"
#include "servers/lib/vpci.h"

#define BAR_VA 0x4100000000ull
#define QN NETCHAN_BUFS
#define IOVA_DATA 0x200000ull
#define VIRTIO_NET_F_MAC 5

const struct bootinfo *bootinfo;

struct vring { /* one queue, in the data frame */
	struct { uint64_t addr; uint32_t len; uint16_t flags, next; } desc[QN];
	struct { uint16_t flags, idx, ring[QN], event; } avail;
	struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[QN]; uint16_t event; } used
		__attribute__((aligned(4)));
};
_Static_assert(2 * sizeof(struct vring) <= 8192, "two pages");

static volatile struct netchan *chan;
static uint8_t *data = (uint8_t *)NETCHAN_DATA_VA;
static volatile struct vring *rxq, *txq;
static struct vpci dev;
static uint64_t dma;                  /* the data frame, as the device sees it */
static uint16_t noff[2], rx_used, tx_used;

static uint64_t at(const volatile void *p) { return dma + ((const uint8_t *)p - data); }

static void post(volatile struct vring *q, unsigned buf, uint64_t addr, uint32_t len, bool in)
{
	q->desc[buf] = (typeof(q->desc[0])){ .addr = addr, .len = len, .flags = in ? 2 : 0 };
	q->avail.ring[q->avail.idx % QN] = (uint16_t)buf;
	__atomic_store_n(&q->avail.idx, (uint16_t)(q->avail.idx + 1), __ATOMIC_RELEASE);
}

static void post_rx(unsigned buf)
{
	post(rxq, buf, dma + NETCHAN_RX_OFF + buf * NETCHAN_BUF_BYTES, NETCHAN_BUF_BYTES, true);
}

static bool queue_up(unsigned q, volatile struct vring *r)
{
	uint64_t ring[3] = { at(r->desc), at(&r->avail), at(&r->used) };
	return vpci_queue(&dev, q, QN, ring, &noff[q]);
}

/* Reset the device; every receive buffer starts in its queue. */
static bool device_up(void)
{
	uint64_t got;
	if (!vpci_begin(&dev, 1ull << VIRTIO_NET_F_MAC, &got))
		return false;
	for (volatile struct netring *r = &chan->tx; r <= &chan->rxfree; r++)
		r->head = r->tail = 0;
	memset((void *)rxq, 0, 2 * sizeof(struct vring));
	rx_used = tx_used = 0;
	if (!queue_up(0, rxq) || !queue_up(1, txq))
		return false;
	for (unsigned b = 0; b < NETCHAN_BUFS; b++)
		post_rx(b);
	for (unsigned i = 0; i < 6; i++)
		chan->mac[i] = got >> VIRTIO_NET_F_MAC & 1 ? VPCI_REG(uint8_t, dev.devcfg, i) : 0;
	return vpci_go(&dev);
}

/* Frames the device received go to the net server; buffers it sent come
 * back to it. */
static bool reap(void)
{
	bool any = false;
	while (rx_used != __atomic_load_n(&rxq->used.idx, __ATOMIC_ACQUIRE)) {
		uint32_t id = rxq->used.ring[rx_used % QN].id, len = rxq->used.ring[rx_used % QN].len;
		rx_used++;
		if (id >= NETCHAN_BUFS || len > NETCHAN_BUF_BYTES || len < NETCHAN_HDR ||
		    !netring_push(&chan->rx, id | (uint64_t)len << 16)) {
			chan->dropped++; /* the buffer goes straight back */
			if (id < NETCHAN_BUFS)
				post_rx(id);
			continue;
		}
		chan->received++;
		any = true;
	}
	while (tx_used != __atomic_load_n(&txq->used.idx, __ATOMIC_ACQUIRE)) {
		uint32_t id = txq->used.ring[tx_used++ % QN].id;
		if (id < NETCHAN_BUFS && netring_push(&chan->txdone, id))
			any = true, chan->sent++;
	}
	return any;
}

/* What the net server handed over: frames to send, buffers to receive in. */
static void take(void)
{
	uint64_t v;
	unsigned buf, len;
	bool rx = false, tx = false;
	while (netring_pop(&chan->rxfree, &v))
		if (netring_entry(v, &buf, &len))
			post_rx(buf), rx = true;
	while (netring_pop(&chan->tx, &v)) {
		if (!netring_entry(v, &buf, &len) || len < NETCHAN_HDR) {
			chan->dropped++;
			continue;
		}
		post(txq, buf, dma + NETCHAN_TX_OFF + buf * NETCHAN_BUF_BYTES, len, false);
		tx = true;
	}
	if (rx)
		vpci_notify(&dev, noff[0], 0);
	if (tx)
		vpci_notify(&dev, noff[1], 1);
}

/* Take the rings over from the switch (netchan.h): nothing else touches
 * them until `up`. */
static void take_over(void)
{
	chan->up = 0;
	uint32_t epoch = chan->epoch + 1;
	__atomic_store_n(&chan->epoch, epoch, __ATOMIC_RELEASE);
	INV1(SYS_SIGNAL, NIC_SLOT_CLIENT, NETCHAN_DONE);
	while (__atomic_load_n(&chan->acked, __ATOMIC_ACQUIRE) != epoch) {
		struct sysregs w = { .nr = SYS_WAIT, .cap = NIC_SLOT_NTFN };
		sys(&w);
	}
}

static bool setup(void)
{
	uint64_t info[5];
	if (INV3(SYS_AS_MAP, ROOT_ASPACE, NIC_SLOT_CHAN, NETCHAN_VA, R_READ | R_WRITE) ||
	    INV3(SYS_AS_MAP, ROOT_ASPACE, NIC_SLOT_DATA, NETCHAN_DATA_VA, R_READ | R_WRITE) ||
	    !vpci_init(&dev, NIC_SLOT_PCI, NIC_SLOT_IRQ, BAR_VA))
		return false;
	chan = (volatile struct netchan *)NETCHAN_VA;
	rxq = (volatile struct vring *)(data + NETCHAN_QUEUES_OFF);
	txq = rxq + 1;
	chan->confined = !inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, NIC_SLOT_STREAM, 0, 0, 0, 0, 0, info) &&
			 info[0] == OBJ_STREAM;
	const cptr_t f[1] = { NIC_SLOT_DATA };
	const uint64_t iova[1] = { IOVA_DATA };
	if (chan->confined ? !vpci_confine(NIC_SLOT_STREAM, f, iova, 1)
			   : !(dma = frame_pa(NIC_SLOT_DATA)))
		return false;
	if (chan->confined)
		dma = IOVA_DATA;
	take_over();
	return device_up() && !INV2(SYS_IRQ_SET_NOTIFICATION, NIC_SLOT_IRQ, NIC_SLOT_NTFN, 1);
}

int main(const struct bootinfo *bi)
{
	bootinfo = bi;
	ulib_console = ROOT_CONSOLE;
	slots_init(bi->first_free_slot);
	if (!setup()) {
		printf("vnet: no virtio-net device I can drive\n");
		__builtin_trap(); /* a fault: the root task decides */
	}
	const volatile uint8_t *m = chan->mac;
	if (chan->epoch == 1)
		printf("vnet: a driver of its own: virtio-net-pci, MAC %02x:%02x:%02x:%02x:%02x:%02x, DMA "
	       "%s\n", m[0], m[1], m[2], m[3], m[4], m[5],
	       chan->confined ? "confined to its I/O space" : "unconfined (no IOMMU)");
	__atomic_store_n(&chan->up, 1, __ATOMIC_RELEASE);
	INV1(SYS_SIGNAL, NIC_SLOT_CLIENT, NETCHAN_DONE);
	for (;;) {
		struct sysregs w = { .nr = SYS_WAIT, .cap = NIC_SLOT_NTFN };
		err_t e = sys(&w);
		if (e == E_CANCELLED)
			continue;
		if (e)
			__builtin_trap();
		if (w.cap & 1) { /* the interrupt: buffers handed back too (netchan.h) */
			vpci_irq_seen(&dev);
			take();
			if (reap())
				INV1(SYS_SIGNAL, NIC_SLOT_CLIENT, NETCHAN_DONE);
			INV0(SYS_IRQ_ACK, NIC_SLOT_IRQ);
		}
		if (w.cap & NETCHAN_KICK)
			take();
	}
}
