/* The guest's GICv3 distributor and redistributors.  The CPU interface is
 * the hardware's virtual one (the kernel loads its list registers); this
 * models the memory-mapped registers Linux programs: enables go to the
 * kernel (SYS_VCPU_SET_VIRQ), so an interrupt raised while disabled stays
 * pending there until the guest enables it; groups, priorities,
 * configuration and routing are kept as written.  Everything else reads as
 * zero and ignores writes, as reserved GIC registers do. */
#include "servers/vmm/vmm.h"

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IIDR 0x0008
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_ISPENDR 0x0200
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_IROUTER 0x6000
#define GIC_PIDR2 0xffe8
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_SGI 0x10000
#define CTLR_DS (1u << 6)          /* one security state */
#define CTLR_ARE (1u << 4)
#define WAKER_SLEEP (1u << 1)
#define WAKER_ASLEEP (1u << 2)
#define PIDR2_GICV3 0x30
#define IIDR_ARM 0x43b

static void set_virq(struct vmm *m, unsigned vcpu, unsigned intid, bool on)
{
	if (vcpu < m->vm.nvcpus)
		INV2(SYS_VCPU_SET_VIRQ, m->vm.v[vcpu].vcpu, intid, on);
}

static unsigned spi_target(const struct vmm *m, unsigned intid)
{
	uint64_t r = m->arch.gic.irouter[intid];
	unsigned aff0 = r & 0xff;
	return (r >> 31 & 1) || aff0 >= m->nvcpus ? 0 : aff0; /* IRM: any; we pick 0 */
}

static bool bit(const uint32_t *w, unsigned i) { return w[i / 32] >> (i % 32) & 1; }

/* Enable or disable SPIs: bits of `val` in word `word` of ISENABLER/ICENABLER. */
static void spi_enables(struct vmm *m, unsigned word, uint32_t val, bool on)
{
	for (unsigned b = 0; b < 32; b++) {
		unsigned intid = word * 32 + b;
		if (!(val >> b & 1) || intid < 32 || intid >= VGIC_IRQS)
			continue;
		if (on)
			m->arch.gic.enable[word] |= 1u << b;
		else
			m->arch.gic.enable[word] &= ~(1u << b);
		set_virq(m, spi_target(m, intid), intid, on);
	}
}

void vgic_raise_spi(struct vmm *m, unsigned intid)
{
	unsigned t = spi_target(m, intid);
	if (t < m->vm.nvcpus)
		INV1(SYS_VCPU_INJECT, m->vm.v[t].vcpu, intid);
}

/* Bytes of an array of 8-bit fields (priorities) by any access size. */
static void bytes_access(uint8_t *a, unsigned n, uint64_t off, uint64_t acc, uint64_t *val)
{
	unsigned size = 1u << (acc & VMACC_SIZE_MASK);
	if (!(acc & VMACC_WRITE))
		*val = 0;
	for (unsigned i = 0; i < size && off + i < n; i++) {
		if (acc & VMACC_WRITE)
			a[off + i] = (uint8_t)(*val >> (8 * i));
		else
			*val |= (uint64_t)a[off + i] << (8 * i);
	}
}

static void reg32(uint32_t *r, uint64_t acc, uint64_t *val)
{
	if (acc & VMACC_WRITE)
		*r = (uint32_t)*val;
	else
		*val = *r;
}

static void distributor(struct vmm *m, uint64_t off, uint64_t acc, uint64_t *val)
{
	struct vgic *g = &m->arch.gic;
	bool w = acc & VMACC_WRITE;
	unsigned word = (off & 0x7f) / 4;
	uint32_t dummy = 0;
	if (!w)
		*val = 0;
	if (off == GICD_CTLR) {
		reg32(&g->ctlr, acc, val);
		if (!w)
			*val |= CTLR_DS | CTLR_ARE;
	} else if (off == GICD_TYPER && !w) {
		*val = (VGIC_IRQS / 32 - 1) | 9u << 19; /* lines; 10 ID bits */
	} else if (off == GICD_IIDR && !w) {
		*val = IIDR_ARM;
	} else if (off == GIC_PIDR2 && !w) {
		*val = PIDR2_GICV3;
	} else if (off >= GICD_IGROUPR && off < GICD_IGROUPR + VGIC_IRQS / 8 && word) {
		reg32(&g->group[word], acc, val);
	} else if (off >= GICD_ISENABLER && off < GICD_ISENABLER + VGIC_IRQS / 8 && word) {
		if (w)
			spi_enables(m, word, (uint32_t)*val, true);
		else
			*val = g->enable[word];
	} else if (off >= GICD_ICENABLER && off < GICD_ICENABLER + VGIC_IRQS / 8 && word) {
		if (w)
			spi_enables(m, word, (uint32_t)*val, false);
		else
			*val = g->enable[word];
	} else if (off >= GICD_ISPENDR && off < GICD_ISPENDR + VGIC_IRQS / 8 && word && w) {
		for (unsigned b = 0; b < 32; b++)
			if ((*val >> b) & 1)
				vgic_raise_spi(m, word * 32 + b);
	} else if (off >= GICD_IPRIORITYR + 32 && off < GICD_IPRIORITYR + VGIC_IRQS) {
		bytes_access(g->prio, VGIC_IRQS, off - GICD_IPRIORITYR, acc, val);
	} else if (off >= GICD_ICFGR + 8 && off < GICD_ICFGR + VGIC_IRQS / 4) {
		reg32(&g->cfg[(off - GICD_ICFGR) / 4], acc, val);
	} else if (off >= GICD_IROUTER + 32 * 8 && off < GICD_IROUTER + VGIC_IRQS * 8) {
		unsigned intid = (unsigned)(off - GICD_IROUTER) / 8;
		if (!w) {
			*val = g->irouter[intid];
		} else if (bit(g->enable, intid)) { /* moves an enabled SPI */
			set_virq(m, spi_target(m, intid), intid, false);
			g->irouter[intid] = *val;
			set_virq(m, spi_target(m, intid), intid, true);
		} else {
			g->irouter[intid] = *val;
		}
		if (w)
			vmm_irq_routed(m, intid, spi_target(m, intid), intid);
	} else {
		reg32(&dummy, acc, val); /* reserved: RAZ/WI */
	}
}

/* SGIs and PPIs of one VCPU: its redistributor's SGI frame. */
static void sgi_frame(struct vmm *m, unsigned i, uint64_t off, uint64_t acc, uint64_t *val)
{
	struct vgic_redist *r = &m->arch.gic.r[i];
	bool w = acc & VMACC_WRITE;
	uint32_t dummy = 0;
	if (!w)
		*val = 0;
	if (off == GICD_IGROUPR) {
		reg32(&r->group0, acc, val);
	} else if (off == GICD_ISENABLER || off == GICD_ICENABLER) {
		if (!w) {
			*val = r->enable0;
			return;
		}
		bool on = off == GICD_ISENABLER;
		for (unsigned b = 0; b < 32; b++)
			if ((*val >> b) & 1) {
				r->enable0 = on ? r->enable0 | 1u << b : r->enable0 & ~(1u << b);
				set_virq(m, i, b, on);
			}
	} else if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 32) {
		bytes_access(r->prio, 32, off - GICD_IPRIORITYR, acc, val);
	} else if (off == GICD_ICFGR || off == GICD_ICFGR + 4) {
		reg32(&r->cfg[(off - GICD_ICFGR) / 4], acc, val);
	} else {
		reg32(&dummy, acc, val);
	}
}

static void redistributor(struct vmm *m, unsigned i, uint64_t off, uint64_t acc, uint64_t *val)
{
	struct vgic_redist *r = &m->arch.gic.r[i];
	bool w = acc & VMACC_WRITE;
	if (off >= GICR_SGI) {
		sgi_frame(m, i, off - GICR_SGI, acc, val);
		return;
	}
	if (!w)
		*val = 0;
	if (off == GICR_TYPER && !w) /* affinity = VCPU index, processor number, Last */
		*val = (uint64_t)i << 32 | (uint64_t)i << 8 | (i + 1 == m->nvcpus ? 1u << 4 : 0);
	else if (off == GICR_TYPER + 4 && !w)
		*val = i;
	else if (off == GICR_WAKER && w)
		r->waker = (uint32_t)*val & WAKER_SLEEP;
	else if (off == GICR_WAKER)
		*val = r->waker | (r->waker & WAKER_SLEEP ? WAKER_ASLEEP : 0);
	else if (off == GICD_IIDR && !w)
		*val = IIDR_ARM;
	else if (off == GIC_PIDR2 && !w)
		*val = PIDR2_GICV3;
}

bool vgic_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	(void)vcpu;
	if (ipa >= GUEST_GICD && ipa < GUEST_GICD + GUEST_GICD_SIZE) {
		distributor(m, ipa - GUEST_GICD, acc, val);
		return true;
	}
	uint64_t off = ipa - GUEST_GICR;
	if (ipa >= GUEST_GICR && off < m->nvcpus * GUEST_GICR_STRIDE) {
		redistributor(m, (unsigned)(off / GUEST_GICR_STRIDE), off % GUEST_GICR_STRIDE, acc,
			      val);
		return true;
	}
	return false;
}

void vgic_vcpu_init(struct vmm *m, unsigned i)
{
	m->arch.gic.r[i].waker = WAKER_SLEEP;
	for (unsigned intid = 0; intid < VGIC_IRQS; intid++) {
		bool on = intid < 32 ? false : bit(m->arch.gic.enable, intid) && spi_target(m, intid) == i;
		set_virq(m, i, intid, on);
	}
}

/* ICC_SGI1R_EL1: INTID [27:24], target list [15:0] of aff0 values (plus
 * 16 * RS [47:44]), IRM [40]: every VCPU but the sender.  Our VCPUs'
 * affinity is just their index in aff0. */
void vgic_sgi(struct vmm *m, unsigned from, uint64_t v)
{
	unsigned intid = (v >> 24) & 15, base = ((v >> 44) & 15) * 16;
	bool all = v >> 40 & 1;
	if (!all && (v >> 16 & 0xff || v >> 32 & 0xff || v >> 48 & 0xff))
		return; /* aff1-3 name no VCPU of ours */
	for (unsigned i = 0; i < m->vm.nvcpus; i++)
		if (all ? i != from : i >= base && i < base + 16 && (v >> (i - base) & 1))
			INV1(SYS_VCPU_INJECT, m->vm.v[i].vcpu, intid);
}
