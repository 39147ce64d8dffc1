/* Kernel objects: the header every object starts with, and their lifetime.
 *
 * An object lives while something references it: each capability naming it
 * holds one reference, and so do a few kernel links (a thread's address
 * space, an object's payer).  When the last reference goes, the object is
 * queued and destroyed at the end of the current operation (obj_reap), not
 * in the middle of it: a CNode being destroyed deletes its capabilities,
 * which may end further objects, and deferring keeps that iterative and
 * keeps every pointer an operation holds valid until it is done.
 *
 * Every object is paid for by a Memory object (mm/memory.c): its bytes are
 * charged on creation and refunded on destruction. */
#pragma once
#include "cairn/abi.h"
#include "hyp/types.h"

struct memory;

struct obj {
	uint8_t type;          /* enum obj_type */
	uint8_t order;         /* buddy order if page-allocated, else 0xff (slab) */
	uint32_t refs;
	uint64_t charge;       /* its own pages charged to payer (slab: 0, its page is) */
	struct memory *payer;  /* NULL for static objects (IRQ handlers, console) */
	struct obj *next_dead; /* destroy queue */
	struct obj *all_next, *all_prev; /* every object paid for (DEBUG_CHECK) */
};

#define OBJ_SLAB 0xff

/* Allocate a zeroed object of `bytes` paid by `payer`, with no references. */
err_t obj_alloc(struct memory *payer, enum obj_type type, uint64_t bytes, struct obj **out);
static inline void obj_get(struct obj *o) { o->refs++; }
void obj_put(struct obj *o);
/* Destroy every object whose last reference went since the last call. */
void obj_reap(void);
void obj_free(struct obj *o);
/* Objects alive, for accounting checks, and the list of them. */
extern uint64_t obj_live;
extern struct obj *obj_all;

/* Per-type destructors, called from obj_reap (each in its object's file).
 * They return false when the memory cannot go yet (a thread still running
 * on another CPU); obj_free then finishes the job later. */
bool memory_destroy(struct obj *o);
bool cnode_destroy(struct obj *o);
bool thread_destroy(struct obj *o);
bool aspace_destroy(struct obj *o);
bool frame_destroy(struct obj *o);
bool endpoint_destroy(struct obj *o);
bool notification_destroy(struct obj *o);
bool irq_handler_destroy(struct obj *o);
bool stream_destroy(struct obj *o);
bool vcpu_destroy(struct obj *o);
