/* The guest's console: its output to Cairn's console a line at a time (or
 * when the guest's driver stops sending), the second guest's and later
 * ones' lines marked with their number, since they share the console
 * (written in one piece, so the tag stays with its line); and what is
 * typed for it, until its UART or firmware console reads it. */
#include "servers/vmm/vmm.h"

#define RX_SIZE sizeof(((struct vcons *)0)->rx)

void vcons_flush(struct vmm *m)
{
	struct vcons *c = &m->cons;
	char out[16 + sizeof(c->line)];
	unsigned n = 0;
	if (!c->len)
		return;
	if (vmm_index > 1 && !c->midline)
		n = (unsigned)snprintf(out, 16, "[guest %u] ", vmm_index);
	memcpy(out + n, c->line, c->len);
	console_write(out, n + c->len);
	c->midline = c->line[c->len - 1] != '\n';
	c->len = 0;
}

void vcons_put(struct vmm *m, char ch)
{
	struct vcons *c = &m->cons;
	if (ch == '\r')
		return;
	c->line[c->len++] = ch;
	if (ch == '\n' || c->len == sizeof(c->line))
		vcons_flush(m);
}

void vcons_input(struct vmm *m, const char *s, unsigned n)
{
	struct vcons *c = &m->cons;
	for (unsigned i = 0; i < n && c->rx_tail - c->rx_head < RX_SIZE; i++)
		c->rx[c->rx_tail++ % RX_SIZE] = s[i];
	arch_console_input(m);
}

int vcons_getc(struct vmm *m)
{
	struct vcons *c = &m->cons;
	return vcons_rx_empty(m) ? -1 : (uint8_t)c->rx[c->rx_head++ % RX_SIZE];
}
