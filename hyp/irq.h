#pragma once

/* Interrupt-controller lines, then room for per-CPU local interrupts
 * numbered after them (RISC-V numbers its timer 1024 + 5). */
#define IRQ_MAX (1024 + 64)

typedef void (*irq_handler_t)(unsigned irq);

void irq_register(unsigned irq, irq_handler_t fn);
/* Called by the architecture's trap code with the acknowledged interrupt. */
void irq_dispatch(unsigned irq);
/* Keep a line from user-level handlers (hyp/irq_handler.c). */
void irq_reserve(unsigned irq);
