/* Kernel timers: a sorted list per CPU.  Few are ever armed (one per
 * descheduled VCPU whose guest timer runs), so a list is the right size. */
#include "hyp/dtb.h"
#include "hyp/ktimer.h"

struct ktimer *ktimer_lists[MAX_CPUS];

void ktimer_cancel(struct ktimer *k)
{
	if (!ktimer_armed(k))
		return;
	struct ktimer **p = &ktimer_lists[k->cpu];
	while (*p != k)
		p = &(*p)->next;
	*p = k->next;
	k->cpu = -1;
}

void ktimer_arm(struct ktimer *k, unsigned cpu, uint64_t deadline)
{
	ktimer_cancel(k);
	struct ktimer **p = &ktimer_lists[cpu];
	while (*p && (*p)->deadline <= deadline)
		p = &(*p)->next;
	k->deadline = deadline;
	k->cpu = (int)cpu;
	k->next = *p;
	*p = k;
}

void ktimer_expire(unsigned cpu, uint64_t now)
{
	while (ktimer_lists[cpu] && ktimer_lists[cpu]->deadline <= now) {
		struct ktimer *k = ktimer_lists[cpu];
		ktimer_lists[cpu] = k->next;
		k->cpu = -1;
		k->fire(k);
	}
}
