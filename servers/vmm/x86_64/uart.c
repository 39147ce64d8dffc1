/* COM1: a 16550A at I/O port 0x3f8, its line IOAPIC pin 4.  Output goes to
 * the guest's console at once, so the transmitter is always empty; input
 * waits in the console's buffer (struct vcons).  Its interrupt, as the
 * 16550's: "data ready" while input waits and IER asks for it,
 * "transmitter empty" after a write (or when IER starts asking) until IIR
 * reports it; a raise on each rise of the line (the pin is edge-triggered).
 * Loopback (MCR bit 4) reflects MCR in MSR, which Linux's probe reads. */
#include "servers/vmm/vmm.h"

enum { RBR = 0, IER = 1, IIR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define IER_RDI 0x01
#define IER_THRI 0x02
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE_TEMT 0x60
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define FCR_FIFO 0x01

static bool rx_ready(struct vmm *m)
{
	return !vcons_rx_empty(m);
}

static bool line(struct vmm *m)
{
	const struct vuart *u = &m->arch.uart;
	return ((u->ier & IER_RDI) && rx_ready(m)) || ((u->ier & IER_THRI) && u->thr_irq);
}

static void update(struct vmm *m)
{
	bool now = line(m);
	if (now && !m->arch.uart.line)
		ioapic_raise(m, COM1_GSI);
	m->arch.uart.line = now;
}

static uint8_t iir(struct vmm *m)
{
	struct vuart *u = &m->arch.uart;
	uint8_t fifo = u->fcr & FCR_FIFO ? 0xc0 : 0;
	if ((u->ier & IER_RDI) && rx_ready(m))
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thr_irq) {
		u->thr_irq = false; /* reading IIR that says so clears it */
		return fifo | IIR_THRI;
	}
	return fifo | IIR_NONE;
}

static uint8_t msr(const struct vuart *u)
{
	if (!(u->mcr & MCR_LOOP))
		return 0xb0; /* DCD, DSR, CTS: a terminal is there */
	return (uint8_t)((u->mcr & 0x2) << 3 | (u->mcr & 0x1) << 5 | (u->mcr & 0xc) << 4);
}

static uint8_t uart_read(struct vmm *m, unsigned reg)
{
	struct vuart *u = &m->arch.uart;
	bool dlab = u->lcr & LCR_DLAB;
	switch (reg) {
	case RBR: return dlab ? u->dll : (uint8_t)vcons_getc(m);
	case IER: return dlab ? u->dlm : u->ier;
	case IIR: return iir(m);
	case LCR: return u->lcr;
	case MCR: return u->mcr;
	case LSR: return (uint8_t)(LSR_THRE_TEMT | (rx_ready(m) ? LSR_DR : 0));
	case MSR: return msr(u);
	default:  return u->scr;
	}
}

static void uart_write(struct vmm *m, unsigned reg, uint8_t v)
{
	struct vuart *u = &m->arch.uart;
	bool dlab = u->lcr & LCR_DLAB;
	switch (reg) {
	case RBR:
		if (dlab) {
			u->dll = v;
		} else {
			if (!(u->mcr & MCR_LOOP))
				vcons_put(m, (char)v);
			u->thr_irq = true;
		}
		break;
	case IER:
		if (dlab) {
			u->dlm = v;
		} else {
			if ((v & IER_THRI) && !(u->ier & IER_THRI))
				u->thr_irq = true; /* empty already: say so */
			if (!(v & IER_THRI) && (u->ier & IER_THRI))
				vcons_flush(m); /* the driver has sent all it had */
			u->ier = v & 0x0f;
		}
		break;
	case IIR: u->fcr = v; break;
	case LCR: u->lcr = v; break;
	case MCR: u->mcr = v & 0x1f; break;
	case SCR: u->scr = v; break;
	default:  break;
	}
}

bool uart_port(struct vmm *m, unsigned port, uint64_t acc, uint64_t *val)
{
	if (port < COM1 || port >= COM1 + 8)
		return false;
	if (acc & VMACC_WRITE)
		uart_write(m, port - COM1, (uint8_t)*val);
	else
		*val = uart_read(m, port - COM1);
	update(m);
	return true;
}

void uart_input(struct vmm *m)
{
	update(m);
}
