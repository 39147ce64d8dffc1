#include "hyp/panic.h"
#include "mm/slab.h"

/* Header at the start of every slab page; objects follow it. */
struct slab_page {
	struct slab_page *next, *prev; /* on the cache's partial list */
	struct slab_cache *cache;
	void *free;                    /* free objects, linked through themselves */
	uint32_t inuse;
	paddr_t pa;
};

/* Offset of a slab page's first object: after the header, aligned to the
 * object size up to a cache line. */
static uint32_t first_offset(uint32_t obj_size)
{
	return ALIGN_UP(sizeof(struct slab_page), MIN(obj_size, 64u));
}

void slab_init(struct slab *s, struct pmem *pages, unsigned node)
{
	s->pages = pages;
	s->node = node;
	for (unsigned i = 0; i < SLAB_CLASSES; i++) {
		uint32_t size = 1u << (SLAB_MIN_SHIFT + i);
		uint32_t first = first_offset(size);
		s->cls[i] = (struct slab_cache){
			.obj_size = size,
			.per_page = (uint32_t)((PAGE_SIZE - first) / size),
		};
	}
}

static int class_of(size_t size)
{
	for (unsigned i = 0; i < SLAB_CLASSES; i++)
		if (size <= (1u << (SLAB_MIN_SHIFT + i)))
			return (int)i;
	return -1;
}

size_t slab_class_size(size_t size)
{
	int c = class_of(size);
	return c < 0 ? 0 : 1u << (SLAB_MIN_SHIFT + c);
}

static void partial_add(struct slab_cache *c, struct slab_page *p)
{
	p->prev = NULL;
	p->next = c->partial;
	if (c->partial)
		c->partial->prev = p;
	c->partial = p;
}

static void partial_del(struct slab_cache *c, struct slab_page *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		c->partial = p->next;
	if (p->next)
		p->next->prev = p->prev;
}

static struct slab_page *grow(struct slab *s, struct slab_cache *c)
{
	paddr_t pa;
	if (pmem_alloc(s->pages, s->node, 0, &pa) != E_OK)
		return NULL;
	struct slab_page *p = pmem_va(s->pages, pa);
	*p = (struct slab_page){ .cache = c, .pa = pa };
	uintptr_t first = (uintptr_t)p + first_offset(c->obj_size);
	for (uint32_t i = c->per_page; i-- > 0;) { /* lowest address first */
		void **obj = (void **)(first + (uintptr_t)i * c->obj_size);
		*obj = p->free;
		p->free = obj;
	}
	c->pages++;
	partial_add(c, p);
	return p;
}

bool slab_needs_page(const struct slab *s, size_t size)
{
	int ci = class_of(size);
	return ci >= 0 && !s->cls[ci].partial;
}

void *slab_alloc(struct slab *s, size_t size)
{
	int ci = class_of(size);
	if (ci < 0)
		return NULL;
	struct slab_cache *c = &s->cls[ci];
	struct slab_page *p = c->partial ? c->partial : grow(s, c);
	if (!p)
		return NULL;
	void **obj = p->free;
	p->free = *obj;
	if (++p->inuse == c->per_page)
		partial_del(c, p);
	c->objects++;
	return obj;
}

bool slab_free(struct slab *s, void *obj)
{
	struct slab_page *p = (void *)ALIGN_DOWN((uintptr_t)obj, PAGE_SIZE);
	struct slab_cache *c = p->cache;
	assert(c >= s->cls && c < s->cls + SLAB_CLASSES && p->inuse > 0);
	if (p->inuse-- == c->per_page)
		partial_add(c, p);
	*(void **)obj = p->free;
	p->free = obj;
	c->objects--;
	if (p->inuse)
		return false;
	partial_del(c, p);
	c->pages--;
	pmem_free(s->pages, p->pa, 0);
	return true;
}
