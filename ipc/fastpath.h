/* The fast paths' bodies (ipc/fastpath.c has the design and the rules),
 * inline so that an architecture's system-call entry holds the whole path
 * from entry to exit in one function (fastpath_entry: aarch64_svc,
 * riscv_ecall, x86_syscall).  Every function here returns the thread to enter with
 * everything done, or NULL with nothing changed, for the general path.
 *
 * An architecture may define fastpath_now() (the timer's count),
 * fastpath_timer_set(at) (arm the one-shot timer) and fastpath_slice()
 * (a timeslice in timer ticks), any of them, as inline code before
 * including this; otherwise the arch interface's functions are used. */
#pragma once
#include "hyp/arch.h"
#include "hyp/kernel.h"
#include "hyp/ktimer.h"
#include "hyp/sched.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"
#include "vcpu/vcpu.h"

#ifndef fastpath_now
#define fastpath_now() arch_timer_now()
#endif
#ifndef fastpath_timer_set
#define fastpath_timer_set(at) arch_timer_oneshot(at)
#endif
#ifndef fastpath_slice
#define fastpath_slice() (arch_timer_freq() / 1000000 * TIMESLICE_US)
#endif

#define FP_INLINE static inline __attribute__((always_inline))

/* Would the scheduler of this CPU run `next` once the current thread
 * blocks, with no timer (the fast paths open: sched_closed false)?  next
 * is this CPU's with no budget, and outranks every ready thread here, so
 * it needs no slice timer either.  (The current thread is this CPU's:
 * had another CPU moved it, that CPU would have kicked this one, and
 * resched declines.) */
FP_INLINE bool direct_switch_ok(struct sched *s, struct thread *next, unsigned cpu)
{
	return next->cpu_budgeted == cpu && next->prio >= s->q.ceiling; /* no budget either */
}

/* The capability t names in its badge register, of `type` with `rights`:
 * cspace_lookup_cap's case of one CNode whose guard is 0, the address a
 * slot index (every CSpace the root task makes), from the root's cached
 * size (cap.cs_lim1: the index and slot 0 in one comparison; a deleted
 * root's is 0); other CSpaces decline (the general walk would be a call).
 * 14 instructions with the type, the rights and the object. */
FP_INLINE struct cap *fast_cap(struct thread *t, unsigned type, unsigned rights)
{
	uint64_t idx = arg(t, REG_CAP);
	struct cap *slots = cnode_slots((struct cnode *)t->cspace.obj); /* a pair with cs_lim1 */
	if (idx - 1 >= t->cspace.cs_lim1)
		return NULL;
	struct cap *c = &slots[idx];
	if (c->type != type || (c->rights & rights) != rights)
		return NULL;
	return c;
}

/* The receiver waiting on ep, if a call may go straight to it: taken off
 * the queue. */
FP_INLINE struct thread *call_partner(struct sched *s, struct endpoint *ep, unsigned cpu)
{
	spin_lock(&ep->lock);
	struct thread *r = ep->queue;
	if (!(ep->state & EP_RECEIVERS) || !direct_switch_ok(s, r, cpu)) {
		spin_unlock(&ep->lock);
		return NULL;
	}
	/* ep_cancel for the queue's head, inline */
	struct thread *after = r->next;
	if (__builtin_expect(after == r, 1)) { /* a server's one thread */
		ep->queue = NULL;
		ep->state = EP_IDLE;
	} else {
		after->prev = r->prev;
		r->prev->next = after;
		ep->queue = after;
	}
	spin_unlock(&ep->lock);
	r->next = r->prev = NULL;
	r->blocked_on = NULL;
	return r;
}

/* t waits for r's reply; r runs, with info as its message info. */
FP_INLINE void link_call(struct thread *t, struct thread *r, uint64_t info, uint64_t badge)
{
	*regs_gpr(&r->regs, REG_INFO) = info;
	*regs_gpr(&r->regs, REG_CAP) = badge;
	*regs_gpr(&r->regs, REG_NR) = E_OK;
	t->state = TS_BLOCKED_REPLY;
	t->callee = r;
	r->caller = t;
	r->state = TS_RUNNABLE;
}

/* The current thread leaves the CPU to next (sched_switch_to's
 * bookkeeping): t is charged its CPU time, as sched_charge does, and
 * `sent` messages (0 or 1: the general path counts them in transfer and
 * ep_reply).  The two counters are adjacent: one load and one store pair. */
FP_INLINE uint64_t fast_switch(struct sched *s, struct thread *t, struct thread *next,
			       unsigned sent)
{
	uint64_t now = fastpath_now();
	uint64_t ticks = t->ticks + (now - s->slice_start), msgs = t->ipc_sent + sent;
	t->ticks = ticks;
	t->ipc_sent = msgs;
	s->cur = next;
	s->slice_start = now;
	return now;
}

/* The same after t sent a message or a reply. */
FP_INLINE void switch_to(struct sched *s, struct thread *t, struct thread *next)
{
	fast_switch(s, t, next, 1);
}

/* A message's info is taken when it sends no capability, no move flag
 * and at most MSG_WORDS - 1 words (a full message, rare, goes the general
 * way), its unused bits clear: one test of bits 3-15.  Such an info is
 * what the receiver gets, msginfo(label, len, 0), so it passes as it is. */
FP_INLINE bool fast_info(uint64_t info)
{
	_Static_assert(MSG_WORDS == 8 && MSG_MOVE < 0x10000, "the bits tested");
	return !(info & 0xfff8);
}

/* The message registers info names from t to r: the common message of
 * one word by a bit test (length bits 1-3 clear, bit 0 set), a longer
 * one by a loop. */
FP_INLINE void copy_mrs(struct thread *r, struct thread *t, uint64_t info)
{
	_Static_assert(MSG_WORDS <= 15, "the length is info's bits 0-3");
	uint64_t *d = regs_gpr(&r->regs, REG_MR0), *s = regs_gpr(&t->regs, REG_MR0);
	if (__builtin_expect(info & 0xe, 0)) {
		for (unsigned i = 0; i < msginfo_len(info); i++)
			d[i] = s[i];
	} else if (info & 1) {
		d[0] = s[0];
	}
}

FP_INLINE struct thread *fastpath_call(struct thread *t, struct sched *s, unsigned cpu)
{
	uint64_t info = arg(t, REG_INFO);
	struct cap *c = fast_cap(t, OBJ_ENDPOINT, R_WRITE);
	if (!c || !fast_info(info))
		return NULL;
	struct thread *r = call_partner(s, (struct endpoint *)c->obj, cpu);
	if (!r)
		return NULL;
	copy_mrs(r, t, info);
	link_call(t, r, info, c->badge);
	switch_to(s, t, r);
	return r;
}

/* A guest's exit `l`, its words in t->fault and sent to vmm (taken by
 * call_partner), which runs now: t waits for the answer, its VCPU parked
 * (riscv64's riscv_guest_ecall, x86_64's x86_exit_fast; ipc_fastpath_kmsg
 * for the general way's exits). */
FP_INLINE void exit_sent(struct sched *s, struct thread *t, struct thread *vmm,
			 enum vmexit_label l, uint64_t badge, struct cpu *c)
{
	t->fault_label = l;
	t->fault_kind = KMSG_VMEXIT;
	t->fault_len = VMEXIT_WORDS;
	t->fault_pending = true;
	link_call(t, vmm, msginfo(l, VMEXIT_WORDS, 0), badge);
	c->vcpu_in = NULL; /* vcpu_leave_for_native */
	arch_vcpu_park_native(&t->vcpu->arch);
	switch_to(s, t, vmm);
}

/* What the VMM or server answered, applied to the guest whose exit or
 * hypercall it was (out of line: ipc/fastpath.c). */
void fastpath_reply_guest(struct thread *c, struct thread *t, unsigned cpu);

/* reply_recv's conditions for t answering c, which the scheduler would
 * run next: the endpoint t then waits on, locked (reply_recv_done unlocks
 * it), or NULL. */
FP_INLINE struct endpoint *reply_recv_ok(struct thread *t, struct thread *c, struct sched *s,
					 unsigned cpu, uint64_t info)
{
	struct cap *ec = fast_cap(t, OBJ_ENDPOINT, R_READ);
	if (!ec || (t->bound && t->bound->word))
		return NULL;
	struct endpoint *ep = (struct endpoint *)ec->obj; /* a capability's object is never NULL */
	if (!fast_info(info) || !direct_switch_ok(s, c, cpu))
		return NULL;
	spin_lock(&ep->lock);
	if (!(ep->state & EP_SENDERS))
		return ep;
	spin_unlock(&ep->lock);
	return NULL;
}

/* ...and its work once the answer is in c: t waits on ep, c runs. */
FP_INLINE void reply_recv_done(struct thread *t, struct thread *c, struct sched *s,
			       struct endpoint *ep)
{
	t->caller = NULL;
	c->callee = NULL;
	c->state = TS_RUNNABLE;
	t->state = TS_BLOCKED_RECV;
	t->blocked_on = ep;
	tq_append(&ep->queue, t);
	ep->state = EP_RECEIVERS;
	spin_unlock(&ep->lock);
	switch_to(s, t, c);
}

/* `guests`: also answer a guest's exit or hypercall (else decline: the
 * answer is applied by a call, which an entry may want to keep out of its
 * hot function). */
FP_INLINE struct thread *fastpath_reply_recv(struct thread *t, struct sched *s, unsigned cpu,
					     bool guests)
{
	struct thread *c = t->caller;
	if (!c)
		return NULL;
	bool guest = c->fault_pending; /* read once: the endpoint's lock is a barrier */
	if (guest && (!guests || c->fault_kind == KMSG_FAULT))
		return NULL;
	uint64_t info = arg(t, REG_INFO); /* before the endpoint's lock, a compiler barrier */
	struct endpoint *ep = reply_recv_ok(t, c, s, cpu, info);
	if (!ep)
		return NULL;
	if (__builtin_expect(guest, 0)) {
		fastpath_reply_guest(c, t, cpu);
	} else {
		copy_mrs(c, t, info);
		*regs_gpr(&c->regs, REG_INFO) = info; /* fast_info: as it is */
		*regs_gpr(&c->regs, REG_CAP) = 0;
		*regs_gpr(&c->regs, REG_NR) = E_OK;
	}
	reply_recv_done(t, c, s, ep);
	return c;
}

/* Signal a notification (ntfn_signal) that is neither bound to a thread
 * nor to a VCPU (whose state is not this CPU's alone): with no waiter the
 * bits go into the word and t goes on; a first waiter on this CPU that
 * outranks t gets the word and runs, t going back to the front of its
 * level, preempted, without the waiter's run-queue round trip (a thread
 * thread_make_runnable would place or credit, or a timer would be needed
 * for, takes the general path).  Not counted as a message (the general
 * path does not count signals).  Under the notification's lock: another
 * CPU sharing the big lock may signal or wait on it too. */
FP_INLINE struct thread *fastpath_signal(struct thread *t, struct sched *s, unsigned cpu)
{
	struct cap *c = fast_cap(t, OBJ_NOTIFICATION, R_WRITE);
	if (!c)
		return NULL;
	struct notification *n = (struct notification *)c->obj;
	uint64_t bits = arg(t, 0) | c->badge;
	if (n->vcpu || n->bound)
		return NULL;
	spin_lock(&n->lock);
	struct thread *w = n->waiters;
	if (!w) {
		n->word |= bits;
		spin_unlock(&n->lock);
		*regs_gpr(&t->regs, REG_NR) = E_OK;
		return t;
	}
	/* floating: it might be placed elsewhere (balance_place); a budget
	 * needs the timer; a peer at its level would need the slice timer */
	if (w->cpu != cpu || w->prio <= t->prio || w->floating || w->budgeted ||
	    runq_level_busy(&s->q, w->prio)) {
		spin_unlock(&n->lock);
		return NULL;
	}
	ntfn_cancel(n, w);
	*regs_gpr(&w->regs, REG_CAP) = n->word | bits;
	n->word = 0;
	spin_unlock(&n->lock);
	*regs_gpr(&w->regs, REG_NR) = E_OK;
	w->state = TS_RUNNABLE;
	*regs_gpr(&t->regs, REG_NR) = E_OK;
	runq_add(&s->q, t, true);
	fast_switch(s, t, w, 0);
	return w;
}

/* Wait (block) or poll on a notification not bound to a thread, whose
 * word is not zero or need not be: t takes the word (ntfn_wait) and goes
 * on.  A wait that would block takes the general path. */
FP_INLINE struct thread *fastpath_wait(struct thread *t, bool block)
{
	struct cap *c = fast_cap(t, OBJ_NOTIFICATION, R_READ);
	if (!c)
		return NULL;
	struct notification *n = (struct notification *)c->obj;
	if (n->bound)
		return NULL;
	spin_lock(&n->lock);
	uint64_t word = n->word;
	if (!word && block) {
		spin_unlock(&n->lock);
		return NULL;
	}
	n->word = 0;
	spin_unlock(&n->lock);
	*regs_gpr(&t->regs, REG_CAP) = word;
	*regs_gpr(&t->regs, REG_NR) = E_OK;
	return t;
}

/* Yield (sched_end_slice): with no peer at its level the thread goes on,
 * with nothing to do if no timer runs either; with peers it goes to the
 * back of its level and the first in line runs, with the slice timer set
 * as sched_program_timer would set it (so a timer already armed, the
 * slice's, does not make it decline). */
FP_INLINE struct thread *fastpath_yield(struct thread *t, struct sched *s, uint32_t closed)
{
	struct thread *next = s->q.head[t->prio];
	if (!next) {
		if (closed)
			return NULL;
		*regs_gpr(&t->regs, REG_NR) = E_OK;
		return t;
	}
	if (fair_threads || next->budgeted) /* the share word's flags are clear (fastpath_entry) */
		return NULL;
	*regs_gpr(&t->regs, REG_NR) = E_OK;
	/* t takes next's place in the ring, which is then the back: as
	 * runq_add(t, back) and runq_remove(next) would leave it */
	struct thread *after = next->next;
	if (after == next) {
		t->next = t->prev = t;
		s->q.head[t->prio] = t;
	} else {
		t->next = after;
		t->prev = next->prev;
		next->prev->next = t;
		after->prev = t;
		s->q.head[t->prio] = after;
	}
	t->queued = true;
	next->queued = false;
	next->next = next->prev = NULL;
	uint64_t now = fast_switch(s, t, next, 0);
	uint64_t at = MIN(ktimer_next(s->cpu), now + fastpath_slice());
	fastpath_timer_set(at);
	s->timer_armed = s->slice_armed = true;
	return next;
}

/* The ways out of an entry's fast paths that riscv_ecall and x86_syscall
 * share (ipc/fastpath.c; AArch64's own are tuned to its entry): the
 * general path, and kernel_enter's work in full, with the lock whole;
 * the same from sharing it (taken whole, and kernel_exit does it); a
 * guest's answer with the lock taken whole.  None returns (the last ends
 * in one of the first two), which riscv64's ecall_restore relies on: only
 * the native threads its fast paths enter inline come back; each is
 * declared to return, so that the fast paths reach it by a tail call. */
struct thread *fastpath_general(struct thread *t, struct cpu *c);
struct thread *fastpath_enter_full(struct thread *next, struct cpu *c);
struct thread *fastpath_enter_whole(struct thread *next, struct cpu *c);
struct thread *fastpath_reply_guest_whole(struct thread *t, struct cpu *c);

/* An architecture's system-call entry (aarch64_svc, riscv_ecall, x86_syscall), with
 * no lock: it shares the big lock (hyp/bkl.h), which fails if the fast
 * paths are closed on this CPU (a yield may share with the timer armed),
 * for call, reply_recv, yield, wait and poll by number, then goes on into the entry's own
 * functions, each inline or a tail call: `enter` the thread a fast path
 * made current (it stops sharing), `guest` for a reply_recv answering a
 * guest's exit or hypercall, `decline` for the rest (signal's fast path,
 * out of line since it calls out, or the general way); `guest` and the
 * general way take the lock whole (bkl_whole) and look again.
 * A call after which t goes on (a yield with no one to yield to, a signal
 * nobody waited for, a wait for bits already there) stops sharing and
 * returns to t.  The
 * arch's functions are constants, so this compiles to the code the entry
 * would hold by hand. */
typedef struct thread *(*fastpath_exit_fn)(struct thread *, struct cpu *);
typedef struct thread *(*fastpath_enter_fn)(struct thread *, struct cpu *, struct sched *);
FP_INLINE struct thread *fastpath_entry(struct thread *t, struct sched *s, struct cpu *c,
					   unsigned cpu, uint64_t nr, fastpath_enter_fn enter,
					   fastpath_exit_fn guest, fastpath_exit_fn decline)
{
	struct thread *next = NULL;
	if (__builtin_expect(!bkl_share(s), 0)) { /* gated, closed, or a yield's timer armed */
		if (nr != SYS_YIELD || !bkl_share_yield(s))
			return decline(t, c);
		next = fastpath_yield(t, s, s->timer_armed);
	} else if (nr == SYS_CALL) { /* the partner is never t */
		next = fastpath_call(t, s, cpu);
		return next ? enter(next, c, s) : decline(t, c);
	} else if (nr == SYS_REPLY_RECV) {
		if (t->caller && t->caller->fault_pending)
			return guest(t, c);
		next = fastpath_reply_recv(t, s, cpu, false);
		return next ? enter(next, c, s) : decline(t, c);
	} else if (nr == SYS_YIELD) {
		next = fastpath_yield(t, s, false);
	} else if (nr == SYS_WAIT || nr == SYS_POLL) {
		next = fastpath_wait(t, nr == SYS_WAIT);
	}
	if (next == t) { /* it goes on */
		bkl_unshare(s);
		return t;
	}
	return next ? enter(next, c, s) : decline(t, c);
}

/* A call no fast path in fastpath_entry took: signal's, out of line
 * since it calls out (sharing: its fast paths are open), entered by the
 * port's `enter`; or the general way with the lock taken whole. */
FP_INLINE struct thread *fastpath_decline(struct thread *t, struct cpu *c, fastpath_enter_fn enter)
{
	struct thread *next = NULL;
	if (arg(t, REG_NR) == SYS_SIGNAL && bkl_sharing(c->sched))
		next = fastpath_signal(t, c->sched, c->id);
	if (next == t) {
		bkl_unshare(c->sched);
		return t;
	}
	if (next)
		return enter(next, c, c->sched);
	bkl_whole(c->sched);
	return fastpath_general(t, c);
}
