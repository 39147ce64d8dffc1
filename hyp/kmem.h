/* The kernel's own memory (boot structures, CPU stacks, its page tables).
 * Objects that user space creates are paid from its Memory capabilities
 * instead (docs/ARCHITECTURE.md); this pool is what is left for the kernel. */
#pragma once
#include "mm/pmem.h"
#include "mm/slab.h"

extern struct pmem kmem; /* a buddy pool per NUMA node */

/* Zeroed, direct-mapped; NULL if none.  From `node`, or with PMEM_ANY_NODE
 * the calling CPU's node first. */
void *kmem_alloc_node(unsigned node, unsigned order);
static inline void *kmem_alloc_pages(unsigned order)
{
	return kmem_alloc_node(PMEM_ANY_NODE, order);
}
void kmem_free_pages(void *va, unsigned order);
paddr_t kmem_pa(const void *va);
void *kmem_va(paddr_t pa);
/* Whether pa is RAM the machine described (the direct map covers it). */
bool kmem_is_ram(paddr_t pa);
