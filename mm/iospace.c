/* I/O address spaces and DMA streams.  An I/O space is an address space
 * (mm/aspace.c) of the IOMMU's page-table format, tagged with an ASID of
 * its own: frames are mapped into it with AS_MAP like any space, with the
 * rights of their capabilities, and unmapping (or deleting or revoking the
 * capability) flushes the IOMMU's TLB and waits before returning.  A Stream
 * capability (made from the IRQ control capability: the authority over
 * devices) names one device's DMA stream; binding it to an I/O space lets
 * that device reach exactly what is mapped there.  Streams are static
 * objects, one per stream ID, like IRQ handlers.  A stream does not hold
 * its space: a space that ends detaches its streams first, so a device
 * never walks freed tables, and its DMA aborts from then on. */
#include "hyp/arch.h"
#include "hyp/printk.h"
#include "hyp/syscall.h"
#include "mm/aspace.h"

#define STREAMS 256
#define ASIDS 256

struct stream {
	struct obj o;
	unsigned sid;
	bool taken;
	struct aspace *as; /* bound I/O space, or NULL (DMA aborted) */
};

static struct stream streams[STREAMS];
static uint64_t asid_used[ASIDS / 64] = { 1 }; /* ASID 0: none */

err_t iospace_init(struct aspace *as)
{
	for (unsigned a = 1; a < ASIDS; a++)
		if (!(asid_used[a / 64] & 1ull << (a % 64))) {
			asid_used[a / 64] |= 1ull << (a % 64);
			as->asid = (uint16_t)a;
			return E_OK;
		}
	return E_NOMEM;
}

static void detach(struct stream *s)
{
	if (s->as)
		arch_iommu_detach(s->sid);
	s->as = NULL;
}

void iospace_fini(struct aspace *as)
{
	for (unsigned i = 0; i < STREAMS; i++)
		if (streams[i].taken && streams[i].as == as)
			detach(&streams[i]);
	if (!as->asid)
		return;
	arch_iommu_flush(as->asid); /* none of its entries survives a reuse */
	asid_used[as->asid / 64] &= ~(1ull << (as->asid % 64));
	as->asid = 0;
}

/* SYS_DEBUG_CHECK: every bound stream names a live I/O space, and every
 * I/O space holds an ASID of its own. */
bool iospace_check(void)
{
	uint64_t seen[ASIDS / 64] = { 0 };
	for (struct obj *o = obj_all; o; o = o->all_next) {
		struct aspace *as = (struct aspace *)o;
		if (o->type != OBJ_ASPACE || !as->io)
			continue;
		if (!as->asid || !(asid_used[as->asid / 64] >> (as->asid % 64) & 1) ||
		    seen[as->asid / 64] >> (as->asid % 64) & 1) {
			printk("cairn: check failed: I/O space %p: ASID %u\n", (void *)as, as->asid);
			return false;
		}
		seen[as->asid / 64] |= 1ull << (as->asid % 64);
	}
	for (unsigned i = 0; i < STREAMS; i++) {
		struct obj *o = obj_all;
		while (streams[i].as && o && o != &streams[i].as->o)
			o = o->all_next;
		if (streams[i].as && (!o || !streams[i].taken || !streams[i].as->io)) {
			printk("cairn: check failed: stream %u bound to a dead space\n", i);
			return false;
		}
	}
	return true;
}

bool stream_destroy(struct obj *o)
{
	struct stream *s = (struct stream *)o;
	detach(s);
	s->taken = false;
	return false; /* static: nothing to free */
}

err_t sys_stream_get(struct thread *t)
{
	struct cap *ctl, *dst;
	uint64_t sid = arg(t, 0);
	err_t e;
	if ((e = lookup_cap(t, arg(t, REG_CAP), OBJ_IRQ_CONTROL, R_WRITE, &ctl)) ||
	    (e = lookup_slot(t, arg(t, 1), arg(t, 2), &dst)))
		return e;
	if (sid >= STREAMS || sid >= arch_iommu_streams())
		return E_RANGE;
	if (streams[sid].taken)
		return E_BUSY;
	if (!cap_empty(dst))
		return E_SLOT;
	struct stream *s = &streams[sid];
	*s = (struct stream){ .o = { .type = OBJ_STREAM, .order = OBJ_SLAB },
			      .sid = (unsigned)sid, .taken = true };
	struct cap v = { .obj = &s->o, .type = OBJ_STREAM, .rights = R_ALL };
	obj_get(&s->o);
	cap_install(dst, &v, ctl);
	return E_OK;
}

err_t sys_stream_bind(struct thread *t)
{
	struct cap *sc, *ac = NULL;
	err_t e;
	if ((e = lookup_cap(t, arg(t, REG_CAP), OBJ_STREAM, R_WRITE, &sc)) ||
	    (arg(t, 0) && (e = lookup_cap(t, arg(t, 0), OBJ_ASPACE, R_WRITE, &ac))))
		return e;
	struct stream *s = (struct stream *)sc->obj;
	struct aspace *as = ac ? (struct aspace *)ac->obj : NULL;
	if (as && !as->io)
		return E_INVAL;
	if (as && s->as)
		return E_BUSY; /* unbind first */
	if (!as && !s->as)
		return E_NOENT;
	if (!as) {
		detach(s);
		return E_OK;
	}
	s->as = as;
	arch_iommu_attach(s->sid, as->pt.root_pa, as->asid);
	return E_OK;
}

err_t sys_stream_info(struct thread *t)
{
	struct cap *sc;
	uint64_t last;
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_STREAM, 0, &sc);
	if (e)
		return e;
	struct stream *s = (struct stream *)sc->obj;
	set_ret(t, 1, arch_iommu_faults(s->sid, &last));
	set_ret(t, 0, s->as != NULL);
	set_ret(t, 2, last);
	return E_OK;
}
