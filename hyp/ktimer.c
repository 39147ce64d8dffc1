/* Kernel timers: a sorted list per CPU.  Few are ever armed (one per
 * descheduled VCPU whose guest timer runs), so a list is the right size. */
#include "hyp/dtb.h"
#include "hyp/ktimer.h"

static struct ktimer *lists[MAX_CPUS];

void ktimer_cancel(struct ktimer *k)
{
	if (!ktimer_armed(k))
		return;
	struct ktimer **p = &lists[k->cpu];
	while (*p != k)
		p = &(*p)->next;
	*p = k->next;
	k->cpu = -1;
}

void ktimer_arm(struct ktimer *k, unsigned cpu, uint64_t deadline)
{
	ktimer_cancel(k);
	struct ktimer **p = &lists[cpu];
	while (*p && (*p)->deadline <= deadline)
		p = &(*p)->next;
	k->deadline = deadline;
	k->cpu = (int)cpu;
	k->next = *p;
	*p = k;
}

uint64_t ktimer_next(unsigned cpu) { return lists[cpu] ? lists[cpu]->deadline : ~0ull; }

void ktimer_expire(unsigned cpu, uint64_t now)
{
	while (lists[cpu] && lists[cpu]->deadline <= now) {
		struct ktimer *k = lists[cpu];
		lists[cpu] = k->next;
		k->cpu = -1;
		k->fire(k);
	}
}
