/* SPSC ring (see ring.h).  Head and tail count forever; the difference is
 * the fill level, so full and empty never look alike. */
#include "servers/lib/ring.h"

struct ring *ring_init(void *mem, unsigned order)
{
	struct ring *r = mem;
	r->head = r->tail = 0;
	r->mask = (1ull << order) - 1;
	return r;
}

bool ring_push(struct ring *r, uint64_t v, bool *was_empty)
{
	uint64_t head = r->head; /* only we write it */
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	if (head - tail > r->mask)
		return false;
	r->slot[head & r->mask] = v;
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	*was_empty = head == tail;
	return true;
}

bool ring_pop(struct ring *r, uint64_t *v)
{
	uint64_t tail = r->tail;
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	if (head == tail)
		return false;
	*v = r->slot[tail & r->mask];
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

uint64_t ring_count(const struct ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}
