#include "hyp/printk.h"
#include "hyp/selftest.h"

static bool in_range(uint64_t pa, struct mem_range r)
{
	return pa >= r.base.pa && pa < range_end(r);
}

static bool page_ok(const struct boot_info *bi, uint64_t pa, unsigned node)
{
	bool ram = false;
	for (unsigned i = 0; i < bi->nmem; i++)
		ram |= in_range(pa, bi->mem[i]) && in_range(pa + PAGE_SIZE - 1, bi->mem[i]) &&
		       bi->mem_node[i] == node;
	for (unsigned i = 0; i < bi->nresv; i++) {
		struct mem_range r = bi->resv[i].r;
		if (pa < range_end(r) && r.base.pa < pa + PAGE_SIZE) {
			printk("mm: selftest: page 0x%lx is in reserved %s\n", pa,
			       bi->resv[i].name);
			return false;
		}
	}
	return ram;
}

bool mm_selftest(struct buddy *b, unsigned node, const struct boot_info *bi)
{
	uint64_t before = b->free_pages, taken = 0, bad = 0;
	struct buddy_link *chain = NULL; /* allocated pages, linked through themselves */
	paddr_t pa;
	while (buddy_alloc(b, 0, &pa) == E_OK) {
		bad += !page_ok(bi, pa.pa, node);
		struct buddy_link *l = buddy_va(b, pa);
		l->next = chain;
		chain = l;
		taken++;
	}
	while (chain) {
		struct buddy_link *next = chain->next;
		buddy_free(b, pa_make((uintptr_t)chain - b->dm_offset), 0);
		chain = next;
	}
	bool ok = bad == 0 && taken == before && b->free_pages == before;
	printk("mm: selftest %s: %lu pages handed out, %lu outside RAM or reserved, "
	       "%lu free after return (was %lu)\n", ok ? "passed" : "FAILED",
	       taken, bad, b->free_pages, before);
	return ok;
}
