/* Endpoints (synchronous rendezvous) and notifications (words of signal
 * bits), and the wait queues both use. */
#pragma once
#include "hyp/spinlock.h"
#include "hyp/thread.h"

/* One bit each: a fast path tests its state with one instruction. */
enum ep_state { EP_IDLE = 0, EP_SENDERS = 1, EP_RECEIVERS = 2 };

struct endpoint {
	struct obj o;
	uint8_t state;         /* what the queue holds */
	spinlock_t lock;       /* between CPUs sharing the big lock (hyp/bkl.h) */
	struct thread *queue;  /* circular, oldest first */
};

struct notification {
	struct obj o;
	uint64_t word;
	struct thread *waiters;
	struct thread *bound;  /* receives the bits while in a receive */
	struct vcpu *vcpu;     /* or: each signal raises this VCPU's `virq` (referenced) */
	uint32_t virq;
	spinlock_t lock;       /* between CPUs sharing the big lock (hyp/bkl.h) */
};

/* Circular thread queues through t->next/prev (a blocked thread is never
 * on a run queue, so the links are free).  Inline: the IPC fast path uses
 * them. */
static inline void tq_append(struct thread **q, struct thread *t)
{
	struct thread *h = *q;
	if (!h) {
		t->next = t->prev = t;
		*q = t;
		return;
	}
	t->next = h;
	t->prev = h->prev;
	h->prev->next = t;
	h->prev = t;
}

static inline void tq_remove(struct thread **q, struct thread *t)
{
	if (t->next == t)
		*q = NULL;
	else {
		t->prev->next = t->next;
		t->next->prev = t->prev;
		if (*q == t)
			*q = t->next;
	}
	t->next = t->prev = NULL;
}

/* IPC operations on the calling thread `t`.  They leave results in the
 * threads' registers; t may be blocked when they return.  E_WOULDBLOCK
 * from the non-blocking forms when no partner waits. */
err_t ep_send(struct thread *t, struct endpoint *ep, struct cap *c, bool block, bool call);
err_t ep_recv(struct thread *t, struct endpoint *ep, bool block);
err_t ep_reply(struct thread *t);
/* The fast path for a guest's exit or hypercall (ipc/fastpath.c): the
 * partner to enter, or NULL for the general path. */
struct thread *ipc_fastpath_kmsg(struct thread *t, struct cap *c, unsigned cpu);
struct thread *ipc_fastpath_hcall(struct thread *t, unsigned cpu);
/* A fault: t sends its fault message as a call through its fault endpoint. */
bool fault_send(struct thread *t);
/* Take t, blocked on ep, off its queue. */
static inline void ep_cancel(struct endpoint *ep, struct thread *t)
{
	tq_remove(&ep->queue, t);
	if (!ep->queue)
		ep->state = EP_IDLE;
	t->blocked_on = NULL;
}

extern bool ipc_fastpath_on; /* cairn.fastpath (ipc/fastpath.c) */

void ntfn_signal(struct notification *n, uint64_t bits);
void ntfn_wait(struct thread *t, struct notification *n, bool block);
void ntfn_cancel(struct notification *n, struct thread *t);
/* Deliver a pending bound notification to t about to block in a receive. */
bool ntfn_take_bound(struct thread *t);
