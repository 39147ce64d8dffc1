/* Native address spaces: page tables paid by the space's Memory, frames
 * mapped by capability, VMIDs with generation-based recycling. */
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/kmem.h"
#include "hyp/panic.h"
#include "mm/aspace.h"
#include "mm/memory.h"

/* --- Page tables, paid by the address space's payer ------------------- */

/* The root is 2^root_extra_bits pages, naturally aligned (a concatenated
 * G-stage root, RISC-V's "x4": 16 KiB); pt_init asks for it first, before
 * pt.root is set. */
static unsigned table_order(struct aspace *as, paddr_t pa)
{
	bool root = !as->pt.root || pa.pa == as->pt.root_pa.pa;
	return root ? as->pt.fmt->root_extra_bits : 0;
}

static err_t alloc_table(void *ctx, paddr_t *pa)
{
	struct aspace *as = ctx;
	unsigned order = table_order(as, (paddr_t){ ~0ull });
	if (memory_charge(as->o.payer, PAGE_SIZE << order))
		return E_NOMEM;
	void *p = kmem_alloc_node(as->o.payer->node, order);
	if (!p) {
		memory_refund(as->o.payer, PAGE_SIZE << order);
		return E_NOMEM;
	}
	*pa = kmem_pa(p);
	as->tables += 1u << order;
	return E_OK;
}

static void free_table(void *ctx, paddr_t pa)
{
	struct aspace *as = ctx;
	unsigned order = table_order(as, pa);
	kmem_free_pages(kmem_va(pa), order);
	memory_refund(as->o.payer, PAGE_SIZE << order);
	as->tables -= 1u << order;
}

/* Where guests and native threads share a format, any space will do. */
__attribute__((weak)) const struct pt_format *arch_guest_pt_format(void)
{
	return arch_user_pt_format();
}

bool aspace_guest_ok(const struct aspace *as)
{
	return as->pt.fmt == arch_guest_pt_format();
}

err_t aspace_create(struct memory *payer, unsigned kind, struct aspace **out)
{
	bool io = kind == AS_IO;
	const struct pt_format *fmt = io ? arch_io_pt_format()
				      : kind == AS_GUEST ? arch_guest_pt_format() : arch_user_pt_format();
	if (!fmt)
		return E_INVAL; /* this port has no native threads (or IOMMU) yet */
	struct obj *o;
	err_t e = obj_alloc(payer, OBJ_ASPACE, sizeof(struct aspace), &o);
	if (e)
		return e;
	struct aspace *as = (struct aspace *)o;
	as->io = io;
	if ((io && (e = iospace_init(as))) ||
	    (e = pt_init(&as->pt, fmt, alloc_table, as, arch_direct_map_offset()))) {
		obj_get(o);
		obj_put(o); /* queued: freed by the caller's obj_reap */
		return e;
	}
	*out = as;
	return E_OK;
}

bool aspace_destroy(struct obj *o)
{
	struct aspace *as = (struct aspace *)o;
	for (unsigned i = 0; i < AS_DOORBELLS; i++)
		if (as->db[i].ntfn)
			obj_put(as->db[i].ntfn);
	for (unsigned i = 0; i < AS_STATUS_REGS; i++)
		if (as->st[i].frame)
			obj_put(&as->st[i].frame->o);
	if (as->io) /* no device walks its tables from here on */
		iospace_fini(as);
	if (!as->pt.root)
		return true;
	pt_free_tables(&as->pt, free_table);
	free_table(as, as->pt.root_pa);
	for (unsigned c = 0; c < MAX_CPUS; c++) /* a CPU last ran it, now idle */
		if (cpus[c].active_as == as)
			cpus[c].active_as = NULL;
	return true;
}

/* --- Frames ------------------------------------------------------------ */

err_t frame_create(struct memory *payer, unsigned bits, struct frame **out)
{
	unsigned order = bits - PAGE_SHIFT;
	struct obj *o;
	err_t e = memory_charge(payer, PAGE_SIZE << order);
	if (e)
		return e;
	void *mem = kmem_alloc_node(payer->node, order);
	if (!mem || (e = obj_alloc(payer, OBJ_FRAME, sizeof(struct frame), &o))) {
		if (mem)
			kmem_free_pages(mem, order);
		memory_refund(payer, PAGE_SIZE << order);
		return mem ? e : E_NOMEM;
	}
	struct frame *f = (struct frame *)o;
	f->pa = kmem_pa(mem);
	f->bits = bits;
	*out = f;
	return E_OK;
}

err_t frame_create_at(struct memory *payer, paddr_t pa, unsigned bits, bool device,
		      struct frame **out)
{
	struct obj *o;
	err_t e = obj_alloc(payer, OBJ_FRAME, sizeof(struct frame), &o);
	if (e)
		return e;
	struct frame *f = (struct frame *)o;
	f->pa = pa;
	f->bits = (uint8_t)bits;
	f->borrowed = true;
	f->device = device;
	*out = f;
	return E_OK;
}

void *frame_kva(struct frame *f) { return kmem_va(f->pa); }

bool frame_destroy(struct obj *o)
{
	struct frame *f = (struct frame *)o;
	unsigned order = f->bits - PAGE_SHIFT;
	if (f->borrowed)
		return true;
	kmem_free_pages(frame_kva(f), order);
	memory_refund(o->payer, PAGE_SIZE << order);
	return true;
}

/* --- Mappings ------------------------------------------------------------ */

static unsigned pt_attrs(const struct frame *f, unsigned rights)
{
	if (f->device) /* never executed: speculative fetches could touch registers */
		return PT_USER | PT_DEVICE | (rights & R_WRITE ? PT_W : 0);
	return PT_USER | (rights & R_WRITE ? PT_W : 0) | (rights & R_EXEC ? PT_X : 0);
}

err_t aspace_map_check(const struct cap *frame, uint64_t va, unsigned rights)
{
	uint64_t size = 1ull << frame->size_bits;
	if (frame->map_as)
		return E_BUSY;
	if (rights & ~(unsigned)(R_READ | R_WRITE | R_EXEC) || !(rights & R_READ))
		return E_INVAL;
	if (rights & ~(unsigned)frame->rights)
		return E_RIGHTS;
	if (!IS_ALIGNED(va, size))
		return E_ALIGN;
	if (va >= (1ull << USER_VA_BITS) - size + 1)
		return E_RANGE;
	return E_OK;
}

err_t aspace_map(struct aspace *as, struct cap *c, uint64_t va, unsigned rights)
{
	struct frame *f = (struct frame *)c->obj;
	err_t e = pt_map(&as->pt, va, f->pa, 1ull << f->bits, pt_attrs(f, rights));
	if (e)
		return e;
	c->map_as = as;
	c->map_va = va;
	obj_get(&as->o);
	return E_OK;
}

static void flush(struct aspace *as, uint64_t va)
{
	if (as->io) /* the SMMU's TLB, waited for: the revoke returns after it */
		arch_iommu_flush(as->asid);
	else if (as->vmid_gen)
		arch_tlb_flush_page(as->vmid, va);
}

/* Tables the unmap leaves empty go back to the payer, so a 2 MiB block can
 * later take the place of a table that held one page.  They are freed after
 * the flush: the TLBI by IPA invalidates every level's cached entries for
 * the address (not only the leaf), so no walk reaches them afterwards. */
void aspace_unmap_frame(struct cap *c)
{
	struct aspace *as = c->map_as;
	paddr_t empty[PT_MAX_LEVELS];
	unsigned n = pt_unmap(&as->pt, c->map_va, empty);
	flush(as, c->map_va);
	while (n)
		free_table(as, empty[--n]);
	c->map_as = NULL;
	c->map_va = 0;
	obj_put(&as->o);
}

void aspace_protect(struct cap *c, unsigned rights)
{
	struct aspace *as = c->map_as;
	unsigned level;
	pte_t *e = pt_leaf(&as->pt, c->map_va, &level);
	assert(e);
	pt_set_attrs(&as->pt, e, level, pt_attrs((struct frame *)c->obj, rights));
	flush(as, c->map_va);
}

/* A space with no VMID of this generation has nothing cached anywhere
 * (the rollover flushed every TLB): its guests have nothing to forget. */
err_t aspace_guest_fence(struct aspace *as, unsigned what)
{
	if (as->vmid_gen != vmid_gen)
		what = 0;
	return arch_guest_fence(as->vmid, as->pt.root_pa, what);
}

/* --- VMIDs --------------------------------------------------------------
 * Generation-based, as Linux allocates ASIDs: when the VMIDs run out, one
 * broadcast flush empties every TLB, a new generation starts, and the
 * spaces running on other CPUs keep theirs.  Under the big kernel lock. */

#define VMID_MAX 65536
uint64_t vmid_gen = 1;
static uint64_t vmid_used[VMID_MAX / 64];
static unsigned vmid_next = 1; /* VMID 0: no address space */

static bool vmid_take(unsigned v)
{
	if (vmid_used[v / 64] & (1ull << (v % 64)))
		return false;
	vmid_used[v / 64] |= 1ull << (v % 64);
	return true;
}

/* VMIDs are not given back when a space ends (its TLB entries may live
 * on); they come back all at once at the next rollover. */
static void vmid_rollover(void)
{
	uint64_t old = vmid_gen++;
	for (unsigned i = 0; i < ARRAY_SIZE(vmid_used); i++)
		vmid_used[i] = 0;
	vmid_take(0);
	arch_tlb_flush_all();
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		struct aspace *as = cpus[c].active_as;
		if (as && as->vmid_gen == old) {
			vmid_take(as->vmid);
			as->vmid_gen = vmid_gen;
		}
	}
	/* every other space's VMID is stale: its hw_root says so (the fast
	 * paths test that rather than the generation) */
	for (struct obj *o = obj_all; o; o = o->all_next) {
		struct aspace *as = (struct aspace *)o;
		if (o->type == OBJ_ASPACE && as->vmid_gen != vmid_gen)
			as->hw_root = 0;
	}
}

void aspace_new_vmid(struct aspace *as)
{
	unsigned n = 1u << arch_vmid_bits();
	for (unsigned tries = 0;; tries++) {
		if (tries == n) {
			vmid_rollover();
			tries = 0;
			if (as->vmid_gen == vmid_gen)
				return;
		}
		unsigned v = vmid_next;
		vmid_next = vmid_next + 1 >= n ? 1 : vmid_next + 1;
		if (vmid_take(v)) {
			as->vmid = v;
			as->vmid_gen = vmid_gen;
			as->hw_root = arch_space_root(as->pt.root_pa, v);
			return;
		}
	}
}
