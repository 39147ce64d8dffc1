/* NS16550-compatible UART (MMIO, byte registers).  Firmware has set the
 * line up; input raises the received-data interrupt. */
#include <stdint.h>

#include "hyp/console.h"

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE (1u << 5)
#define UART_LSR_DR 1u
#define UART_IER 1
#define UART_IER_RDI 1u

static void ns16550_putc(volatile void *base, char c)
{
	volatile uint8_t *r = (volatile uint8_t *)base;
	while (!(r[UART_LSR] & UART_LSR_THRE))
		;
	r[UART_THR] = (uint8_t)c;
}

static int ns16550_getc(volatile void *base)
{
	volatile uint8_t *r = (volatile uint8_t *)base;
	return r[UART_LSR] & UART_LSR_DR ? r[UART_THR] : -1; /* RBR shares THR's offset */
}

static void ns16550_rx_interrupts(volatile void *base)
{
	volatile uint8_t *r = (volatile uint8_t *)base;
	r[UART_IER] |= UART_IER_RDI;
}

const struct uart_driver uart_ns16550 = { "ns16550a", ns16550_putc, ns16550_getc,
					  ns16550_rx_interrupts };
