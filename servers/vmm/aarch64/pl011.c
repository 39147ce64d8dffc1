/* The guest's PL011: a transmitter that is never full, whose output goes to
 * the guest's console (console.c), and a receiver fed with what is typed
 * there.  Its transmit interrupt is raised when the guest unmasks it, which is how Linux's
 * driver asks to be told that it may write more; its receive interrupt
 * when input arrives, or is unmasked while input waits. */
#include "servers/vmm/vmm.h"

enum { UART_DR = 0x000, UART_FR = 0x018, UART_IBRD = 0x024, UART_FBRD = 0x028,
       UART_LCR_H = 0x02c, UART_CR = 0x030, UART_IFLS = 0x034, UART_IMSC = 0x038,
       UART_RIS = 0x03c, UART_MIS = 0x040, UART_ICR = 0x044, UART_DMACR = 0x048,
       UART_ID = 0xfe0 };
#define FR_RXFE (1u << 4)
#define FR_TXFE (1u << 7)
#define INT_RX (1u << 4)
#define INT_TX (1u << 5)
#define INT_RT (1u << 6)
/* PrimeCell peripheral and cell IDs of a PL011 r1p5, as the AMBA bus reads them. */
static const uint8_t ids[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

static uint32_t raw_status(const struct vmm *m)
{
	return INT_TX | (vcons_rx_empty(m) ? 0 : INT_RX | INT_RT);
}

void pl011_input(struct vmm *m)
{
	if (m->arch.uart.imsc & (INT_RX | INT_RT))
		vgic_raise_spi(m, 32 + GUEST_UART_SPI);
}

static uint32_t *reg(struct uart *u, uint64_t off)
{
	switch (off) {
	case UART_IBRD: return &u->ibrd;
	case UART_FBRD: return &u->fbrd;
	case UART_LCR_H: return &u->lcr;
	case UART_CR: return &u->cr;
	case UART_IFLS: return &u->ifls;
	case UART_IMSC: return &u->imsc;
	case UART_DMACR: return &u->dmacr;
	default: return NULL;
	}
}

bool pl011_mmio(struct vmm *m, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	struct uart *u = &m->arch.uart;
	uint64_t off = ipa - GUEST_UART;
	if (ipa < GUEST_UART || off >= 0x1000)
		return false;
	uint32_t *r = reg(u, off);
	if (acc & VMACC_WRITE) {
		if (off == UART_DR)
			vcons_put(m, (char)*val);
		else if (r)
			*r = (uint32_t)*val;
		if (off == UART_IMSC && !(u->imsc & INT_TX))
			vcons_flush(m); /* the driver has nothing more to send now */
		if (off == UART_IMSC && (u->imsc & raw_status(m)))
			vgic_raise_spi(m, 32 + GUEST_UART_SPI);
		return true;
	}
	if (off == UART_DR)
		*val = vcons_rx_empty(m) ? 0 : (uint8_t)vcons_getc(m);
	else if (off == UART_FR)
		*val = FR_TXFE | (vcons_rx_empty(m) ? FR_RXFE : 0);
	else if (off == UART_RIS)
		*val = raw_status(m); /* the transmitter always has room */
	else if (off == UART_MIS)
		*val = raw_status(m) & u->imsc;
	else if (off >= UART_ID && off < UART_ID + 32 && off % 4 == 0)
		*val = ids[(off - UART_ID) / 4];
	else
		*val = r ? *r : 0;
	return true;
}
