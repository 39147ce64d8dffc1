#include "hyp/panic.h"
#include "hyp/string.h"
#include "mm/buddy.h"

#define BUDDY_FREE 0x80

static void list_push(struct buddy_link *head, struct buddy_link *l)
{
	l->next = head->next;
	l->prev = head;
	head->next->prev = l;
	head->next = l;
}

static void list_del(struct buddy_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
}

static struct buddy_link *link_of(struct buddy *b, uint64_t idx)
{
	return buddy_va(b, pa_add(b->base, idx << PAGE_SHIFT));
}

static uint64_t index_of(struct buddy *b, struct buddy_link *l)
{
	return ((uintptr_t)l - b->dm_offset - b->base.pa) >> PAGE_SHIFT;
}

static void put_free(struct buddy *b, uint64_t idx, unsigned order)
{
	b->meta[idx] = BUDDY_FREE | order;
	list_push(&b->free[order], link_of(b, idx));
	b->nfree[order]++;
}

static void take_free(struct buddy *b, uint64_t idx, unsigned order)
{
	b->meta[idx] = 0;
	list_del(link_of(b, idx));
	b->nfree[order]--;
}

void buddy_init(struct buddy *b, paddr_t base, uint64_t npages, uint8_t *meta,
		uint64_t dm_offset)
{
	assert(IS_ALIGNED(base.pa, BUDDY_BASE_ALIGN));
	memset(b, 0, sizeof(*b));
	b->base = base;
	b->npages = npages;
	b->meta = meta;
	b->dm_offset = dm_offset;
	memset(meta, 0, buddy_meta_size(npages));
	for (unsigned o = 0; o < BUDDY_ORDERS; o++)
		b->free[o].next = b->free[o].prev = &b->free[o];
}

/* Free a block, merging with its buddy while the buddy is a free block of the
 * same order: the classic loop, O(BUDDY_ORDERS). */
static void free_block(struct buddy *b, uint64_t idx, unsigned order)
{
	b->free_pages += 1ull << order;
	for (; order < BUDDY_ORDERS - 1; order++) {
		uint64_t buddy = idx ^ (1ull << order);
		if (buddy + (1ull << order) > b->npages ||
		    b->meta[buddy] != (BUDDY_FREE | order))
			break;
		take_free(b, buddy, order);
		idx &= ~(1ull << order);
	}
	put_free(b, idx, order);
}

void buddy_add_range(struct buddy *b, struct mem_range r)
{
	assert(IS_ALIGNED(r.base.pa | r.size, PAGE_SIZE));
	assert(r.base.pa >= b->base.pa);
	uint64_t idx = (r.base.pa - b->base.pa) >> PAGE_SHIFT;
	uint64_t end = idx + (r.size >> PAGE_SHIFT);
	assert(end <= b->npages);
	b->managed_pages += end - idx;
	while (idx < end) {
		unsigned order = 0;
		while (order + 1 < BUDDY_ORDERS &&
		       IS_ALIGNED(idx, 1ull << (order + 1)) &&
		       idx + (1ull << (order + 1)) <= end)
			order++;
		free_block(b, idx, order);
		idx += 1ull << order;
	}
}

err_t buddy_alloc(struct buddy *b, unsigned order, paddr_t *out)
{
	unsigned o = order;
	while (o < BUDDY_ORDERS && b->free[o].next == &b->free[o])
		o++;
	if (order >= BUDDY_ORDERS || o == BUDDY_ORDERS)
		return E_NOMEM;
	uint64_t idx = index_of(b, b->free[o].next);
	take_free(b, idx, o);
	while (o > order) { /* split, keeping the lower half */
		o--;
		put_free(b, idx + (1ull << o), o);
	}
	b->free_pages -= 1ull << order;
	*out = pa_add(b->base, idx << PAGE_SHIFT);
	return E_OK;
}

void buddy_free(struct buddy *b, paddr_t pa, unsigned order)
{
	assert(pa.pa >= b->base.pa && order < BUDDY_ORDERS);
	uint64_t idx = (pa.pa - b->base.pa) >> PAGE_SHIFT;
	assert(IS_ALIGNED(idx, 1ull << order) && idx + (1ull << order) <= b->npages);
	assert(!(b->meta[idx] & BUDDY_FREE)); /* double free */
	free_block(b, idx, order);
}
