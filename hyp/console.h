#pragma once
#include <stddef.h>
#include "hyp/types.h"

/* A UART driver, chosen by the stdout-path node's compatible string. */
struct uart_driver {
	const char *compatible;
	void (*putc)(volatile void *base, char c);
};

/* Drivers an architecture links in; the table ends with a zeroed entry. */
extern const struct uart_driver *const uart_drivers[];

void console_init(const void *fdt);
void console_write(const char *s, size_t n);
/* The console's MMIO range (size 0 when on the early console). */
struct mem_range console_region(void);
