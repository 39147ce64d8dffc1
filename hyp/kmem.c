#include "hyp/arch.h"
#include "hyp/kmem.h"
#include "hyp/string.h"

struct buddy kmem_pages;

void *kmem_va(paddr_t pa) { return buddy_va(&kmem_pages, pa); }

paddr_t kmem_pa(const void *va)
{
	return pa_make((uintptr_t)va - kmem_pages.dm_offset);
}

void *kmem_alloc_pages(unsigned order)
{
	paddr_t pa;
	if (buddy_alloc(&kmem_pages, order, &pa) != E_OK)
		return NULL;
	void *va = kmem_va(pa);
	memset(va, 0, PAGE_SIZE << order);
	return va;
}

void kmem_free_pages(void *va, unsigned order)
{
	buddy_free(&kmem_pages, kmem_pa(va), order);
}
