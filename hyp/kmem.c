#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/kmem.h"
#include "hyp/string.h"

struct pmem kmem;

void *kmem_va(paddr_t pa) { return pmem_va(&kmem, pa); }

paddr_t kmem_pa(const void *va)
{
	return pa_make((uintptr_t)va - kmem.dm_offset);
}

void *kmem_alloc_node(unsigned node, unsigned order)
{
	paddr_t pa;
	if (pmem_alloc(&kmem, node, order, &pa) != E_OK)
		return NULL;
	void *va = kmem_va(pa);
	memset(va, 0, PAGE_SIZE << order);
	return va;
}

void kmem_free_pages(void *va, unsigned order)
{
	pmem_free(&kmem, kmem_pa(va), order);
}
