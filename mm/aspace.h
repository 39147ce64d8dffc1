/* Native address spaces and frames.
 *
 * A Frame capability maps its frame at most once (copy the capability to
 * map it again), and the mapping belongs to the capability: deleting or
 * revoking the capability unmaps it, with TLB maintenance, wherever it is.
 * A mapping holds a reference to its address space, so the space (and its
 * VMID) outlives every capability mapped into it. */
#pragma once
#include "cap/cap.h"
#include "hyp/cpu.h"
#include "mm/pt.h"

struct memory;

/* A guest's write to `ipa` signals `ntfn` with `bits` in the kernel, with
 * no exit (vcpu/doorbell.c).  The notification is referenced while bound. */
#define AS_DOORBELLS 4
struct doorbell {
	uint64_t ipa, bits;
	struct obj *ntfn;  /* NULL: a free entry */
};

/* A guest's interrupt status register, served by the kernel (AS_BIND_STATUS,
 * vcpu/status_reg.c): a 32-bit read at `ipa` returns the word at `off` in
 * the frame, a 32-bit write at ipa + 4 clears the bits it sets there.  The
 * frame is referenced while bound.  Two, packed: struct aspace stays in
 * its 256-byte slab class. */
#define AS_STATUS_REGS 2
struct status_reg {
	uint64_t ipa : 40;    /* below 2^40 (USER_VA_BITS) */
	uint64_t off : 24;    /* within a 2 MiB frame */
	struct frame *frame;  /* NULL: a free entry */
};

struct aspace {
	struct obj o;
	struct pt pt;
	uint64_t tables;   /* page-table pages, charged to its payer */
	uint16_t vmid;
	uint16_t asid;
	bool io;           /* an I/O space: the IOMMU's format, an ASID, no threads */
	uint8_t nstatus;   /* entries of st[] in use: 0 is an exit's one test */
	uint64_t vmid_gen;
	uint64_t hw_root;  /* arch_space_root(its root, vmid) while the VMID is of
			    * this generation, else 0: a fast path's one test and load */
	struct doorbell db[AS_DOORBELLS];
	struct status_reg st[AS_STATUS_REGS];
};
/* Its slab class (mm/slab.c): a bigger space would share struct memory's
 * slab pages, and a VMM's teardown would leave a page behind while another
 * VMM's Memory object lives in it (linux-two-guests' check). */
_Static_assert(sizeof(struct aspace) <= 256, "struct aspace in the 256-byte class");

/* The doorbell bound at ipa, or NULL (steady while the big lock is held,
 * whole or shared: AS_BIND_DOORBELL takes it whole). */
static inline struct doorbell *aspace_doorbell(struct aspace *as, uint64_t ipa)
{
	for (unsigned i = 0; i < AS_DOORBELLS; i++)
		if (as->db[i].ntfn && as->db[i].ipa == ipa)
			return &as->db[i];
	return NULL;
}

/* The status register whose status (ipa) or acknowledge (ipa - 4) address
 * is ipa, or NULL; as steady as aspace_doorbell's answer. */
static inline struct status_reg *aspace_status(struct aspace *as, uint64_t ipa)
{
	if (!as->nstatus) /* apart: GCC tested it in every turn of the loop */
		return NULL;
	for (unsigned i = 0; i < AS_STATUS_REGS; i++)
		if (as->st[i].frame && (as->st[i].ipa == ipa || as->st[i].ipa + 4 == ipa))
			return &as->st[i];
	return NULL;
}

struct frame {
	struct obj o;
	paddr_t pa;
	uint8_t bits;  /* FRAME_BITS_4K or FRAME_BITS_2M */
	bool borrowed; /* memory the allocator never had (the initrd): not freed */
	bool device;   /* device registers: mapped uncached, never executable */
};

/* kind: 0 native, AS_IO or AS_GUEST (cairn/abi.h), checked by the caller. */
err_t aspace_create(struct memory *payer, unsigned kind, struct aspace **out);
/* Whether a VCPU's hardware can walk this space as its guest-physical one. */
bool aspace_guest_ok(const struct aspace *as);
err_t frame_create(struct memory *payer, unsigned bits, struct frame **out);
/* A frame (4 KiB or 2 MiB) over memory outside the allocator, or over
 * device registers; only the object is paid for. */
err_t frame_create_at(struct memory *payer, paddr_t pa, unsigned bits, bool device,
		      struct frame **out);
void *frame_kva(struct frame *f);

/* Decode-side checks done by the caller; these do the work. */
err_t aspace_map(struct aspace *as, struct cap *frame, uint64_t va, unsigned rights);
void aspace_unmap_frame(struct cap *frame);
void aspace_protect(struct cap *frame, unsigned rights);
/* AS_GUEST_FENCE (what: GUEST_FENCE_* bits) on a stage-2 space. */
err_t aspace_guest_fence(struct aspace *as, unsigned what);
/* Check the arguments of a map (everything that can be wrong with them). */
err_t aspace_map_check(const struct cap *frame, uint64_t va, unsigned rights);

/* The VMID to run `as` with on this CPU, allocating one if it has none of
 * the current generation (inline: every return to user mode asks). */
extern uint64_t vmid_gen;
void aspace_new_vmid(struct aspace *as);

/* I/O spaces (mm/iospace.c): an ASID for a new one; every stream bound to
 * one that ends is detached, and its ASID flushed and freed. */
err_t iospace_init(struct aspace *as);
void iospace_fini(struct aspace *as);
bool iospace_check(void);   /* SYS_DEBUG_CHECK's part */
static inline unsigned aspace_activate(struct aspace *as, unsigned cpu)
{
	if (as->vmid_gen != vmid_gen)
		aspace_new_vmid(as);
	cpus[cpu].active_as = as;
	return as->vmid;
}
