#pragma once

#define IRQ_MAX 1024

typedef void (*irq_handler_t)(unsigned irq);

void irq_register(unsigned irq, irq_handler_t fn);
/* Called by the architecture's trap code with the acknowledged interrupt. */
void irq_dispatch(unsigned irq);
