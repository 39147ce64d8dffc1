/* Object allocation, reference counting and deferred destruction. */
#include "hyp/kmem.h"
#include "hyp/obj.h"
#include "hyp/panic.h"
#include "hyp/string.h"
#include "mm/memory.h"

static struct obj *dead;
uint64_t obj_live;
struct obj *obj_all;

err_t obj_alloc(struct memory *payer, enum obj_type type, uint64_t bytes, struct obj **out)
{
	uint8_t order;
	uint64_t size = memory_alloc_size(bytes, &order);
	if (!size)
		return E_INVAL;
	err_t e = E_OK;
	struct obj *o;
	if (order == OBJ_SLAB) {
		o = memory_slab_alloc(payer, size, &e); /* charges its pages */
		size = 0;
	} else if (!(e = memory_charge(payer, size)) &&
		   !(o = kmem_alloc_node(payer->node, order))) {
		memory_refund(payer, size);
		e = E_NOMEM;
	}
	if (e)
		return e;
	memset(o, 0, MAX(size, bytes));
	*o = (struct obj){ .type = type, .order = order, .charge = size, .payer = payer };
	obj_get(&payer->o);
	obj_live++;
	o->all_next = obj_all;
	if (obj_all)
		obj_all->all_prev = o;
	obj_all = o;
	*out = o;
	return E_OK;
}

static bool (*const destroy[OBJ_TYPES])(struct obj *) = {
	[OBJ_MEMORY] = memory_destroy,         [OBJ_CNODE] = cnode_destroy,
	[OBJ_THREAD] = thread_destroy,         [OBJ_ASPACE] = aspace_destroy,
	[OBJ_FRAME] = frame_destroy,           [OBJ_ENDPOINT] = endpoint_destroy,
	[OBJ_NOTIFICATION] = notification_destroy, [OBJ_IRQ_HANDLER] = irq_handler_destroy,
	[OBJ_VCPU] = vcpu_destroy,             [OBJ_STREAM] = stream_destroy,
};

void obj_put(struct obj *o)
{
	assert(o->refs > 0);
	if (--o->refs == 0 && destroy[o->type]) {
		o->next_dead = dead;
		dead = o;
	}
}


void obj_free(struct obj *o)
{
	struct memory *payer = o->payer;
	uint64_t charge = o->charge;
	if (!payer)
		return; /* a static object (IRQ handler): nothing to give back */
	if (o->all_prev)
		o->all_prev->all_next = o->all_next;
	else
		obj_all = o->all_next;
	if (o->all_next)
		o->all_next->all_prev = o->all_prev;
	if (o->order == OBJ_SLAB)
		memory_slab_free(payer, o);
	else
		kmem_free_pages(o, o->order);
	obj_live--;
	memory_refund(payer, charge);
	obj_put(&payer->o);
}

void obj_reap(void)
{
	while (dead) {
		struct obj *o = dead;
		dead = o->next_dead;
		if (destroy[o->type](o)) /* may queue more */
			obj_free(o);
	}
}
