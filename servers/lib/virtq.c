/* Split virtqueues, the device's side: see virtq.h. */
#include "servers/lib/virtq.h"

/* Ring sizes (virtio 1.x 2.7): 16 bytes a descriptor; flags, idx, the ring
 * and used_event for the avail ring; flags, idx, the ring and avail_event
 * for the used one. */
static uint64_t avail_bytes(uint64_t n) { return 6 + 2 * n; }
static uint64_t used_bytes(uint64_t n) { return 6 + 8 * n; }

bool virtq_init(struct virtq *q, const struct gmem *m, uint64_t size, uint64_t desc,
		uint64_t avail, uint64_t used)
{
	*q = (struct virtq){ 0 };
	if (!size || size > VQ_MAX_SIZE || (size & (size - 1)) || (desc & 15) || (avail & 1) ||
	    (used & 3))
		return false;
	void *d = gmem_ptr(m, desc, 16 * size), *a = gmem_ptr(m, avail, avail_bytes(size));
	void *u = gmem_ptr(m, used, used_bytes(size));
	if (!d || !a || !u)
		return false;
	q->desc = d;
	q->avail = a;
	q->used = u;
	q->size = (uint16_t)size;
	q->used_idx = q->used->idx; /* a device starts where the driver left it: 0 */
	q->last_avail = q->signalled = q->used_idx;
	return true;
}

/* The event index fields, after each ring (read or written whole). */
static volatile uint16_t *used_event(const struct virtq *q) { return &q->avail->ring[q->size]; }
static volatile uint16_t *avail_event(const struct virtq *q)
{
	return (volatile uint16_t *)&q->used->ring[q->size];
}

int virtq_next(struct virtq *q)
{
	uint16_t idx = q->avail->idx;
	__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the ring entry after its index */
	if (idx == q->last_avail && q->event_idx) {
		/* empty: ask to be notified of the next one, then look again,
		 * since it may have come before the driver saw our ask */
		*avail_event(q) = q->last_avail;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		idx = q->avail->idx;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	}
	if (idx == q->last_avail)
		return VQ_EMPTY;
	if ((uint16_t)(idx - q->last_avail) > q->size)
		return VQ_BROKEN;
	uint16_t head = q->avail->ring[q->last_avail & (q->size - 1)];
	if (head >= q->size)
		return VQ_BROKEN;
	q->last_avail++;
	return head;
}

int virtq_chain(const struct virtq *q, const struct gmem *m, uint16_t head,
		struct vq_buf *bufs, unsigned max)
{
	unsigned n = 0;
	bool writing = false;
	for (unsigned links = 0;; links++) {
		if (links >= q->size || n >= max)
			return VQ_BROKEN;
		struct vq_desc d = { .addr = q->desc[head].addr, .len = q->desc[head].len,
				     .flags = q->desc[head].flags, .next = q->desc[head].next };
		bool w = d.flags & VQ_DESC_F_WRITE;
		if ((d.flags & VQ_DESC_F_INDIRECT) || (writing && !w))
			return VQ_BROKEN;
		uint8_t *va = gmem_ptr(m, d.addr, d.len);
		if (!va)
			return VQ_BROKEN;
		writing = w;
		bufs[n++] = (struct vq_buf){ .va = va, .len = d.len, .write = w };
		if (!(d.flags & VQ_DESC_F_NEXT))
			return (int)n;
		if (d.next >= q->size)
			return VQ_BROKEN;
		head = d.next;
	}
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	volatile struct vq_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];
	e->id = head;
	e->len = len;
	q->used_idx++;
	__atomic_thread_fence(__ATOMIC_RELEASE); /* the entry before the index */
	q->used->idx = q->used_idx;
}

bool virtq_wants_interrupt(struct virtq *q)
{
	/* the index stored before the driver's field is read: a driver that
	 * asks and then looks at the index sees ours, or we see its ask */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(q->avail->flags & VQ_AVAIL_F_NO_INTERRUPT);
	uint16_t old = q->signalled, now = q->used_idx, event = *used_event(q);
	q->signalled = now;
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old); /* event in [old, now) */
}
