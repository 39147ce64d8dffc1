/* The kernel's own memory (boot structures, CPU stacks, its page tables).
 * Objects that user space creates are paid from its Memory capabilities
 * instead (docs/ARCHITECTURE.md); this pool is what is left for the kernel. */
#pragma once
#include "mm/buddy.h"
#include "mm/slab.h"

extern struct buddy kmem_pages;

void *kmem_alloc_pages(unsigned order); /* zeroed, direct-mapped; NULL if none */
void kmem_free_pages(void *va, unsigned order);
paddr_t kmem_pa(const void *va);
void *kmem_va(paddr_t pa);
/* Whether pa is RAM the machine described (the direct map covers it). */
bool kmem_is_ram(paddr_t pa);
