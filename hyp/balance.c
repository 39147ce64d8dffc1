/* Load balancing, for threads without a fixed CPU (SYS_THREAD_SET_AFFINITY
 * with AFFINITY_ANY: `floating`).  Every thread has a CPU whose queue it is
 * on; a floating one may be moved to another:
 *   - woken while its CPU is busy, it goes to an idle CPU if there is one
 *     (balance_place);
 *   - a CPU about to idle takes one waiting in another CPU's queue
 *     (balance_pull);
 *   - when a timeslice ends, one waiting here goes to an idle CPU
 *     (balance_push): a CPU that was asleep before the work came is found
 *     this way.
 * Only queued threads move (a current one is its CPU's business), never a
 * VCPU's thread (a parked guest's state stays with its CPU, vcpu/vcpu.h).
 * Under the big lock every CPU's queue may be read and changed here; the
 * scans are O(threads queued), and run only when a CPU idles or a slice
 * ends, or a floating thread wakes. */
#include "hyp/bits.h"
#include "hyp/cpu.h"
#include "hyp/sched.h"

static bool movable(const struct thread *t) { return t->floating && !t->vcpu; }

static bool idle_cpu(unsigned c)
{
	const struct sched *s = sched_of(c);
	return !s->cur && !s->q.top && cpu_up(c);
}

/* The highest-priority movable thread queued on q, or NULL. */
static struct thread *queued_movable(const struct runq *q)
{
	for (unsigned w = PRIO_LEVELS / 64; w-- > 0;)
		for (uint64_t bits = q->words[w]; bits; bits &= ~(1ull << bit_highest(bits))) {
			struct thread *h = q->head[w * 64 + bit_highest(bits)], *t = h;
			do {
				if (movable(t))
					return t;
				t = t->next;
			} while (t != h);
		}
	return NULL;
}

static void move(struct thread *t, unsigned to)
{
	runq_remove(&sched_of(t->cpu)->q, t);
	t->cpu = (uint8_t)to;
	runq_add(&sched_of(to)->q, t, false);
	thread_kick(to);
}

unsigned balance_place(const struct thread *t)
{
	if (!movable(t) || !sched_of(t->cpu)->cur)
		return t->cpu;
	for (unsigned c = 0; c < ncpus_online; c++)
		if (idle_cpu(c))
			return c;
	return t->cpu;
}

bool balance_pull(unsigned cpu)
{
	for (unsigned k = 1; k < ncpus_online; k++) {
		struct thread *t = queued_movable(&sched_of((cpu + k) % ncpus_online)->q);
		if (t) {
			move(t, cpu);
			return true;
		}
	}
	return false;
}

void balance_push(unsigned cpu)
{
	struct thread *t = queued_movable(&sched_of(cpu)->q);
	for (unsigned c = 0; t && c < ncpus_online; c++)
		if (c != cpu && idle_cpu(c)) {
			move(t, c);
			return;
		}
}
