/* Memory objects: quotas of kernel memory.
 *
 * A Memory capability is the right to have the kernel allocate up to
 * `quota` bytes for objects.  Charges are whole pages, exactly the pages
 * the kernel takes for it: small objects come from the Memory's own slab,
 * whose pages are charged as it grows and refunded as it shrinks; larger
 * objects, frames and page tables take pages of their own.  A Memory object
 * made by retyping another is a sub-quota: its whole quota is charged to
 * the parent up front.  So `used` is the kernel memory held for the Memory,
 * and a task can exhaust only memory it was given: no partly used slab page
 * is shared between quotas.  A Memory may be tied to a NUMA node: then
 * everything it pays for lies in that node's RAM (or is refused); untied,
 * the creating CPU's node comes first. */
#pragma once
#include "hyp/obj.h"
#include "mm/slab.h"

struct memory {
	struct obj o;
	uint64_t quota, used;
	unsigned node;      /* NUMA node, or PMEM_ANY_NODE */
	struct slab slab;   /* its small objects, on pages it pays for */
};

/* Set up a Memory object of `quota` on `node` (the root task's is static). */
void memory_init(struct memory *m, uint64_t quota, unsigned node);
err_t memory_charge(struct memory *m, uint64_t bytes);
void memory_refund(struct memory *m, uint64_t bytes);
/* Bytes an object of `bytes` takes (slab class or pages), and where from:
 * *order is OBJ_SLAB or the buddy order of its pages. */
uint64_t memory_alloc_size(uint64_t bytes, uint8_t *order);
/* A small object from m's slab, its page charged to m if it needs a new one. */
void *memory_slab_alloc(struct memory *m, uint64_t size, err_t *e);
void memory_slab_free(struct memory *m, void *o);
