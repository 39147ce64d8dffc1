/* Split virtqueues, the device's side (virtio 1.x, section 2.7), for the
 * backends that serve guests (servers/blk, ...).  The rings live in guest
 * RAM that the backend has mapped (struct gmem); nothing the guest wrote is
 * trusted: every index, address and length is checked, every descriptor is
 * read once into a local copy before it is checked, so that a guest
 * rewriting a ring meanwhile changes nothing after the check.  A queue that
 * breaks a rule returns VQ_BROKEN, and the backend marks its device
 * DEVICE_NEEDS_RESET; it never touches memory outside the guest's.
 *
 * No indirect descriptors.  The event index (VIRTIO_RING_F_EVENT_IDX) where
 * the driver accepted it, VRING_AVAIL_F_NO_INTERRUPT otherwise. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest RAM as this task sees it: IPAs [ipa, ipa + size) at va. */
struct gmem {
	uint64_t ipa, size;
	uint8_t *va;
};

/* Where [ipa, ipa + len) is in this task, or NULL if any of it is outside
 * guest RAM (overflow-safe for any 64-bit ipa and len). */
static inline void *gmem_ptr(const struct gmem *m, uint64_t ipa, uint64_t len)
{
	if (ipa < m->ipa || ipa - m->ipa > m->size || len > m->size - (ipa - m->ipa))
		return NULL;
	return m->va + (ipa - m->ipa);
}

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
#define VQ_DESC_F_NEXT 1
#define VQ_DESC_F_WRITE 2
#define VQ_DESC_F_INDIRECT 4

struct vq_avail {
	uint16_t flags, idx;
	uint16_t ring[];
};

struct vq_used_elem {
	uint32_t id, len;
};
struct vq_used {
	uint16_t flags, idx;
	struct vq_used_elem ring[];
};

#define VQ_MAX_SIZE 32768u

#define VIRTIO_RING_F_EVENT_IDX 29

struct virtq {
	uint16_t size;                 /* 0: not set up */
	uint16_t last_avail;           /* next avail entry to take */
	uint16_t used_idx;             /* ours: the guest only reads it */
	uint16_t signalled;            /* used_idx when we last decided to interrupt */
	bool event_idx;                /* the driver accepted VIRTIO_RING_F_EVENT_IDX */
	volatile struct vq_desc *desc;
	volatile struct vq_avail *avail;
	volatile struct vq_used *used;
};

/* One buffer of a chain, in this task. */
struct vq_buf {
	uint8_t *va;
	uint32_t len;
	bool write;                    /* device-writable */
};

#define VQ_EMPTY (-1)
#define VQ_BROKEN (-2)

/* Set q up from the driver's queue registers: the size a power of two up
 * to VQ_MAX_SIZE, each ring aligned as the spec asks and inside guest RAM.
 * False (q left unset) otherwise. */
bool virtq_init(struct virtq *q, const struct gmem *m, uint64_t size, uint64_t desc,
		uint64_t avail, uint64_t used);

/* The head of the next available chain, VQ_EMPTY, or VQ_BROKEN (the driver
 * claims more than size new entries, or a head beyond the table). */
int virtq_next(struct virtq *q);

/* The chain from head into bufs (at most max): the number of buffers, or
 * VQ_BROKEN for a loop (more links than the queue has), an address or
 * length outside guest RAM, an indirect descriptor, a next beyond the
 * table, a readable buffer after a writable one, or more than max. */
int virtq_chain(const struct virtq *q, const struct gmem *m, uint16_t head,
		struct vq_buf *bufs, unsigned max);

/* Chain head is done, len bytes written into it: into the used ring. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/* After pushes: whether the driver wants an interrupt for them: with the
 * event index, whether they passed the used_event it asked for; without,
 * whether it has not set VRING_AVAIL_F_NO_INTERRUPT (as Linux does while
 * it polls). */
#define VQ_AVAIL_F_NO_INTERRUPT 1
bool virtq_wants_interrupt(struct virtq *q);
