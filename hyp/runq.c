/* Run queues: one circular list per priority and a two-level bitmap of the
 * non-empty ones.  Every operation is O(1). */
#include "hyp/bits.h"
#include "hyp/panic.h"
#include "hyp/sched.h"

/* The highest non-empty level, -1 (ceiling 0) if none. */
static int runq_top_level(const struct runq *q)
{
	if (!q->top)
		return -1;
	unsigned w = bit_highest(q->top);
	return (int)(w * 64 + bit_highest(q->words[w]));
}

void runq_add(struct runq *q, struct thread *t, bool front)
{
	assert(!t->queued);
	unsigned p = t->prio;
	struct thread *h = q->head[p];
	if (!h) {
		t->next = t->prev = t;
		q->head[p] = t;
		q->words[p / 64] |= 1ull << (p % 64);
		q->top |= 1ull << (p / 64);
		if (p >= q->ceiling)
			q->ceiling = p + 1;
	} else {
		t->next = h;
		t->prev = h->prev;
		h->prev->next = t;
		h->prev = t;
		if (front)
			q->head[p] = t;
	}
	t->queued = true;
}

void runq_remove(struct runq *q, struct thread *t)
{
	assert(t->queued);
	unsigned p = t->prio;
	if (t->next == t) {
		q->head[p] = NULL;
		q->words[p / 64] &= ~(1ull << (p % 64));
		if (!q->words[p / 64])
			q->top &= ~(1ull << (p / 64));
		if (p + 1 == q->ceiling)
			q->ceiling = runq_top_level(q) + 1;
	} else {
		t->prev->next = t->next;
		t->next->prev = t->prev;
		if (q->head[p] == t)
			q->head[p] = t->next;
	}
	t->next = t->prev = NULL;
	t->queued = false;
}

struct thread *runq_highest(const struct runq *q)
{
	return q->ceiling ? q->head[q->ceiling - 1] : NULL;
}
