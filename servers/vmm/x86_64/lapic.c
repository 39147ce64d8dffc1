/* Each VCPU's local APIC, in xAPIC mode at GUEST_LAPIC (the MADT says so;
 * CPUID offers no x2APIC, whose MSRs Linux would take only with interrupt
 * remapping).  The kernel keeps the pending vectors and injects one
 * whenever the guest can take it (docs/ABI.md), so there is no IRR, ISR or
 * priority here: an EOI is taken and forgotten.  What the guest needs of
 * its APIC beyond that is its identity, IPIs (fixed ones; INIT and SIPI
 * start a VCPU) and its timer, which Linux runs in TSC-deadline mode when
 * CPUID offers it: a deadline arms the VCPU's soft timer line
 * (IRQ_SET_TIMER), whose expiry arrives in the exit loop as a
 * notification and is injected as the timer's vector. */
#include "servers/vmm/vmm.h"

enum {
	APIC_ID = 0x20, APIC_VER = 0x30, APIC_TPR = 0x80, APIC_APR = 0x90, APIC_PPR = 0xa0,
	APIC_EOI = 0xb0, APIC_LDR = 0xd0, APIC_DFR = 0xe0, APIC_SVR = 0xf0, APIC_ESR = 0x280,
	APIC_LVT_CMCI = 0x2f0, APIC_ICR = 0x300, APIC_ICR_HI = 0x310, APIC_LVT_TIMER = 0x320,
	APIC_LVT_ERROR = 0x370, APIC_TMICT = 0x380, APIC_TMCCT = 0x390, APIC_TDCR = 0x3e0,
};
#define LVT_MASKED (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)
#define ICR_LOGICAL (1u << 11)

/* The LVT registers 0x2f0 and 0x320-0x370 as lvt[] indices. */
static int lvt_index(unsigned off)
{
	if (off == APIC_LVT_CMCI)
		return 0;
	if (off >= APIC_LVT_TIMER && off <= APIC_LVT_ERROR)
		return 1 + (int)(off - APIC_LVT_TIMER) / 0x10;
	return -1;
}

static uint32_t lapic_read(const struct vlapic *l, unsigned id, unsigned off)
{
	int k = lvt_index(off);
	if (k >= 0)
		return l->lvt[k];
	switch (off) {
	case APIC_ID:      return id << 24;
	case APIC_VER:     return 0x50014;     /* version 0x14, six LVT entries */
	case APIC_TPR:     return l->tpr;
	case APIC_LDR:     return l->ldr;
	case APIC_DFR:     return l->dfr;
	case APIC_SVR:     return l->svr;
	case APIC_ESR:     return l->esr;
	case APIC_ICR_HI:  return l->icr_hi;
	case APIC_TMICT:   return l->tmict;
	case APIC_TDCR:    return l->tdcr;
	default:           return 0;           /* ICR idle, ISR, IRR, TMR, TMCCT */
	}
}

/* A VCPU started by SIPI runs from the vector's page in real mode. */
static void start_ap(struct vmm *m, unsigned to, unsigned page)
{
	if (to >= m->nvcpus || m->arch.lapic[to].started)
		return; /* a second SIPI, as hardware, does nothing */
	m->arch.sipi_page = page;
	err_t e = vmm_start_vcpu(m, to, (uint64_t)page << 12, 0, 0);
	if (e) /* VCPUs are made in order: one started early waits for its turn */
		printf("vmm: vcpu %u did not start (%u)\n", to, e);
}

/* Whether an APIC destination names VCPU `to`: physical, its number;
 * flat logical, a bit of its LDR. */
static bool names(const struct vmm *m, unsigned to, unsigned dest, bool logical)
{
	return logical ? (m->arch.lapic[to].ldr >> 24 & dest) != 0 : to == dest;
}

static void icr_write(struct vmm *m, unsigned from, uint32_t lo)
{
	unsigned mode = lo >> 8 & 7, shorthand = lo >> 18 & 3, dest = m->arch.lapic[from].icr_hi >> 24;
	for (unsigned to = 0; to < m->nvcpus; to++) {
		bool hit = shorthand == 0   ? names(m, to, dest, lo & ICR_LOGICAL)
			   : shorthand == 1 ? to == from
			   : shorthand == 2 ? true : to != from;
		if (!hit)
			continue;
		if (mode == 0 && m->running[to])       /* fixed */
			INV1(SYS_VCPU_INJECT, m->vm.v[to].vcpu, lo & 0xff);
		else if (mode == 6)                    /* start-up */
			start_ap(m, to, lo & 0xff);
		/* INIT: the VCPU is made at its SIPI; NMI and SMI are not modelled */
	}
}

static void lapic_write(struct vmm *m, unsigned id, unsigned off, uint32_t v)
{
	struct vlapic *l = &m->arch.lapic[id];
	int k = lvt_index(off);
	if (k >= 0) {
		l->lvt[k] = v;
		return;
	}
	switch (off) {
	case APIC_TPR:    l->tpr = v & 0xff; break;
	case APIC_LDR:    l->ldr = v & 0xff000000u; break;
	case APIC_DFR:    l->dfr = v | 0x0fffffffu; break;
	case APIC_SVR:    l->svr = v & 0x1ff; break;
	case APIC_ESR:    l->esr = 0; break;
	case APIC_ICR_HI: l->icr_hi = v & 0xff000000u; break;
	case APIC_ICR:    icr_write(m, id, v); break;
	case APIC_TMICT:  l->tmict = v; break; /* the one-shot and periodic modes do not run */
	case APIC_TDCR:   l->tdcr = v & 0xb; break;
	default:          break;               /* EOI and read-only registers */
	}
}

bool lapic_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	if (ipa < GUEST_LAPIC || ipa >= GUEST_LAPIC + 0x1000 || vcpu >= m->nvcpus)
		return false;
	unsigned off = (unsigned)(ipa - GUEST_LAPIC) & ~0xfu;
	if (acc & VMACC_WRITE)
		lapic_write(m, vcpu, off, (uint32_t)*val);
	else
		*val = lapic_read(&m->arch.lapic[vcpu], vcpu, off);
	return true;
}

/* The guest's TSC is the machine's (no offset), the soft timer's clock. */
void lapic_set_deadline(struct vmm *m, unsigned vcpu, uint64_t tsc)
{
	struct vlapic *l = &m->arch.lapic[vcpu];
	l->deadline = tsc;
	if (x86_timer_line(vcpu))
		INV1(SYS_IRQ_SET_TIMER, x86_timer_line(vcpu), tsc ? tsc : SOFT_TIMER_OFF);
}

/* The line's notification can be older than the deadline now set (the
 * guest set a later one while it waited in the exit loop): then the line
 * is low again and armed for that one, and only unmasked here. */
void lapic_timer_fired(struct vmm *m, unsigned vcpu)
{
	struct vlapic *l = &m->arch.lapic[vcpu];
	uint32_t lvt = l->lvt[1];
	if (l->deadline && counter_now() < l->deadline) {
		INV0(SYS_IRQ_ACK, x86_timer_line(vcpu));
		return;
	}
	INV1(SYS_IRQ_SET_TIMER, x86_timer_line(vcpu), SOFT_TIMER_OFF); /* a one-shot: low again */
	INV0(SYS_IRQ_ACK, x86_timer_line(vcpu));
	if (!l->deadline)
		return; /* disarmed meanwhile, or a guest before a reset armed it */
	l->deadline = 0;
	if ((lvt & (3u << 17)) == LVT_TSC_DEADLINE && !(lvt & LVT_MASKED) && m->running[vcpu])
		INV1(SYS_VCPU_INJECT, m->vm.v[vcpu].vcpu, lvt & 0xff);
}
