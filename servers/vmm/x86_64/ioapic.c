/* The IOAPIC at GUEST_IOAPIC: an index register (IOREGSEL, 0x00) and a
 * window (IOWIN, 0x10) onto its identity, version and redirection table.
 * Its inputs are the 16550's and the virtio slots' lines; every pin is
 * taken as edge-triggered (the ACPI tables say so), so a raise is one
 * delivery of the pin's vector to the destination its entry names. */
#include "servers/vmm/vmm.h"

#define REDIR_MASKED (1ull << 16)
#define REDIR_LOGICAL (1ull << 11)

/* The VCPU an entry delivers to (the first its destination names). */
static unsigned dest_vcpu(const struct vmm *m, uint64_t e)
{
	unsigned dest = (unsigned)(e >> 56);
	for (unsigned i = 0; i < m->nvcpus; i++)
		if (e & REDIR_LOGICAL ? (m->arch.lapic[i].ldr >> 24 & dest) : i == dest)
			return i;
	return 0;
}

/* A device whose interrupt the kernel raises follows its pin's entry:
 * masked, nowhere. */
static void route(struct vmm *m, unsigned pin)
{
	uint64_t e = m->arch.ioapic.redir[pin];
	bool on = !(e & REDIR_MASKED) && (e & 0xff) >= VIRQ_X86_FIRST;
	vmm_irq_routed(m, pin, dest_vcpu(m, e), on ? (unsigned)(e & 0xff) : ARCH_UNROUTED_VIRQ(pin));
}

static uint32_t reg_read(const struct vioapic *io)
{
	unsigned r = io->sel;
	if (r == 0)
		return io->id;
	if (r == 1)
		return (IOAPIC_PINS - 1) << 16 | 0x20; /* version 0x20 */
	if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS)
		return (uint32_t)(io->redir[(r - 0x10) / 2] >> (r & 1 ? 32 : 0));
	return 0;
}

static void reg_write(struct vmm *m, uint32_t v)
{
	struct vioapic *io = &m->arch.ioapic;
	unsigned r = io->sel;
	if (r == 0) {
		io->id = v & 0x0f000000u;
	} else if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS) {
		unsigned pin = (r - 0x10) / 2;
		uint64_t keep = r & 1 ? 0xffffffffull : 0xffffffffull << 32;
		uint64_t set = r & 1 ? (uint64_t)(v & 0xff000000u) << 32 : v & 0x1afffu;
		io->redir[pin] = (io->redir[pin] & keep) | set; /* status bits read 0 */
		route(m, pin);
	}
}

bool ioapic_mmio(struct vmm *m, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	if (ipa < GUEST_IOAPIC || ipa >= GUEST_IOAPIC + 0x1000)
		return false;
	unsigned off = (unsigned)(ipa - GUEST_IOAPIC);
	bool w = acc & VMACC_WRITE;
	if (off == 0x00 && w)
		m->arch.ioapic.sel = (uint32_t)*val & 0xff;
	else if (off == 0x00)
		*val = m->arch.ioapic.sel;
	else if (off == 0x10 && w)
		reg_write(m, (uint32_t)*val);
	else if (off == 0x10)
		*val = reg_read(&m->arch.ioapic);
	else if (!w)
		*val = 0; /* the EOI register (0x40) and holes */
	return true;
}

void ioapic_raise(struct vmm *m, unsigned pin)
{
	uint64_t e = pin < IOAPIC_PINS ? m->arch.ioapic.redir[pin] : REDIR_MASKED;
	unsigned to = dest_vcpu(m, e);
	if (!(e & REDIR_MASKED) && (e & 0xff) >= VIRQ_X86_FIRST && m->running[to])
		INV1(SYS_VCPU_INJECT, m->vm.v[to].vcpu, e & 0xff);
}
