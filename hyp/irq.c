#include "hyp/irq.h"
#include "hyp/printk.h"

static irq_handler_t handlers[IRQ_MAX];

void irq_register(unsigned irq, irq_handler_t fn)
{
	if (irq < IRQ_MAX)
		handlers[irq] = fn;
}

void irq_dispatch(unsigned irq)
{
	if (irq < IRQ_MAX && handlers[irq])
		handlers[irq](irq);
	else
		printk("irq: spurious interrupt %u\n", irq);
}
