/* Memory objects: charging and refunding kernel memory quotas. */
#include "hyp/kmem.h"
#include "hyp/panic.h"
#include "mm/memory.h"

void memory_init(struct memory *m, uint64_t quota, unsigned node)
{
	m->quota = quota;
	m->node = node;
	slab_init(&m->slab, &kmem, node);
}

uint64_t memory_alloc_size(uint64_t bytes, uint8_t *order)
{
	size_t s = slab_class_size(bytes);
	if (s) {
		*order = OBJ_SLAB;
		return s;
	}
	for (unsigned o = 0; o <= 10; o++)
		if ((PAGE_SIZE << o) >= bytes) {
			*order = o;
			return PAGE_SIZE << o;
		}
	return 0;
}

void *memory_slab_alloc(struct memory *m, uint64_t size, err_t *e)
{
	bool grow = slab_needs_page(&m->slab, size);
	if (grow && (*e = memory_charge(m, PAGE_SIZE)))
		return NULL;
	void *o = slab_alloc(&m->slab, size);
	if (!o && grow)
		memory_refund(m, PAGE_SIZE);
	*e = o ? E_OK : E_NOMEM;
	return o;
}

void memory_slab_free(struct memory *m, void *o)
{
	if (slab_free(&m->slab, o))
		memory_refund(m, PAGE_SIZE);
}

err_t memory_charge(struct memory *m, uint64_t bytes)
{
	if (bytes > m->quota - m->used)
		return E_NOMEM;
	m->used += bytes;
	return E_OK;
}

void memory_refund(struct memory *m, uint64_t bytes)
{
	assert(bytes <= m->used);
	m->used -= bytes;
}

/* A sub-quota ends once nothing it paid for is left (each such object holds
 * a reference to it): its quota goes back to its parent with its charge. */
bool memory_destroy(struct obj *o)
{
	struct memory *m = (struct memory *)o;
	if (!o->payer)
		return false; /* the root quota is static and stays */
	assert(m->used == 0);
	memory_refund(o->payer, m->quota);
	return true;
}
