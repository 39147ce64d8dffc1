/* Arm PL011 UART.  Firmware has set the line up; input raises the
 * receive and receive-timeout interrupts. */
#include <stdint.h>

#include "hyp/console.h"

#define PL011_DR 0x00
#define PL011_FR 0x18
#define PL011_FR_TXFF (1u << 5)
#define PL011_FR_RXFE (1u << 4)
#define PL011_IMSC 0x38
#define PL011_INT_RX (1u << 4)
#define PL011_INT_RT (1u << 6)

static void pl011_putc(volatile void *base, char c)
{
	volatile uint32_t *r = (volatile uint32_t *)base;
	while (r[PL011_FR / 4] & PL011_FR_TXFF)
		;
	r[PL011_DR / 4] = (uint8_t)c;
}

static int pl011_getc(volatile void *base)
{
	volatile uint32_t *r = (volatile uint32_t *)base;
	return r[PL011_FR / 4] & PL011_FR_RXFE ? -1 : (int)(r[PL011_DR / 4] & 0xff);
}

static void pl011_rx_interrupts(volatile void *base)
{
	volatile uint32_t *r = (volatile uint32_t *)base;
	r[PL011_IMSC / 4] |= PL011_INT_RX | PL011_INT_RT;
}

const struct uart_driver uart_pl011 = { "arm,pl011", pl011_putc, pl011_getc,
					pl011_rx_interrupts };
