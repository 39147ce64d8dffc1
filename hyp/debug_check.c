/* SYS_DEBUG_CHECK: the kernel's invariants, walked on request (the
 * multi-CPU fuzzer calls it after every round).  Each rule is the
 * thread lifecycle of docs/ARCHITECTURE.md or an accounting rule; the
 * first broken one is printed and the call fails.  O(objects): a test aid,
 * never on a path user space depends on for speed. */
#include "hyp/cpu.h"
#include "hyp/ktimer.h"
#include "hyp/printk.h"
#include "hyp/sched.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"
#include "mm/aspace.h"
#include "mm/memory.h"
#include "vcpu/vcpu.h"

#define RULE(c, ...) do { if (!(c)) { \
	printk("cairn: check failed: " __VA_ARGS__); printk("\n"); return false; } } while (0)

static bool in_queue(struct thread *q, const struct thread *t)
{
	for (struct thread *u = q; u; u = u->next == q ? NULL : u->next)
		if (u == t)
			return true;
	return false;
}

static bool check_runq(struct sched *s, unsigned cpu)
{
	uint64_t seen = 0;
	for (unsigned p = 0; p < PRIO_LEVELS; p++) {
		struct thread *h = s->q.head[p];
		bool bit = s->q.words[p / 64] >> (p % 64) & 1;
		RULE(bit == (h != NULL), "cpu%u level %u: bitmap and queue disagree", cpu, p);
		RULE(!(s->q.words[p / 64]) == !(s->q.top >> (p / 64) & 1),
		     "cpu%u: top bitmap word %u", cpu, p / 64);
		for (struct thread *t = h; t; t = t->next == h ? NULL : t->next) {
			RULE(++seen <= obj_live, "cpu%u level %u: queue loops", cpu, p);
			RULE(t->queued && t->state == TS_RUNNABLE && !t->dead && t->cpu == cpu &&
			     t->prio == p && !thread_running(t),
			     "cpu%u level %u: queued thread %p state %u cpu %u prio %u", cpu, p,
			     (void *)t, t->state, t->cpu, t->prio);
		}
	}
	unsigned ceiling = 0;
	for (unsigned p = 0; p < PRIO_LEVELS; p++)
		ceiling = s->q.head[p] ? p + 1 : ceiling;
	RULE(s->q.ceiling == ceiling, "cpu%u: ceiling %u, highest level %u", cpu, s->q.ceiling,
	     ceiling);
	RULE(!s->cur || !s->cur->queued, "cpu%u: its current thread is queued", cpu);
	for (unsigned other = 0; other < cpu; other++)
		RULE(!s->cur || scheds[other].cur != s->cur, "cpu%u: its current thread is cpu%u's too",
		     cpu, other);
	/* vcpu/vcpu.h: a VCPU is in only while its thread is current (else
	 * the CPU is in native mode); one parked here knows it. */
	struct cpu *c = &cpus[cpu];
	RULE(!c->vcpu_in || (s->cur && s->cur->vcpu == c->vcpu_in && c->vcpu_hw == c->vcpu_in),
	     "cpu%u: VCPU %p in, not its current thread's", cpu, (void *)c->vcpu_in);
	RULE(!c->vcpu_hw || c->vcpu_hw->hw_cpu == (int)cpu, "cpu%u: parked VCPU %p elsewhere",
	     cpu, (void *)c->vcpu_hw);
	return true;
}

/* Parked on a CPU, a VCPU's thread belongs to that CPU (or is still
 * running on it, handing itself over). */
static bool check_vcpu(struct vcpu *v)
{
	RULE(v->hw_cpu < 0 || (v->hw_cpu < (int)ncpus_online && cpus[v->hw_cpu].vcpu_hw == v),
	     "VCPU %p: parked on cpu%d, which does not know it", (void *)v, v->hw_cpu);
	RULE(v->hw_cpu < 0 || !v->thread || thread_running(v->thread) ||
	     v->thread->cpu == (unsigned)v->hw_cpu,
	     "VCPU %p: parked on cpu%d, its thread on cpu%u", (void *)v, v->hw_cpu,
	     v->thread ? v->thread->cpu : 0);
	return true;
}

static bool check_thread(struct thread *t)
{
	RULE(t->budgeted == (t->bud.period != 0 || t->passive), "thread %p: budgeted %u, period %lu",
	     (void *)t, t->budgeted, t->bud.period);
	RULE(!t->passive || !t->bud.period, "thread %p: passive with a budget", (void *)t);
	RULE(t->vcpu_bound == (t->vcpu != NULL), "thread %p: vcpu_bound %u, vcpu %p", (void *)t,
	     t->vcpu_bound, (void *)t->vcpu);
	RULE(t->state != TS_RUNNABLE || t->queued || thread_running(t) || t->bud.throttled,
	     "thread %p: runnable but neither queued nor running nor throttled", (void *)t);
	RULE(!t->bud.throttled || (ktimer_armed(&t->bud.refill) && !t->queued && !thread_running(t)),
	     "thread %p: throttled, but queued, running or never refilled", (void *)t);
	RULE(!t->caller || (t->caller->callee == t && t->caller->state == TS_BLOCKED_REPLY),
	     "thread %p: its caller does not wait for it", (void *)t);
	switch (t->state) {
	case TS_BLOCKED_SEND:
	case TS_BLOCKED_RECV: {
		struct endpoint *ep = t->blocked_on;
		RULE(ep && in_queue(ep->queue, t) &&
		     ep->state == (t->state == TS_BLOCKED_SEND ? EP_SENDERS : EP_RECEIVERS),
		     "thread %p: not on the endpoint it waits on", (void *)t);
		break;
	}
	case TS_BLOCKED_NOTIFY:
		RULE(t->blocked_on && in_queue(((struct notification *)t->blocked_on)->waiters, t),
		     "thread %p: not on the notification it waits on", (void *)t);
		break;
	case TS_BLOCKED_REPLY:
		RULE(!t->callee || t->callee->caller == t, "thread %p: its callee forgot it",
		     (void *)t);
		break;
	}
	RULE(t->state == TS_RUNNABLE || t->state == TS_INACTIVE || !thread_running(t),
	     "thread %p: blocked yet current on a CPU", (void *)t);
	return true;
}

static bool check_waiters(struct thread *q, void *on, unsigned st1, unsigned st2)
{
	for (struct thread *t = q; t; t = t->next == q ? NULL : t->next)
		RULE(t->blocked_on == on && (t->state == st1 || t->state == st2),
		     "object %p: a waiter in state %u waits elsewhere", on, t->state);
	return true;
}

/* What m has paid for: its objects' own pages, its slab's pages, the page
 * tables of the spaces it pays for, the memory of its frames (not of those
 * borrowed), the quotas of its sub-Memories. */
static bool check_memory(struct memory *m)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < SLAB_CLASSES; i++)
		sum += m->slab.cls[i].pages * PAGE_SIZE;
	for (struct obj *o = obj_all; o; o = o->all_next) {
		if (o->payer != m)
			continue;
		sum += o->charge;
		if (o->type == OBJ_ASPACE)
			sum += ((struct aspace *)o)->tables * PAGE_SIZE;
		if (o->type == OBJ_MEMORY)
			sum += ((struct memory *)o)->quota;
		if (o->type == OBJ_FRAME && !((struct frame *)o)->borrowed)
			sum += 1ull << ((struct frame *)o)->bits;
	}
	RULE(sum == m->used && m->used <= m->quota,
	     "Memory %p: used %lu, quota %lu, but its objects add up to %lu", (void *)m, m->used,
	     m->quota, sum);
	return true;
}

static bool check_object(struct obj *o)
{
	switch (o->type) {
	case OBJ_THREAD:
		return check_thread((struct thread *)o);
	case OBJ_ENDPOINT: {
		struct endpoint *ep = (struct endpoint *)o;
		RULE((ep->state == EP_IDLE) == !ep->queue, "endpoint %p: state %u", (void *)ep,
		     ep->state);
		/* only a CPU that shares the big lock takes it (hyp/bkl.h) */
		RULE(!ep->lock.held, "endpoint %p: locked", (void *)ep);
		return check_waiters(ep->queue, ep,
				     ep->state == EP_SENDERS ? TS_BLOCKED_SEND : TS_BLOCKED_RECV, 0xff);
	}
	case OBJ_NOTIFICATION: {
		struct notification *n = (struct notification *)o;
		RULE(!n->bound || n->bound->bound == n, "notification %p: binding", (void *)n);
		RULE(!n->lock.held, "notification %p: locked", (void *)n);
		return check_waiters(n->waiters, n, TS_BLOCKED_NOTIFY, 0xff);
	}
	case OBJ_ASPACE: { /* a fast path loads hw_root without a look at the generation */
		struct aspace *as = (struct aspace *)o;
		RULE(!as->hw_root || (as->vmid_gen == vmid_gen &&
				      as->hw_root == arch_space_root(as->pt.root_pa, as->vmid)),
		     "space %p: hw_root %lx, VMID %u of generation %lu (now %lu)", (void *)as,
		     as->hw_root, as->vmid, as->vmid_gen, vmid_gen);
		return true;
	}
	case OBJ_MEMORY:
		return check_memory((struct memory *)o);
	case OBJ_VCPU:
		return check_vcpu((struct vcpu *)o);
	default:
		return true;
	}
}

/* The live list (SYS_STATS_THREAD) holds every thread object once, and
 * fair_threads counts those with a weight. */
static bool check_thread_list(uint64_t threads)
{
	uint64_t n = 0, weighted = 0;
	for (struct thread *t = threads_live; t;
	     t = t->live_next == threads_live ? NULL : t->live_next) {
		RULE(++n <= threads && t->o.type == OBJ_THREAD && t->live_next->live_prev == t,
		     "thread list: entry %lu (%p) of %lu threads", n, (void *)t, threads);
		weighted += t->weight != 0;
	}
	RULE(n == threads, "thread list: %lu listed, %lu threads", n, threads);
	RULE(weighted == fair_threads, "fair threads: %lu weighted, %u counted", weighted,
	     fair_threads);
	return true;
}

extern struct memory root_mem; /* hyp/root.c: not on the object list */

/* The timer lists hold exactly the armed timers of live objects (a
 * thread's refill, a VCPU's virtual timer), each on the list it names,
 * earliest first: a timer left armed in a freed object is caught here
 * rather than when its memory, reused, is fired. */
static bool check_timers(void)
{
	uint64_t armed[MAX_CPUS] = { 0 };
	for (struct obj *o = obj_all; o; o = o->all_next) {
		const struct ktimer *k = o->type == OBJ_THREAD ? &((struct thread *)o)->bud.refill :
					 o->type == OBJ_VCPU ? &((struct vcpu *)o)->vtimer : NULL;
		if (k && ktimer_armed(k) && (unsigned)k->cpu < MAX_CPUS)
			armed[k->cpu]++;
	}
	for (unsigned cpu = 0; cpu < MAX_CPUS; cpu++) {
		uint64_t n = 0;
		for (const struct ktimer *k = ktimer_lists[cpu]; k; k = k->next) {
			RULE(++n <= obj_live && k->cpu == (int)cpu && (!k->next ||
			     k->next->deadline >= k->deadline),
			     "cpu%u: timer %lu (%p) not on its list, out of order or looping", cpu,
			     n, (const void *)k);
		}
		RULE(n == armed[cpu], "cpu%u: %lu timers listed, %lu armed by live objects", cpu, n,
		     armed[cpu]);
	}
	return true;
}

err_t sys_debug_check(struct thread *t)
{
	struct cap *c;
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_CONSOLE, R_WRITE, &c);
	if (e)
		return e;
	for (unsigned cpu = 0; cpu < ncpus_online; cpu++)
		if (!check_runq(sched_of(cpu), cpu))
			return E_INVAL;
	uint64_t n = 0, threads = 0;
	for (struct obj *o = obj_all; o; o = o->all_next, n++) {
		if (!check_object(o))
			return E_INVAL;
		threads += o->type == OBJ_THREAD;
	}
	if (n != obj_live) {
		printk("cairn: check failed: %lu objects listed, %lu live\n", n, obj_live);
		return E_INVAL;
	}
	return check_memory(&root_mem) && iospace_check() && check_thread_list(threads) &&
	       check_timers() ?
	       E_OK : E_INVAL;
}
