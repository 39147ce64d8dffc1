/* Soft timer lines (IRQ_SOFT_TIMER + i): one-shot timers that user space
 * programs through its IRQ handler capability (SYS_IRQ_SET_TIMER), for
 * ISAs whose user mode has no timer of its own (riscv64's stimecmp and the
 * x86 LAPIC timer are the kernel's) and for servers that want one beside
 * the hardware's.  Each is a ktimer on the list of the CPU that set it.
 *
 * A line behaves as a level-triggered one, so that a driver treats it as
 * it treats AArch64's EL1 physical timer: an expired deadline holds the
 * line high until the deadline is set again (or off); delivery masks the
 * line and IRQ_ACK unmasks it, which delivers again while it is high.
 * All under the big kernel lock, as every ktimer is. */
#include "hyp/arch.h"
#include "hyp/irq.h"
#include "hyp/ktimer.h"

struct soft_timer {
	struct ktimer k;
	bool high;   /* expired and not set since */
	bool masked; /* delivered and not acknowledged, or no handler */
};

static void expire(struct ktimer *k);

static struct soft_timer lines[IRQ_SOFT_TIMERS] = {
	[0 ... IRQ_SOFT_TIMERS - 1] = { .k = { .cpu = -1, .fire = expire }, .masked = true },
};

static struct soft_timer *line(unsigned irq) { return &lines[irq - IRQ_SOFT_TIMER]; }

static void deliver(struct soft_timer *s)
{
	if (s->high && !s->masked)
		irq_dispatch(IRQ_SOFT_TIMER + (unsigned)(s - lines)); /* masks it */
}

static void expire(struct ktimer *k)
{
	struct soft_timer *s = (struct soft_timer *)k; /* k is first */
	s->high = true;
	deliver(s);
}

void soft_timer_set(unsigned irq, unsigned cpu, uint64_t deadline)
{
	struct soft_timer *s = line(irq);
	s->high = false;
	if (deadline == SOFT_TIMER_OFF)
		ktimer_cancel(&s->k);
	else
		ktimer_arm(&s->k, cpu, deadline); /* a past one fires at the next tick */
}

void soft_timer_mask(unsigned irq) { line(irq)->masked = true; }

void soft_timer_unmask(unsigned irq)
{
	struct soft_timer *s = line(irq);
	s->masked = false;
	deliver(s);
}

/* A handler goes: the line is off and quiet for its next holder. */
void soft_timer_reset(unsigned irq)
{
	soft_timer_set(irq, 0, SOFT_TIMER_OFF);
	soft_timer_mask(irq);
}
