/* Memory objects: charging and refunding kernel memory quotas. */
#include "hyp/panic.h"
#include "mm/memory.h"
#include "mm/slab.h"

void memory_init_root(struct memory *m, uint64_t quota)
{
	*m = (struct memory){ .o = { .type = OBJ_MEMORY, .order = OBJ_SLAB }, .quota = quota };
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
