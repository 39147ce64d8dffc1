/* NS16550-compatible UART (MMIO, byte registers), transmit only.  Firmware
 * has set the line up. */
#include <stdint.h>

#include "hyp/console.h"

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE (1u << 5)

static void ns16550_putc(volatile void *base, char c)
{
	volatile uint8_t *r = (volatile uint8_t *)base;
	while (!(r[UART_LSR] & UART_LSR_THRE))
		;
	r[UART_THR] = (uint8_t)c;
}

const struct uart_driver uart_ns16550 = { "ns16550a", ns16550_putc };
