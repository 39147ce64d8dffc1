/* The IPC fast path: call and reply_recv between two threads on one CPU
 * when the partner is already waiting and is the thread the scheduler
 * would pick anyway.  The message moves register to register and the CPU
 * switches straight to the partner: no run-queue operation, no timer
 * change, no scheduling decision.  Anything else takes the general path
 * (ipc/endpoint.c), which gives the same result; the fast path only skips
 * work that would have done nothing.
 *
 * Conditions, all checked before anything changes:
 *   - the message carries no capability (a reply never does);
 *   - the endpoint capability is valid with the right needed;
 *   - call: a receiver waits on the endpoint; reply_recv: there is a caller
 *     (not a faulting native thread: a guest's exit or hypercall is fine),
 *     no sender waits, no bound notification is pending;
 *   - the partner and the current thread both belong to this CPU;
 *   - the partner's priority is at least the current one's, no reschedule
 *     is pending, no timeslice timer runs, the partner has no budget (whose
 *     end needs the timer: hyp/budget.c) and the partner's level has no
 *     other ready thread: so the scheduler would choose the partner and
 *     would leave the timer off.
 *
 * A guest's exit or hypercall takes the same road (ipc_fastpath_kmsg,
 * ipc_fastpath_hcall): the kernel composed the exit's message, a hypercall's
 * is in the guest's registers, and the guest's VCPU is parked as it
 * leaves; the VMM's or server's reply_recv comes back through
 * fastpath_reply_recv, into the guest's registers.
 *
 * The thread that leaves is charged its CPU time and the message it sent
 * (switch_to), as the general path charges them (sched_charge, transfer,
 * ep_reply): the statistics are the same whichever path ran.
 *
 * Cost (AArch64, make bench): a round trip is 529 instructions against
 * 1,457 on the general path (a guest's hypercall to a server and back:
 * 634).  docs/PERF.md has the breakdown of one direction (at 534 a round
 * trip, before the statistics) and the floor (about 105 per direction).
 * cairn.fastpath=off (bootargs) turns it off, for the benchmark and the
 * tests of the general path. */
#include "hyp/arch.h"
#include "hyp/sched.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"
#include "vcpu/vcpu.h"

bool ipc_fastpath_on = true;

static void copy_mrs(struct thread *to, struct thread *from, uint64_t info, uint64_t badge)
{
	unsigned len = MIN(msginfo_len(info), MSG_WORDS);
	for (unsigned i = 0; i < len; i++)
		*regs_gpr(&to->regs, REG_MR0 + i) = *regs_gpr(&from->regs, REG_MR0 + i);
	*regs_gpr(&to->regs, REG_INFO) = msginfo(msginfo_label(info), len, 0);
	*regs_gpr(&to->regs, REG_CAP) = badge;
	*regs_gpr(&to->regs, REG_NR) = E_OK;
}

/* May this CPU take a fast path at all: on, no reschedule pending, no
 * timer armed (every entry tests this first, in one load). */
static inline bool fastpath_open(const struct sched *s) { return !s->no_fastpath; }

/* Would the scheduler of this CPU run `next` once `cur` blocks, with no
 * timer (fastpath_open)?  (cur is running, so no ready thread here
 * outranks it.) */
static bool direct_switch_ok(struct sched *s, struct thread *cur, struct thread *next,
			     unsigned cpu)
{
	return cur->cpu == cpu && next->cpu == cpu && next->prio >= cur->prio &&
	       !next->bud.period && !runq_level_busy(&s->q, next->prio);
}

static inline __attribute__((always_inline)) struct cap *endpoint_cap(struct thread *t,
									unsigned rights)
{
	struct cap *c;
	if (cspace_lookup_cap(&t->cspace, arg(t, REG_CAP), &c) || c->type != OBJ_ENDPOINT ||
	    (c->rights & rights) != rights)
		return NULL;
	return c;
}

/* The receiver waiting on ep, if a call may go straight to it: taken off
 * the queue. */
static inline __attribute__((always_inline)) struct thread *
call_partner(struct sched *s, struct thread *t, struct endpoint *ep,
				   unsigned cpu)
{
	struct thread *r = ep->queue;
	if (ep->state != EP_RECEIVERS || !direct_switch_ok(s, t, r, cpu))
		return NULL;
	ep_cancel(ep, r);
	return r;
}

/* t waits for r's reply; r runs. */
static inline __attribute__((always_inline)) void link_call(struct thread *t, struct thread *r, uint64_t label, unsigned len,
		      uint64_t badge)
{
	*regs_gpr(&r->regs, REG_INFO) = msginfo(label, len, 0);
	*regs_gpr(&r->regs, REG_CAP) = badge;
	*regs_gpr(&r->regs, REG_NR) = E_OK;
	t->state = TS_BLOCKED_REPLY;
	t->callee = r;
	r->caller = t;
	r->state = TS_RUNNABLE;
}

static struct thread *fastpath_call(struct thread *t, struct sched *s, unsigned cpu)
{
	uint64_t info = arg(t, REG_INFO);
	struct cap *c = endpoint_cap(t, R_WRITE);
	if (!c || msginfo_caps(info))
		return NULL;
	struct thread *r = call_partner(s, t, (struct endpoint *)c->obj, cpu);
	if (!r)
		return NULL;
	unsigned len = MIN(msginfo_len(info), MSG_WORDS);
	for (unsigned i = 0; i < len; i++)
		*regs_gpr(&r->regs, REG_MR0 + i) = *regs_gpr(&t->regs, REG_MR0 + i);
	link_call(t, r, msginfo_label(info), len, c->badge);
	return r;
}

/* The reply into a caller: message registers, or, for a guest's exit or
 * hypercall, what the VMM or server answered applied to the guest. */
static void reply_into(struct thread *c, struct thread *t, unsigned cpu)
{
	uint64_t info = arg(t, REG_INFO);
	unsigned len = MIN(msginfo_len(info), MSG_WORDS);
	if (!c->fault_pending) {
		copy_mrs(c, t, info, 0);
		return;
	}
	c->fault_pending = false;
	if (c->fault_kind == KMSG_VMEXIT)
		vcpu_exit_reply(c, regs_gpr(&t->regs, REG_MR0), len);
	else
		vcpu_hypercall_reply(c, msginfo_label(info), regs_gpr(&t->regs, REG_MR0), len);
	vcpu_enter_parked(c, cpu);
}

static struct thread *fastpath_reply_recv(struct thread *t, struct sched *s, unsigned cpu)
{
	struct thread *c = t->caller;
	if (!c || (c->fault_pending && c->fault_kind == KMSG_FAULT) ||
	    (t->bound && t->bound->word))
		return NULL;
	struct cap *ec = endpoint_cap(t, R_READ);
	struct endpoint *ep = ec ? (struct endpoint *)ec->obj : NULL;
	if (!ep || ep->state == EP_SENDERS || !direct_switch_ok(s, t, c, cpu))
		return NULL;
	reply_into(c, t, cpu);
	t->caller = NULL;
	c->callee = NULL;
	c->state = TS_RUNNABLE;
	t->state = TS_BLOCKED_RECV;
	t->blocked_on = ep;
	tq_append(&ep->queue, t);
	ep->state = EP_RECEIVERS;
	return c;
}

/* t, which has just sent a message or a reply, leaves the CPU to next:
 * t is charged its time (sched_charge) and the message. */
static void switch_to(struct sched *s, struct thread *t, struct thread *next)
{
	uint64_t now = arch_timer_now();
	t->ticks += now - s->slice_start;
	t->ipc_sent++;
	s->slice_start = now;
	s->cur = next;
	t->running = NULL;
	next->running = s;
}

/* A guest's exit (t's kernel-composed message, fault_pending) sent as a
 * call through endpoint capability c to a receiver waiting on this CPU:
 * the same conditions as a call, the words from the message.  The guest's
 * VCPU is parked as it leaves. */
struct thread *ipc_fastpath_kmsg(struct thread *t, struct cap *c, unsigned cpu)
{
	struct sched *s = sched_of(cpu);
	if (!fastpath_open(s) || c->type != OBJ_ENDPOINT || !(c->rights & R_WRITE))
		return NULL;
	struct thread *r = call_partner(s, t, (struct endpoint *)c->obj, cpu);
	if (!r)
		return NULL;
	for (unsigned i = 0; i < t->fault_len; i++)
		*regs_gpr(&r->regs, REG_MR0 + i) = t->fault[i];
	link_call(t, r, t->fault_label, t->fault_len, c->badge);
	vcpu_leave_for_native(t, cpu);
	switch_to(s, t, r);
	return r;
}

/* A guest's HC_CALL (include/cairn/vcpu.h): a call whose message is in the
 * guest's registers, copied straight into the receiver's. */
struct thread *ipc_fastpath_hcall(struct thread *t, unsigned cpu)
{
	struct sched *s = sched_of(cpu);
	struct arch_regs *g = &t->regs;
	uint64_t info = *regs_gpr(g, HC_REG_INFO);
	struct cap *c;
	if (!fastpath_open(s) || cspace_lookup_cap(&t->cspace, *regs_gpr(g, HC_REG_CAP), &c) ||
	    c->type != OBJ_ENDPOINT || !(c->rights & R_WRITE) || !hc_info_ok(info))
		return NULL;
	struct thread *r = call_partner(s, t, (struct endpoint *)c->obj, cpu);
	if (!r)
		return NULL;
	unsigned len = msginfo_len(info);
	for (unsigned i = 0; i < len; i++)
		*regs_gpr(&r->regs, REG_MR0 + i) = *regs_gpr(g, HC_REG_MR0 + i);
	link_call(t, r, msginfo_label(info), len, c->badge);
	t->fault_kind = KMSG_HCALL;
	t->fault_pending = true;
	vcpu_leave_for_native(t, cpu);
	switch_to(s, t, r);
	return r;
}

struct thread *ipc_fastpath_ipc(struct thread *t, unsigned cpu, uint64_t nr)
{
	struct sched *s = sched_of(cpu);
	if (!fastpath_open(s))
		return NULL;
	struct thread *next = nr == SYS_CALL ? fastpath_call(t, s, cpu)
					     : fastpath_reply_recv(t, s, cpu);
	if (next)
		switch_to(s, t, next);
	return next;
}
