#include "mm/memmap.h"
#include "mm/pmem.h"

err_t pmem_init(struct buddy *b, struct boot_info *bi, uint64_t dm_offset)
{
	struct mem_range use[MEMMAP_MAX];
	unsigned n;
	err_t e = memmap_usable(bi, use, MEMMAP_MAX, &n);
	if (e)
		return e;
	if (n == 0)
		return E_NOMEM;

	uint64_t lo = use[0].base.pa, hi = range_end(use[0]);
	for (unsigned i = 1; i < n; i++) {
		lo = MIN(lo, use[i].base.pa);
		hi = MAX(hi, range_end(use[i]));
	}
	paddr_t base = pa_make(ALIGN_DOWN(lo, BUDDY_BASE_ALIGN));
	uint64_t npages = (hi - base.pa) >> PAGE_SHIFT;
	uint64_t meta_size = ALIGN_UP(buddy_meta_size(npages), PAGE_SIZE);

	/* The metadata goes at the top of the first range large enough. */
	unsigned i = 0;
	while (i < n && use[i].size < meta_size)
		i++;
	if (i == n)
		return E_NOMEM;
	struct mem_range meta = { pa_make(range_end(use[i]) - meta_size), meta_size };
	if ((e = boot_reserve(bi, meta, "page metadata")))
		return e;

	buddy_init(b, base, npages, (uint8_t *)(uintptr_t)(meta.base.pa + dm_offset),
		   dm_offset);
	if ((e = memmap_usable(bi, use, MEMMAP_MAX, &n)))
		return e;
	for (i = 0; i < n; i++)
		buddy_add_range(b, use[i]);
	return E_OK;
}
