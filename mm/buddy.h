/* Binary buddy allocator over one span of physical pages.
 *
 * All state lives in struct buddy and a one-byte-per-page metadata array
 * the caller provides, so host tests can run it over ordinary memory.  Free
 * blocks are linked through their own first bytes, reached through the
 * direct map (va = pa + dm_offset).  Block alignment equals physical
 * alignment because the span's base is aligned to the largest block. */
#pragma once
#include "hyp/types.h"

#define BUDDY_ORDERS 19 /* 4 KiB .. 1 GiB blocks */
#define BUDDY_BASE_ALIGN (PAGE_SIZE << (BUDDY_ORDERS - 1))

struct buddy_link {
	struct buddy_link *next, *prev;
};

struct buddy {
	paddr_t base;              /* aligned to BUDDY_BASE_ALIGN */
	uint64_t npages;
	uint64_t dm_offset;
	uint8_t *meta;             /* per page: BUDDY_FREE | order on free heads */
	struct buddy_link free[BUDDY_ORDERS];
	uint64_t nfree[BUDDY_ORDERS]; /* free blocks per order */
	uint64_t free_pages;
	uint64_t managed_pages;    /* pages ever given to buddy_add_range */
};

/* Bytes of metadata needed for a span of `npages` pages. */
static inline uint64_t buddy_meta_size(uint64_t npages) { return npages; }

/* Start with every page of the span allocated (holes, reservations). */
void buddy_init(struct buddy *b, paddr_t base, uint64_t npages, uint8_t *meta,
		uint64_t dm_offset);
/* Hand usable pages to the allocator (page aligned, inside the span). */
void buddy_add_range(struct buddy *b, struct mem_range r);
err_t buddy_alloc(struct buddy *b, unsigned order, paddr_t *out);
void buddy_free(struct buddy *b, paddr_t pa, unsigned order);

static inline void *buddy_va(const struct buddy *b, paddr_t pa)
{
	return (void *)(uintptr_t)(pa.pa + b->dm_offset);
}
