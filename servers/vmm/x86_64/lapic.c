/* Each VCPU's local APIC at GUEST_LAPIC (the MADT says so), in xAPIC mode
 * until the guest sets IA32_APIC_BASE's EXTD, then x2APIC (its registers
 * as MSRs, below; Linux stays in xAPIC mode, since without interrupt
 * remapping it takes x2APIC only from hypervisors it knows).  The kernel
 * keeps the pending vectors and injects one whenever the guest can take
 * it (docs/ABI.md), so there is no IRR, ISR or priority here: an EOI is
 * taken and forgotten.  What the guest needs of its APIC beyond that is
 * its identity, IPIs (fixed ones; INIT and SIPI start a VCPU) and its
 * timer, which Linux runs in TSC-deadline mode when CPUID offers it: a
 * deadline arms the VCPU's soft timer line (IRQ_SET_TIMER), whose expiry
 * arrives in the exit loop as a notification and is injected as the
 * timer's vector. */
#include "servers/vmm/vmm.h"

enum {
	APIC_ID = 0x20, APIC_VER = 0x30, APIC_TPR = 0x80, APIC_APR = 0x90, APIC_PPR = 0xa0,
	APIC_EOI = 0xb0, APIC_LDR = 0xd0, APIC_DFR = 0xe0, APIC_SVR = 0xf0, APIC_ESR = 0x280,
	APIC_LVT_CMCI = 0x2f0, APIC_ICR = 0x300, APIC_ICR_HI = 0x310, APIC_LVT_TIMER = 0x320,
	APIC_LVT_ERROR = 0x370, APIC_TMICT = 0x380, APIC_TMCCT = 0x390, APIC_TDCR = 0x3e0,
	APIC_SELF_IPI = 0x3f0,
};
#define LVT_MASKED (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)
#define ICR_LOGICAL (1u << 11)
#define ICR_BUSY (1u << 12)
#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC 0x800
#define BASE_BSP (1ull << 8)
#define BASE_EXTD (1ull << 10)
#define BASE_EN (1ull << 11)
#define BASE_ADDR (((1ull << 52) - 1) & ~0xfffull)

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
	case APIC_ICR:     return l->icr_lo & ~ICR_BUSY; /* sent at once */
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

/* Whether a destination names VCPU `to`: physical, its APIC ID (all ones:
 * every VCPU); logical, a bit of its logical ID: xAPIC's flat model (the
 * LDR's top byte), x2APIC's clusters of 16 (cluster in 31:16, a bit of
 * 15:0, the ID's own). */
static bool names(const struct vmm *m, unsigned to, uint32_t dest, bool logical, bool x2)
{
	if (dest == (x2 ? ~0u : 0xffu))
		return true;
	if (!logical)
		return to == dest;
	if (x2)
		return dest >> 16 == to >> 4 && (dest >> (to & 15) & 1);
	return (m->arch.lapic[to].ldr >> 24 & dest) != 0;
}

static void icr_send(struct vmm *m, unsigned from, uint32_t lo, uint32_t dest, bool x2)
{
	unsigned mode = lo >> 8 & 7, shorthand = lo >> 18 & 3;
	m->arch.lapic[from].icr_lo = lo;
	for (unsigned to = 0; to < m->nvcpus; to++) {
		bool hit = shorthand == 0   ? names(m, to, dest, lo & ICR_LOGICAL, x2)
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
	case APIC_ICR:    icr_send(m, id, v, l->icr_hi >> 24, false); break;
	case APIC_TMICT:  l->tmict = v; break; /* the one-shot and periodic modes do not run */
	case APIC_TDCR:   l->tdcr = v & 0xb; break;
	default:          break;               /* EOI and read-only registers */
	}
}

/* In x2APIC mode the MMIO page is gone (SDM 11.12.1: accesses behave as
 * with the APIC globally disabled): reads see no device (all ones), writes
 * are dropped, so a guest cannot send an IPI or move its timer through a
 * page its own mode switch took away. */
bool lapic_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	if (ipa < GUEST_LAPIC || ipa >= GUEST_LAPIC + 0x1000 || vcpu >= m->nvcpus)
		return false;
	unsigned off = (unsigned)(ipa - GUEST_LAPIC) & ~0xfu;
	if (m->arch.lapic[vcpu].x2apic) {
		if (!(acc & VMACC_WRITE))
			*val = ~0ull;
	} else if (acc & VMACC_WRITE)
		lapic_write(m, vcpu, off, (uint32_t)*val);
	else
		*val = lapic_read(&m->arch.lapic[vcpu], vcpu, off);
	return true;
}

/* --- x2APIC (Intel SDM vol. 3, 11.12) -------------------------------------
 * The same registers as MSRs 0x800 + offset / 16: a 32-bit ID, a logical
 * ID made from it, the ICR one 64-bit register with the destination in its
 * top half, and a self-IPI register.  What the hardware refuses (#GP) is
 * refused here: registers that do not exist, reads of the write-only ones
 * and writes of the read-only ones, reserved bits set, a non-zero EOI or
 * ESR write, and the APIC_BASE transitions the architecture forbids
 * (EXTD without EN, x2APIC straight back to xAPIC).  The registers by
 * MSR - 0x800 (table 11-6): */
#define X2_BIT(n) (1ull << (n))
#define X2_RANGE(a, b) ((~0ull >> (63 - (b) + (a))) << (a))
static const uint64_t x2_exists = X2_BIT(0x02) | X2_BIT(0x03) | X2_BIT(0x08) | X2_BIT(0x0a) |
	X2_BIT(0x0b) | X2_BIT(0x0d) | X2_BIT(0x0f) | X2_RANGE(0x10, 0x28) | X2_RANGE(0x2f, 0x30) |
	X2_RANGE(0x32, 0x39) | X2_RANGE(0x3e, 0x3f);
static const uint64_t x2_read_only = X2_RANGE(0x02, 0x03) | X2_BIT(0x0a) | X2_BIT(0x0d) |
	X2_RANGE(0x10, 0x27) | X2_BIT(0x39);
static const uint64_t x2_write_only = X2_BIT(0x0b) | X2_BIT(0x3f);

static bool x2_has(uint64_t set, unsigned i) { return i < 64 && (set >> i & 1); }

static bool x2_read(const struct vlapic *l, unsigned id, unsigned i, uint64_t *val)
{
	if (!x2_has(x2_exists, i) || x2_has(x2_write_only, i))
		return false;
	unsigned off = i << 4;
	*val = off == APIC_ID    ? id
	     : off == APIC_LDR   ? (id >> 4) << 16 | 1u << (id & 15)
	     : off == APIC_ICR   ? (uint64_t)l->icr_dest << 32 | (l->icr_lo & ~ICR_BUSY)
	     : lapic_read(l, id, off);
	return true;
}

static bool x2_write(struct vmm *m, unsigned id, unsigned i, uint64_t v)
{
	struct vlapic *l = &m->arch.lapic[id];
	unsigned off = i << 4;
	if (!x2_has(x2_exists, i) || x2_has(x2_read_only, i) || (off != APIC_ICR && v >> 32) ||
	    ((off == APIC_EOI || off == APIC_ESR) && v))
		return false;
	if (off == APIC_ICR) {
		l->icr_dest = (uint32_t)(v >> 32);
		icr_send(m, id, (uint32_t)v, l->icr_dest, true);
	} else if (off == APIC_SELF_IPI) {
		if (v >> 8)
			return false;
		icr_send(m, id, (uint32_t)v | 1u << 18, 0, true); /* fixed, to itself */
	} else {
		lapic_write(m, id, off, (uint32_t)v);
	}
	return true;
}

static bool base_write(struct vlapic *l, uint64_t v)
{
	bool en = v & BASE_EN, extd = v & BASE_EXTD;
	if ((v & ~(BASE_ADDR | BASE_EN | BASE_EXTD | BASE_BSP)) || (extd && !en) ||
	    (l->x2apic && en && !extd))
		return false;
	l->off = !en; /* a disabled APIC is not modelled: it still delivers */
	l->x2apic = extd;
	return true; /* moving it: not modelled, kept at GUEST_LAPIC */
}

bool lapic_msr(struct vmm *m, unsigned vcpu, uint64_t n, bool write, uint64_t *val)
{
	struct vlapic *l = &m->arch.lapic[vcpu];
	if (n == MSR_APIC_BASE && write)
		return base_write(l, *val);
	if (n == MSR_APIC_BASE) {
		*val = GUEST_LAPIC | (vcpu ? 0 : BASE_BSP) | (l->off ? 0 : BASE_EN) |
		       (l->x2apic ? BASE_EXTD : 0);
		return true;
	}
	if (n < MSR_X2APIC || n >= MSR_X2APIC + 0x100 || !l->x2apic)
		return false;
	unsigned i = (unsigned)(n - MSR_X2APIC);
	return write ? x2_write(m, vcpu, i, *val) : x2_read(l, vcpu, i, val);
}

/* The EOI register, whose write this model takes and forgets, is a
 * doorbell (AS_BIND_DOORBELL) on a notification nobody waits on: the
 * kernel skips the store with no exit to this VMM, which saves a round
 * trip on every interrupt the guest takes (a fifth of a Linux boot's
 * exits).  A space has four doorbells and the virtio slots three; the
 * binding outlives a guest reset (E_BUSY then: already there). */
void lapic_eoi_sink(struct vmm *m)
{
	static cptr_t sink;
	if (!sink)
		sink = new_obj(OBJ_NOTIFICATION, 0);
	err_t e = sink ? INV3(SYS_AS_BIND_DOORBELL, m->vm.as, GUEST_LAPIC + APIC_EOI, sink, 1)
		       : E_NOMEM;
	if (e && e != E_BUSY)
		printf("vmm: EOIs go through this VMM (%u)\n", e);
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
