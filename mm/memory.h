/* Memory objects: quotas of kernel memory.
 *
 * A Memory capability is the right to have the kernel allocate up to
 * `quota` bytes for objects.  Retype charges the object's true allocation
 * size (its slab class or its pages); destroying the object refunds it.
 * A Memory object made by retyping another is a sub-quota: its whole quota
 * is charged to the parent up front.  So the root task's quota, set at boot
 * from the free memory, bounds everything user space can ever make, and a
 * task can exhaust only memory it was given.  The kernel keeps back a
 * reserve for slab pages that are partly used (docs/ARCHITECTURE.md). */
#pragma once
#include "hyp/obj.h"

struct memory {
	struct obj o;
	uint64_t quota, used;
};

/* A Memory object not paid by another (the root task's). */
void memory_init_root(struct memory *m, uint64_t quota);
err_t memory_charge(struct memory *m, uint64_t bytes);
void memory_refund(struct memory *m, uint64_t bytes);
/* Bytes an object of `bytes` really takes (slab class or pages). */
uint64_t memory_alloc_size(uint64_t bytes, uint8_t *order);
