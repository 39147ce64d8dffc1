/* Notifications: a word of signal bits.  Signal ORs bits in and wakes one
 * waiter (or the bound thread, if it is blocked in a receive) with the
 * whole word, which then reads as zero.  A notification bound to a VCPU's
 * virtual interrupt raises that instead (a device's or a server's
 * interrupt into a guest, without a VMM in the way). */
#include "ipc/ipc.h"
#include "vcpu/vcpu.h"

static void deliver(struct thread *t, uint64_t word, bool in_recv)
{
	*regs_gpr(&t->regs, REG_CAP) = word;
	*regs_gpr(&t->regs, REG_NR) = E_OK;
	if (in_recv)
		*regs_gpr(&t->regs, REG_INFO) = msginfo(MSG_LABEL_NOTIFY, 0, 0);
}

void ntfn_signal(struct notification *n, uint64_t bits)
{
	struct thread *b = n->bound;
	if (n->vcpu) {
		vcpu_raise(n->vcpu, n->virq);
		return;
	}
	if (n->waiters) {
		struct thread *t = n->waiters;
		ntfn_cancel(n, t);
		deliver(t, n->word | bits, false);
		n->word = 0;
		thread_make_runnable(t);
	} else if (b && b->state == TS_BLOCKED_RECV) {
		ep_cancel(b->blocked_on, b);
		deliver(b, n->word | bits, true);
		n->word = 0;
		thread_make_runnable(b);
	} else {
		n->word |= bits;
	}
}

void ntfn_wait(struct thread *t, struct notification *n, bool block)
{
	if (n->word || !block) {
		deliver(t, n->word, false);
		n->word = 0;
		return;
	}
	thread_block(t, TS_BLOCKED_NOTIFY, n);
	tq_append(&n->waiters, t);
}

bool ntfn_take_bound(struct thread *t)
{
	struct notification *n = t->bound;
	if (!n || !n->word)
		return false;
	deliver(t, n->word, true);
	n->word = 0;
	return true;
}

void ntfn_cancel(struct notification *n, struct thread *t)
{
	tq_remove(&n->waiters, t);
	t->blocked_on = NULL;
}

bool notification_destroy(struct obj *o)
{
	struct notification *n = (struct notification *)o;
	while (n->waiters) {
		struct thread *t = n->waiters;
		thread_cancel_ipc(t, E_CANCELLED);
		thread_make_runnable(t);
	}
	if (n->bound)
		n->bound->bound = NULL;
	if (n->vcpu)
		obj_put(&n->vcpu->o);
	return true;
}
