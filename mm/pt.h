/* One table-driven page-table walker for every radix format: AArch64 stage 1
 * and stage 2, RISC-V Sv39/Sv48 (and their x4 G-stage forms), x86-64 4-level.
 * A format is data (struct pt_format): the walker never branches on the ISA. */
#pragma once
#include "hyp/types.h"

typedef uint64_t pte_t;

/* Attributes of a leaf mapping, as the walker's caller states them. */
enum pt_attr {
	PT_W = 1 << 0,      /* writable */
	PT_X = 1 << 1,      /* executable */
	PT_USER = 1 << 2,   /* accessible to the less privileged regime */
	PT_DEVICE = 1 << 3, /* device memory: uncached, no speculation */
};
#define PT_NATTR 4

struct pt_format {
	uint8_t levels;           /* root is level 0 */
	uint8_t block_min_level;  /* highest level (smallest number) with leaves */
	uint8_t root_extra_bits;  /* concatenated root (stage-2 "x4"): 2 */
	uint8_t oa_shift;         /* PTE = PA >> oa_shift (RISC-V: 2) */
	pte_t oa_mask;            /* output-address bits of a PTE */
	pte_t table_mask, table;  /* (pte & table_mask) == table: next level */
	pte_t valid;              /* (pte & valid) != 0: entry in use */
	pte_t block, page;        /* leaf bits above and at the last level */
	pte_t attr_set[PT_NATTR], attr_clear[PT_NATTR]; /* per attribute bit */
};

struct pt {
	const struct pt_format *fmt;
	pte_t *root;
	paddr_t root_pa;
	/* A zeroed page for a new table, reachable at pa + dm_offset. */
	err_t (*alloc_table)(void *ctx, paddr_t *pa);
	void *ctx;
	uint64_t dm_offset;
};

static inline unsigned pt_shift(const struct pt_format *f, unsigned level)
{
	return PAGE_SHIFT + 9 * (f->levels - 1 - level);
}

err_t pt_init(struct pt *pt, const struct pt_format *fmt,
	      err_t (*alloc_table)(void *, paddr_t *), void *ctx, uint64_t dm_offset);
/* Map [va, va+size) to [pa, ...) with the largest leaves alignment allows.
 * Fails with E_OVERLAP, leaving earlier pages mapped, if a page is in use. */
err_t pt_map(struct pt *pt, uint64_t va, paddr_t pa, uint64_t size, unsigned attrs);
/* Translate va; returns false if unmapped. */
bool pt_lookup(const struct pt *pt, uint64_t va, paddr_t *pa, pte_t *leaf);
/* The leaf entry mapping va and its level, or NULL. */
pte_t *pt_leaf(const struct pt *pt, uint64_t va, unsigned *level);
/* Rewrite a leaf's attributes (PT_*), keeping its output address. */
void pt_set_attrs(const struct pt *pt, pte_t *leaf, unsigned level, unsigned attrs);
#define PT_MAX_LEVELS 5
/* Remove the leaf mapping va, and unlink every table that this leaves
 * empty, up the path (never the root).  Returns how many it unlinked, their
 * addresses in `empty`: the caller frees them only after its TLB
 * maintenance, since a walk may still be using them until then. */
unsigned pt_unmap(struct pt *pt, uint64_t va, paddr_t empty[PT_MAX_LEVELS]);
/* Free every table below the root (not the root) through free_table. */
void pt_free_tables(struct pt *pt, void (*free_table)(void *ctx, paddr_t pa));
