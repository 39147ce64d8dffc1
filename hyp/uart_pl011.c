/* Arm PL011 UART, transmit only.  Firmware has set the line up. */
#include <stdint.h>

#include "hyp/console.h"

#define PL011_DR 0x00
#define PL011_FR 0x18
#define PL011_FR_TXFF (1u << 5)

static void pl011_putc(volatile void *base, char c)
{
	volatile uint32_t *r = (volatile uint32_t *)base;
	while (r[PL011_FR / 4] & PL011_FR_TXFF)
		;
	r[PL011_DR / 4] = (uint8_t)c;
}

const struct uart_driver uart_pl011 = { "arm,pl011", pl011_putc };
