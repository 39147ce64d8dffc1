/* A network driver's channel to its client, the net server (a switch).
 *
 * As for the block channel (blkchan.h), the root task makes the memory and
 * keeps it: a slot page (struct netchan, four rings) and a 2 MiB data
 * frame, which the driver maps into its device's I/O space where there is
 * an IOMMU.  The data frame holds NETCHAN_BUFS transmit buffers, as many
 * receive buffers, and (from NETCHAN_QUEUES_OFF) the driver's virtqueues.
 * A buffer is a virtio-net header (12 bytes, all zero but num_buffers)
 * and one Ethernet frame.
 *
 * Each buffer is owned by one side, passed by the rings (single producer,
 * single consumer, indices counting for ever; an entry is a buffer index,
 * with the frame's length from bit 16):
 *   tx      switch → driver: send this buffer
 *   txdone  driver → switch: sent, the buffer is the switch's again
 *   rx      driver → switch: a frame arrived in this buffer
 *   rxfree  switch → driver: copied out, post the buffer again (the driver
 *           takes these at each interrupt; the switch signals for them
 *           only once half the buffers are back, so that a batch of frames
 *           costs the driver one wake-up, not two)
 * Transmit buffers start as the switch's, receive buffers as the driver's.
 * Neither side trusts the other's entries: an index or length out of range
 * is dropped, and the ring size is a constant, not a shared field.
 *
 * A driver that starts (the first, or one after another died) takes the
 * rings over: it clears `up`, bumps `epoch` and signals; the switch lets go
 * of the rings (every transmit buffer is its own again: the device's reset
 * loses what was in flight, and TCP sends it again) and answers by storing
 * the epoch in `acked` and signalling back; then the driver empties the
 * rings, gives the device every receive buffer and sets `up`. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define NETCHAN_BUFS 64
#define NETCHAN_BUF_BYTES 2048u
#define NETCHAN_HDR 12u                /* struct virtio_net_hdr_v1 */
#define NETCHAN_FRAME_MAX 1514u        /* Ethernet, no FCS, MTU 1500 */
#define NETCHAN_TX_OFF 0u
#define NETCHAN_RX_OFF (NETCHAN_BUFS * NETCHAN_BUF_BYTES)
#define NETCHAN_QUEUES_OFF (1u << 20)  /* the driver's: its device's rings */
#define NETCHAN_KICK 2u                /* the switch's bit on the driver's notification */
#define NETCHAN_DONE 2u                /* the driver's bit on the switch's */

struct netring {
	uint64_t head, pad0[7];            /* the producer's */
	uint64_t tail, pad1[7];            /* the consumer's */
	uint64_t slot[NETCHAN_BUFS];
};

struct netchan {
	struct netring tx, txdone, rx, rxfree;
	uint8_t mac[6];                    /* driver: the device's address */
	uint16_t up;                       /* driver: 1 once its device runs */
	uint32_t epoch;                    /* driver: instances started */
	uint32_t acked;                    /* switch: the epoch it let go of the rings for */
	uint32_t confined;                 /* driver: DMA through an I/O space */
	uint64_t sent, received, dropped;  /* driver's counts */
};
_Static_assert(sizeof(struct netchan) <= 4096, "one page");

static inline bool netring_push(volatile struct netring *r, uint64_t v)
{
	uint64_t head = r->head, tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	if (head - tail >= NETCHAN_BUFS)
		return false;
	r->slot[head % NETCHAN_BUFS] = v;
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return true;
}

static inline bool netring_pop(volatile struct netring *r, uint64_t *v)
{
	uint64_t tail = r->tail, head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	if (head == tail || head - tail > NETCHAN_BUFS) /* empty, or a lie */
		return false;
	*v = r->slot[tail % NETCHAN_BUFS];
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

/* An entry's buffer index and length, checked: false if out of range. */
static inline bool netring_entry(uint64_t v, unsigned *buf, unsigned *len)
{
	*buf = (unsigned)(v & 0xffff);
	*len = (unsigned)(v >> 16);
	return *buf < NETCHAN_BUFS && *len <= NETCHAN_BUF_BYTES;
}

/* Slots in the NIC driver's and the net server's CNodes (8-15). */
enum {
	NIC_SLOT_PCI = 8, NIC_SLOT_NTFN = 9, NIC_SLOT_CLIENT = 10, NIC_SLOT_IRQ = 11,
	NIC_SLOT_CHAN = 12, NIC_SLOT_DATA = 14, NIC_SLOT_STREAM = 15,
	NET_SLOT_KICK = 9,   /* the net server's own notification (VDEV_SLOT_KICK) */
	NET_SLOT_DRIVER = 10, NET_SLOT_CHAN = 11, NET_SLOT_DATA = 12,
	NET_SLOT_PROGRESS = 13, /* optional: signalled (bit 2) every NET_PROGRESS_EVERY uplink frames */
};
#define NET_PROGRESS_EVERY 64
#define NETCHAN_VA 0x6000000000ull
#define NETCHAN_DATA_VA 0x6000200000ull
