#include "mm/memmap.h"
#include "mm/pmem.h"

/* One node's pool: a span from its lowest usable page (aligned down to the
 * buddy's base alignment) to its highest; pages in it that are not the
 * node's (holes, reservations, another node's RAM) stay allocated. */
static err_t node_init(struct pmem *p, struct boot_info *bi, unsigned node)
{
	static uint8_t no_meta; /* a node without usable RAM: an empty pool */
	struct mem_range use[MEMMAP_MAX];
	unsigned n;
	err_t e = memmap_usable_node(bi, node, use, MEMMAP_MAX, &n);
	if (e || n == 0) {
		buddy_init(&p->node[node], pa_make(0), 0, &no_meta, p->dm_offset);
		return e;
	}
	uint64_t lo = use[0].base.pa, hi = range_end(use[0]);
	for (unsigned i = 1; i < n; i++) {
		lo = MIN(lo, use[i].base.pa);
		hi = MAX(hi, range_end(use[i]));
	}
	paddr_t base = pa_make(ALIGN_DOWN(lo, BUDDY_BASE_ALIGN));
	uint64_t npages = (hi - base.pa) >> PAGE_SHIFT;
	uint64_t meta_size = ALIGN_UP(buddy_meta_size(npages), PAGE_SIZE);

	/* The metadata goes at the top of the node's first range large enough. */
	unsigned i = 0;
	while (i < n && use[i].size < meta_size)
		i++;
	if (i == n)
		return E_NOMEM;
	struct mem_range meta = { pa_make(range_end(use[i]) - meta_size), meta_size };
	if ((e = boot_reserve(bi, meta, "page metadata")))
		return e;

	buddy_init(&p->node[node], base, npages,
		   (uint8_t *)(uintptr_t)(meta.base.pa + p->dm_offset), p->dm_offset);
	if ((e = memmap_usable_node(bi, node, use, MEMMAP_MAX, &n)))
		return e;
	for (i = 0; i < n; i++)
		buddy_add_range(&p->node[node], use[i]);
	return E_OK;
}

/* How far node `to` is from `from` for the fallback order: itself first,
 * nodes without a distance last. */
static unsigned dist(const struct boot_info *bi, unsigned from, unsigned to)
{
	if (to == from)
		return 0;
	return bi->distance[from][to] ? bi->distance[from][to] : 256;
}

/* Node `from`'s fallback order: nearest first, ties by id (an insertion
 * sort of at most MAX_NODES). */
static void order_nodes(struct pmem *p, const struct boot_info *bi, unsigned from)
{
	uint8_t *near = p->near[from];
	for (unsigned n = 0; n < p->nnodes; n++) {
		unsigned i = n;
		for (; i > 0 && dist(bi, from, near[i - 1]) > dist(bi, from, n); i--)
			near[i] = near[i - 1];
		near[i] = (uint8_t)n;
	}
}

err_t pmem_init(struct pmem *p, struct boot_info *bi, uint64_t dm_offset)
{
	p->nnodes = MAX(bi->nnodes, 1u);
	p->dm_offset = dm_offset;
	p->nspans = bi->nmem;
	for (unsigned i = 0; i < bi->nmem; i++) {
		p->span[i].lo = bi->mem[i].base.pa;
		p->span[i].hi = range_end(bi->mem[i]);
		p->span[i].node = bi->mem_node[i];
	}
	uint64_t free = 0;
	for (unsigned n = 0; n < p->nnodes; n++) {
		err_t e = node_init(p, bi, n);
		if (e)
			return e;
		free += p->node[n].free_pages;
		order_nodes(p, bi, n);
	}
	return free ? E_OK : E_NOMEM;
}

err_t pmem_alloc(struct pmem *p, unsigned node, unsigned order, paddr_t *out)
{
	if (node != PMEM_ANY_NODE)
		return node < p->nnodes ? buddy_alloc(&p->node[node], order, out) : E_NOMEM;
	const uint8_t *near = p->near[p->local ? p->local() : 0];
	for (unsigned i = 0; i < p->nnodes; i++)
		if (buddy_alloc(&p->node[near[i]], order, out) == E_OK)
			return E_OK;
	return E_NOMEM;
}

unsigned pmem_node_of(const struct pmem *p, paddr_t pa)
{
	for (unsigned i = 0; i < p->nspans; i++)
		if (pa.pa >= p->span[i].lo && pa.pa < p->span[i].hi)
			return p->span[i].node;
	return 0;
}

void pmem_free(struct pmem *p, paddr_t pa, unsigned order)
{
	buddy_free(&p->node[pmem_node_of(p, pa)], pa, order);
}

uint64_t pmem_free_pages(const struct pmem *p)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < p->nnodes; i++)
		n += p->node[i].free_pages;
	return n;
}
