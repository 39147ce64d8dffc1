/* The guest's PLIC: priorities, per-context enables and thresholds kept
 * as written; what is deliverable goes to the kernel (SYS_VCPU_SET_VIRQ),
 * which keeps a raised source pending on its VCPU until the claim, made
 * here by reading VREG_RV_CLAIM, takes it.  A source is deliverable to the
 * lowest hart whose context enables it above that context's threshold
 * (VCPU 0 when none does, where it waits); Linux routes each to one hart.
 * Completion is a no-op: sources are edge-like, as the virtio devices'
 * interrupts and the kernel's pending bits are.  The pending array reads
 * as zero; everything else reserved reads as zero and ignores writes. */
#include "servers/vmm/vmm.h"

#define PLIC_PENDING 0x1000
#define PLIC_ENABLE 0x2000
#define PLIC_ENABLE_STRIDE 0x80
#define PLIC_CONTEXT 0x200000
#define PLIC_CONTEXT_STRIDE 0x1000

static bool bit(const uint32_t *w, unsigned i) { return w[i / 32] >> (i % 32) & 1; }

static bool deliverable(const struct vplic *p, unsigned ctx, unsigned src)
{
	return bit(p->enable[ctx], src) && p->prio[src] > p->threshold[ctx];
}

static unsigned target(const struct vmm *m, unsigned src)
{
	for (unsigned i = 0; i < m->vm.nvcpus; i++)
		if (deliverable(&m->arch.plic, i, src))
			return i;
	return 0;
}

/* What the kernel should deliver, told where it changed. */
static void sync_source(struct vmm *m, unsigned src)
{
	struct vplic *p = &m->arch.plic;
	unsigned t = target(m, src);
	for (unsigned i = 0; i < m->vm.nvcpus; i++) {
		bool on = i == t && deliverable(p, i, src);
		if (on == bit(p->told[i], src))
			continue;
		p->told[i][src / 32] ^= 1u << (src % 32);
		INV2(SYS_VCPU_SET_VIRQ, m->vm.v[i].vcpu, src, on);
		if (on)
			vmm_irq_routed(m, src, i, src);
	}
}

static void sync_all(struct vmm *m)
{
	for (unsigned src = PLIC_FIRST_VIRQ; src < PLIC_SOURCES; src++)
		sync_source(m, src);
}

void vplic_raise(struct vmm *m, unsigned src)
{
	if (src >= PLIC_FIRST_VIRQ && src < PLIC_SOURCES && m->vm.nvcpus)
		INV1(SYS_VCPU_INJECT, m->vm.v[target(m, src)].vcpu, src);
}

/* The kernel starts a VCPU with every virtual interrupt enabled: here
 * none is until the guest enables it. */
void vplic_vcpu_init(struct vmm *m, unsigned i)
{
	struct vplic *p = &m->arch.plic;
	for (unsigned src = PLIC_FIRST_VIRQ; src < PLIC_SOURCES; src++)
		INV2(SYS_VCPU_SET_VIRQ, m->vm.v[i].vcpu, src, 0);
	for (unsigned w = 0; w < PLIC_SOURCES / 32; w++)
		p->told[i][w] = 0;
	sync_all(m);
}

/* A context's threshold, claim and complete. */
static void context(struct vmm *m, unsigned vcpu, unsigned ctx, uint64_t off, uint64_t acc,
		    uint64_t *val)
{
	struct vplic *p = &m->arch.plic;
	bool w = acc & VMACC_WRITE;
	uint64_t out[5] = { 0 };
	if (off == 0 && w) {
		p->threshold[ctx] = (uint32_t)*val & 7;
		sync_all(m);
	} else if (off == 0) {
		*val = p->threshold[ctx];
	} else if (off == 4 && !w && ctx == vcpu) { /* claim: one's own context only */
		inv(SYS_VCPU_READ_REG, m->vm.v[ctx].vcpu, VREG_RV_CLAIM, 0, 0, 0, 0, 0, out);
		*val = out[0];
	}
}

bool vplic_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	struct vplic *p = &m->arch.plic;
	uint64_t off = ipa - GUEST_PLIC;
	bool w = acc & VMACC_WRITE;
	unsigned n = m->vm.nvcpus;
	if (ipa < GUEST_PLIC || off >= GUEST_PLIC_SIZE)
		return false;
	if (!w)
		*val = 0;
	if (off < 4 * PLIC_SOURCES && off % 4 == 0 && off) {
		unsigned src = (unsigned)off / 4;
		if (!w) {
			*val = p->prio[src];
			return true;
		}
		p->prio[src] = (uint32_t)*val & 7;
		sync_source(m, src);
	} else if (off >= PLIC_ENABLE && off < PLIC_ENABLE + n * PLIC_ENABLE_STRIDE) {
		unsigned ctx = (unsigned)(off - PLIC_ENABLE) / PLIC_ENABLE_STRIDE;
		unsigned word = (unsigned)(off - PLIC_ENABLE) % PLIC_ENABLE_STRIDE / 4;
		if (word >= PLIC_SOURCES / 32 || off % 4)
			return true;
		if (!w) {
			*val = p->enable[ctx][word];
			return true;
		}
		p->enable[ctx][word] = (uint32_t)*val & (word ? ~0u : ~1u); /* no source 0 */
		for (unsigned b = 0; b < 32; b++)
			if (word * 32 + b >= PLIC_FIRST_VIRQ)
				sync_source(m, word * 32 + b);
	} else if (off >= PLIC_CONTEXT && off < PLIC_CONTEXT + n * PLIC_CONTEXT_STRIDE) {
		unsigned ctx = (unsigned)(off - PLIC_CONTEXT) / PLIC_CONTEXT_STRIDE;
		context(m, vcpu, ctx, (off - PLIC_CONTEXT) % PLIC_CONTEXT_STRIDE, acc, val);
	}
	return true;
}
