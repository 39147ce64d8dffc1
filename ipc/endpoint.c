/* Synchronous IPC through endpoints: send, receive, call and reply, the
 * message transfer, capability grant, and fault messages.
 *
 * A message is the sender's registers: up to MSG_WORDS words and up to
 * MSG_CAPS capabilities.  The kernel never reads user memory.  A call
 * leaves the caller blocked on reply and gives the receiver a one-shot
 * reply right (receiver->caller); a receiver that receives again without
 * replying cancels that right and its caller wakes with E_CANCELLED. */
#include "hyp/panic.h"
#include "hyp/sched.h"
#include "ipc/ipc.h"
#include "mm/aspace.h"
#include "vcpu/vcpu.h"

/* Grant: copy (or move) the sender's capabilities into empty slots of the
 * receiver's CSpace, starting at its receive slot.  Stops at the first
 * that cannot go; returns how many went. */
static unsigned transfer_caps(struct thread *s, struct thread *r, uint64_t info)
{
	unsigned n = msginfo_caps(info);
	cptr_t dst = *regs_gpr(&r->regs, REG_RECVSLOT);
	for (unsigned i = 0; i < n; i++) {
		struct cap *from, *to;
		if (cspace_lookup_cap(&s->cspace, *regs_gpr(&s->regs, REG_SENDCAP0 + i), &from) ||
		    cspace_lookup(&r->cspace, dst + i, 64, &to) || !cap_empty(to))
			return i;
		if (info & MSG_MOVE) {
			if (from->type == OBJ_FRAME && from->map_as)
				aspace_unmap_frame(from);
			cap_move(to, from);
		} else {
			obj_get(from->obj);
			cap_install(to, from, from);
		}
	}
	return n;
}

static void transfer(struct thread *s, struct thread *r, uint64_t badge, bool grant)
{
	struct arch_regs *rr = &r->regs;
	uint64_t info;
	s->ipc_sent++; /* every delivery passes here (the fast path counts its own) */
	if (s->fault_pending) {
		for (unsigned i = 0; i < s->fault_len; i++)
			*regs_gpr(rr, REG_MR0 + i) = s->fault[i];
		info = msginfo(s->fault_label, s->fault_len, 0);
	} else {
		uint64_t si = *regs_gpr(&s->regs, REG_INFO);
		unsigned len = MIN(msginfo_len(si), MSG_WORDS);
		for (unsigned i = 0; i < len; i++)
			*regs_gpr(rr, REG_MR0 + i) = *regs_gpr(&s->regs, REG_MR0 + i);
		unsigned caps = grant ? transfer_caps(s, r, si) : 0;
		info = msginfo(msginfo_label(si), len, caps);
	}
	*regs_gpr(rr, REG_INFO) = info;
	*regs_gpr(rr, REG_CAP) = badge;
	*regs_gpr(rr, REG_NR) = E_OK;
}

/* After a transfer from s to r: a call waits for r's reply, a send is done. */
static void after_send(struct thread *s, struct thread *r, bool call)
{
	if (call || s->fault_pending) {
		assert(!r->caller); /* its receive cancelled any earlier one */
		thread_block(s, TS_BLOCKED_REPLY, NULL);
		s->callee = r;
		r->caller = s;
	} else {
		*regs_gpr(&s->regs, REG_NR) = E_OK;
		thread_make_runnable(s);
	}
}

err_t ep_send(struct thread *t, struct endpoint *ep, struct cap *c, bool block, bool call)
{
	if (ep->state == EP_RECEIVERS) {
		struct thread *r = ep->queue;
		ep_cancel(ep, r);
		transfer(t, r, c->badge, c->rights & R_GRANT);
		thread_make_runnable(r);
		after_send(t, r, call);
		return E_OK;
	}
	if (!block)
		return E_WOULDBLOCK;
	t->ipc_badge = c->badge;
	t->ipc_grant = c->rights & R_GRANT;
	t->ipc_call = call;
	thread_block(t, TS_BLOCKED_SEND, ep);
	tq_append(&ep->queue, t);
	ep->state = EP_SENDERS;
	return E_OK;
}

err_t ep_recv(struct thread *t, struct endpoint *ep, bool block)
{
	if (t->caller) { /* an unanswered call: its one-shot right lapses */
		struct thread *old = t->caller;
		thread_cancel_ipc(old, E_CANCELLED);
		thread_make_runnable(old);
	}
	if (ep->state == EP_SENDERS) {
		struct thread *s = ep->queue;
		ep_cancel(ep, s);
		transfer(s, t, s->ipc_badge, s->ipc_grant);
		after_send(s, t, s->ipc_call);
		return E_OK;
	}
	if (ntfn_take_bound(t))
		return E_OK;
	if (!block)
		return E_WOULDBLOCK;
	thread_block(t, TS_BLOCKED_RECV, ep);
	tq_append(&ep->queue, t);
	ep->state = EP_RECEIVERS;
	return E_OK;
}

/* Answer t's caller.  A fault's reply decides where the thread resumes. */
err_t ep_reply(struct thread *t)
{
	struct thread *c = t->caller;
	if (!c)
		return E_NOENT;
	assert(c->state == TS_BLOCKED_REPLY && c->callee == t);
	sched_charge_passive(t);
	t->caller = NULL;
	c->callee = NULL;
	t->ipc_sent++;
	struct arch_regs *tr = &t->regs;
	uint64_t ti = *regs_gpr(tr, REG_INFO);
	unsigned len = MIN(msginfo_len(ti), MSG_WORDS);
	if (c->fault_pending) {
		c->fault_pending = false;
		const uint64_t *mr = regs_gpr(tr, REG_MR0);
		if (c->fault_kind == KMSG_VMEXIT)
			vcpu_exit_reply(c, mr, len);
		else if (c->fault_kind == KMSG_HCALL)
			vcpu_hypercall_reply(c, msginfo_label(ti), mr, len);
		else if (len == 2 && mr[0] == 1)
			arch_regs_set_pc(&c->regs, mr[1]);
	} else {
		for (unsigned i = 0; i < len; i++)
			*regs_gpr(&c->regs, REG_MR0 + i) = *regs_gpr(tr, REG_MR0 + i);
		*regs_gpr(&c->regs, REG_INFO) = msginfo(msginfo_label(ti), len, 0);
		*regs_gpr(&c->regs, REG_CAP) = 0;
		*regs_gpr(&c->regs, REG_NR) = E_OK;
	}
	thread_make_runnable(c);
	return E_OK;
}

bool fault_send(struct thread *t)
{
	struct cap *c = &t->fault_ep;
	if (c->type != OBJ_ENDPOINT || !(c->rights & R_WRITE))
		return false;
	t->fault_pending = true;
	ep_send(t, (struct endpoint *)c->obj, c, true, true);
	return true;
}

/* Every thread still waiting wakes with E_CANCELLED. */
bool endpoint_destroy(struct obj *o)
{
	struct endpoint *ep = (struct endpoint *)o;
	while (ep->queue) {
		struct thread *t = ep->queue;
		thread_cancel_ipc(t, E_CANCELLED);
		thread_make_runnable(t);
	}
	return true;
}
