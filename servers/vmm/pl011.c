/* The guest's PL011: a transmitter that is never full, whose output goes to
 * the console a line at a time, and no receiver yet (reads find it empty).
 * Its transmit interrupt is raised when the guest unmasks it, which is how
 * Linux's driver asks to be told that it may write more. */
#include "servers/vmm/vmm.h"

enum { UART_DR = 0x000, UART_FR = 0x018, UART_IBRD = 0x024, UART_FBRD = 0x028,
       UART_LCR_H = 0x02c, UART_CR = 0x030, UART_IFLS = 0x034, UART_IMSC = 0x038,
       UART_RIS = 0x03c, UART_MIS = 0x040, UART_ICR = 0x044, UART_DMACR = 0x048,
       UART_ID = 0xfe0 };
#define FR_RXFE (1u << 4)
#define FR_TXFE (1u << 7)
#define INT_TX (1u << 5)
/* PrimeCell peripheral and cell IDs of a PL011 r1p5, as the AMBA bus reads them. */
static const uint8_t ids[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

static void flush(struct uart *u)
{
	if (u->len)
		console_write(u->line, u->len);
	u->len = 0;
}

static void put(struct uart *u, char c)
{
	if (c == '\r')
		return;
	u->line[u->len++] = c;
	if (c == '\n' || u->len == sizeof(u->line))
		flush(u);
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
	struct uart *u = &m->uart;
	uint64_t off = ipa - GUEST_UART;
	if (ipa < GUEST_UART || off >= 0x1000)
		return false;
	uint32_t *r = reg(u, off);
	if (acc & VMACC_WRITE) {
		if (off == UART_DR)
			put(u, (char)*val);
		else if (r)
			*r = (uint32_t)*val;
		if (off == UART_IMSC && (u->imsc & INT_TX))
			vgic_raise_spi(m, 32 + GUEST_UART_SPI);
		return true;
	}
	if (off == UART_FR)
		*val = FR_TXFE | FR_RXFE;
	else if (off == UART_RIS)
		*val = INT_TX; /* the transmitter always has room */
	else if (off == UART_MIS)
		*val = INT_TX & u->imsc;
	else if (off >= UART_ID && off < UART_ID + 32 && off % 4 == 0)
		*val = ids[(off - UART_ID) / 4];
	else
		*val = r ? *r : 0;
	return true;
}
