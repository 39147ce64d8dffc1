#include "mm/memmap.h"

struct cut {
	const struct boot_info *bi;
	struct mem_range *out;
	unsigned max, n;
};

static err_t emit(struct cut *c, uint64_t lo, uint64_t hi)
{
	lo = ALIGN_UP(lo, PAGE_SIZE);
	hi = ALIGN_DOWN(hi, PAGE_SIZE);
	if (lo >= hi)
		return E_OK;
	if (c->n == c->max)
		return E_FULL;
	c->out[c->n++] = (struct mem_range){ pa_make(lo), hi - lo };
	return E_OK;
}

/* Emit [lo, hi) minus reservations from index `from` on.  A reservation in
 * the middle splits the range: the left part is cut by the remaining
 * reservations recursively (depth at most BOOT_MAX_RESV), the right part by
 * continuing the loop. */
static err_t cut_range(struct cut *c, uint64_t lo, uint64_t hi, unsigned from)
{
	for (unsigned i = from; i < c->bi->nresv && lo < hi; i++) {
		struct mem_range r = c->bi->resv[i].r;
		uint64_t rlo = ALIGN_DOWN(r.base.pa, PAGE_SIZE);
		uint64_t rhi = ALIGN_UP(range_end(r), PAGE_SIZE);
		if (rhi <= lo || rlo >= hi)
			continue;
		if (rlo > lo) {
			err_t e = cut_range(c, lo, rlo, i + 1);
			if (e)
				return e;
		}
		lo = rhi;
	}
	return lo < hi ? emit(c, lo, hi) : E_OK;
}

err_t memmap_usable_node(const struct boot_info *bi, unsigned node,
			 struct mem_range *out, unsigned max, unsigned *n)
{
	struct cut c = { bi, out, max, 0 };
	for (unsigned i = 0; i < bi->nmem; i++) {
		if (node != MEMMAP_ALL && bi->mem_node[i] != node)
			continue;
		err_t e = cut_range(&c, bi->mem[i].base.pa, range_end(bi->mem[i]), 0);
		if (e)
			return e;
	}
	*n = c.n;
	return E_OK;
}
