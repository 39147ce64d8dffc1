#pragma once

#include "cairn/abi.h"
#include "hyp/types.h"

/* Interrupt-controller lines, then room for per-CPU local interrupts
 * numbered after them (RISC-V numbers its timer 1024 + 5), then the soft
 * timer lines (hyp/irq_timer.c, numbered by the ABI). */
#define IRQ_HW_MAX (1024 + 64)
#define IRQ_MAX (IRQ_SOFT_TIMER + IRQ_SOFT_TIMERS)
_Static_assert(IRQ_SOFT_TIMER >= IRQ_HW_MAX, "soft timers after every hardware line");

static inline bool irq_is_soft_timer(uint64_t irq)
{
	return irq - IRQ_SOFT_TIMER < IRQ_SOFT_TIMERS;
}

typedef void (*irq_handler_t)(unsigned irq);

void irq_register(unsigned irq, irq_handler_t fn);
/* Called by the architecture's trap code with the acknowledged interrupt. */
void irq_dispatch(unsigned irq);
/* Keep a line from user-level handlers (hyp/irq_handler.c). */
void irq_reserve(unsigned irq);

/* The soft timer lines (hyp/irq_timer.c). */
void soft_timer_set(unsigned irq, unsigned cpu, uint64_t deadline);
void soft_timer_mask(unsigned irq);
void soft_timer_unmask(unsigned irq);
void soft_timer_reset(unsigned irq);
