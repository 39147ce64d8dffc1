/* The fair class: weighted sharing among the threads of one priority
 * level (SYS_THREAD_SET_WEIGHT), by virtual runtime, as CFS does.  A
 * thread's virtual runtime is its CPU time over its weight; when a
 * timeslice ends at a level where some thread has a weight, the thread
 * with the least virtual runtime runs next, so over time each gets CPU in
 * proportion to its weight.  A thread without a weight counts as
 * FAIR_UNIT; at a level where no thread has one, the level is plain round
 * robin (the head of its queue), as before.
 *
 * Nothing is kept up to date on the hot paths: virtual runtime is worked
 * out from the CPU time the switches charge anyway (thread.ticks), here,
 * at the end of a timeslice only.  A thread that slept does not get to
 * run alone until it has caught up: it is brought to within one timeslice
 * (the lightest thread's, in virtual time) of where the thread whose slice
 * ended stood when it got the CPU (its offset `voff` raised).  That stint,
 * not the nominal slice: a host that stops the CPU mid-slice (a guest of
 * KVM, QEMU beside busy processes) makes it longer, and a thread that only
 * waited through it must not lose the credit it earned meanwhile.  The pick
 * walks the level: O(threads at that level). */
#include "hyp/sched.h"

static uint64_t vruntime(const struct thread *t)
{
	return t->ticks * FAIR_UNIT / (t->weight ? t->weight : FAIR_UNIT) + t->voff;
}

struct thread *fair_pick(const struct runq *q, unsigned prio, const struct thread *ending,
			 uint64_t slice, uint64_t stint)
{
	struct thread *head = q->head[prio], *t = head, *best = head;
	uint32_t lightest = FAIR_UNIT;
	bool fair = false;
	do {
		fair |= t->weight != 0;
		lightest = t->weight && t->weight < lightest ? t->weight : lightest;
		t = t->next;
	} while (t != head);
	if (!fair)
		return head;
	/* the ending thread's stint and one slice of the lightest thread: how
	 * far behind a thread that waited its turn can be; further, it slept */
	uint64_t w = ending->weight ? ending->weight : FAIR_UNIT;
	uint64_t v = vruntime(ending), lag = slice * FAIR_UNIT / lightest + stint * FAIR_UNIT / w;
	uint64_t floor = v > lag ? v - lag : 0;
	do {
		uint64_t vt = vruntime(t);
		if (vt < floor)
			t->voff += floor - vt, vt = floor;
		if (vt < vruntime(best))
			best = t;
		t = t->next;
	} while (t != head);
	return best;
}
