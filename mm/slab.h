/* Slab allocator for kernel objects: power-of-two size classes from 16 bytes
 * to 1 KiB, one page per slab, pages taken from and returned to the buddy
 * pools (one NUMA node's, or the local node's first).  An empty slab page
 * goes straight back to the buddy allocator,
 * so a create/delete cycle leaves the page counts exactly as they were.
 * (A 2 KiB class would hold one object per page beside its header: such
 * objects take a page of their own instead.)  Every Memory object has its
 * own slab, so that its quota is charged page by page (mm/memory.h). */
#pragma once
#include "mm/pmem.h"

#define SLAB_MIN_SHIFT 4
#define SLAB_CLASSES 7 /* 16 .. 1024 bytes */

struct slab_page;

struct slab_cache {
	uint32_t obj_size;
	uint32_t per_page;
	struct slab_page *partial; /* pages with at least one free object */
	uint64_t objects;          /* live objects */
	uint64_t pages;            /* pages held */
};

struct slab {
	struct pmem *pages;
	unsigned node;             /* its pages' node, or PMEM_ANY_NODE */
	struct slab_cache cls[SLAB_CLASSES];
};

void slab_init(struct slab *s, struct pmem *pages, unsigned node);
void *slab_alloc(struct slab *s, size_t size);
/* Whether an allocation of `size` would take a new page. */
bool slab_needs_page(const struct slab *s, size_t size);
/* Returns whether the object's page went back to the buddy allocator. */
bool slab_free(struct slab *s, void *obj);
/* Object size the allocator would use for `size`, 0 if too large. */
size_t slab_class_size(size_t size);
