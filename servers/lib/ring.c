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
	/* Whether the consumer had taken everything before this word, looked
	 * at after publishing it, with a full fence between: ring_idle fences
	 * the same way between the consumer's last tail store and its look at
	 * head, so of a consumer going to sleep and this push at least one sees
	 * the other (Dekker), and no wake-up is lost.  (The tail read before
	 * the store could be stale: the consumer would sleep on a word it had
	 * not seen, with no signal coming, which the smpbench run found.) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*was_empty = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == head;
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

bool ring_idle(const struct ring *r)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ring_count(r) == 0;
}

uint64_t ring_count(const struct ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}
