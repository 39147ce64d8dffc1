#pragma once
#include <stddef.h>
#include "hyp/types.h"

/* A UART driver, chosen by the stdout-path node's compatible string. */
struct uart_driver {
	const char *compatible;
	void (*putc)(volatile void *base, char c);
	int (*getc)(volatile void *base);          /* a received byte, or -1 */
	void (*rx_interrupts)(volatile void *base); /* raise its line on input */
};

/* Drivers an architecture links in; the table ends with a zeroed entry. */
extern const struct uart_driver *const uart_drivers[];

void console_init(const void *fdt);
void console_write(const char *s, size_t n);
/* The console's MMIO range (size 0 when on the early console). */
struct mem_range console_region(void);
/* Input: a received byte or -1, and the interrupt line that input raises
 * (CONSOLE_NO_IRQ when unknown), which the root task may take. */
int console_getc(void);
#define CONSOLE_NO_IRQ (~0ull)
uint64_t console_irq(void);
