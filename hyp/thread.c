/* Threads: state changes used by IPC and the scheduler, and destruction.
 * The invocations that configure threads are in hyp/sys_thread.c. */
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/fp.h"
#include "hyp/panic.h"
#include "hyp/sched.h"
#include "ipc/ipc.h"
#include "mm/aspace.h"
#include "vcpu/vcpu.h"

void thread_set_error(struct thread *t, err_t e) { *regs_gpr(&t->regs, REG_NR) = e; }

struct thread *threads_live;
static uint64_t thread_ids;

err_t thread_create(struct memory *m, unsigned cpu, struct thread **out)
{
	struct obj *o;
	err_t e = obj_alloc(m, OBJ_THREAD, sizeof(struct thread), &o);
	if (e)
		return e;
	struct thread *t = *out = (struct thread *)o, *h = threads_live;
	arch_regs_init(&t->regs);
	t->cpu = cpu;
	t->id = ++thread_ids;
	budget_init(t);
	if (!h) {
		threads_live = t->live_next = t->live_prev = t;
	} else { /* the newest goes last: older threads keep their index */
		t->live_next = h;
		t->live_prev = h->live_prev;
		h->live_prev->live_next = t;
		h->live_prev = t;
	}
	return E_OK;
}

static void thread_unlist(struct thread *t)
{
	if (t->live_next == t) {
		threads_live = NULL;
		return;
	}
	t->live_prev->live_next = t->live_next;
	t->live_next->live_prev = t->live_prev;
	if (threads_live == t)
		threads_live = t->live_next;
}

struct thread *thread_nth(uint64_t i)
{
	struct thread *t = threads_live;
	for (; t && i; i--)
		t = t->live_next == threads_live ? NULL : t->live_next;
	return t;
}

static unsigned cpu_of(const struct sched *s) { return (unsigned)(s - scheds); }

static bool running_elsewhere(const struct thread *t)
{
	const struct sched *s = thread_running(t);
	return s && cpu_of(s) != arch_cpu_id();
}

/* Tell a CPU to choose again: at once if it is this one, else by IPI. */
void thread_kick(unsigned cpu)
{
	sched_of(cpu)->resched = true;
	if (cpu != arch_cpu_id())
		arch_ipi_send(cpu);
}

/* A thread current on some CPU is never queued: the CPU it is current on
 * keeps it, or hands it to its own CPU's queue when it next chooses
 * (sched_choose).  Queueing it here as well could run it on two CPUs. */
void thread_make_runnable(struct thread *t)
{
	t->state = TS_RUNNABLE;
	if (t->stop_waiters) /* runs on where it is: nobody waits for it now */
		sched_stop_done(t);
	if (thread_running(t) || t->queued || t->bud.throttled) /* throttled: its refill queues it */
		return;
	if (t->floating)
		t->cpu = (uint8_t)balance_place(t);
	struct sched *s = sched_of(t->cpu);
	runq_add(&s->q, t, false);
	/* A peer of the running thread needs its CPU to start timeslicing:
	 * without the kick, a thread that never enters the kernel (a guest
	 * spinning on a lock the new one holds) would keep the CPU. */
	if (!s->cur || t->prio > s->cur->prio || (t->prio == s->cur->prio && !s->slice_armed))
		thread_kick(t->cpu);
}

/* t, current on another CPU, is stopped: this CPU waits until that one
 * has left it (kernel_exit), once however often it stops it. */
static void stop_wait(struct thread *t)
{
	unsigned me = arch_cpu_id();
	if (!(t->stop_waiters & 1u << me)) {
		__atomic_store_n(&t->stop_waiters, t->stop_waiters | 1u << me, __ATOMIC_RELAXED);
		sched_of(me)->stops++;
	}
}

void thread_block(struct thread *t, enum thread_state st, void *on)
{
	t->state = st;
	t->blocked_on = on;
	if (t->queued)
		runq_remove(&sched_of(t->cpu)->q, t);
	if (st == TS_INACTIVE && running_elsewhere(t))
		stop_wait(t);
	const struct sched *cur_on = thread_running(t);
	if (cur_on)
		thread_kick(cpu_of(cur_on));
}

void thread_cancel_ipc(struct thread *t, err_t why)
{
	switch (t->state) {
	case TS_BLOCKED_SEND:
	case TS_BLOCKED_RECV:
		ep_cancel(t->blocked_on, t);
		break;
	case TS_BLOCKED_NOTIFY:
		ntfn_cancel(t->blocked_on, t);
		break;
	case TS_BLOCKED_REPLY:
		if (t->callee) {
			sched_charge_passive(t->callee);
			t->callee->caller = NULL;
		}
		t->callee = NULL;
		break;
	default:
		return;
	}
	if (t->fault_pending) {
		/* A fault or VM exit is transparent: the thread's registers
		 * stay as they were, and it faults or exits again when it next
		 * runs (an unknown system call by making it again).  A guest's
		 * hypercall returns the error, as a system call does. */
		t->fault_pending = false;
		if (t->fault_kind == KMSG_HCALL)
			*regs_gpr(&t->regs, HC_REG_RESULT) = why;
		else if (t->fault_label == FAULT_SYSCALL && t->fault_kind == KMSG_FAULT)
			arch_regs_restart_syscall(&t->regs);
		return;
	}
	thread_set_error(t, why);
}

void thread_suspend(struct thread *t)
{
	thread_cancel_ipc(t, E_CANCELLED);
	thread_block(t, TS_INACTIVE, NULL);
}

void thread_set_prio(struct thread *t, unsigned prio)
{
	struct sched *s = sched_of(t->cpu);
	bool q = t->queued;
	if (q)
		runq_remove(&s->q, t);
	t->prio = prio;
	if (q)
		runq_add(&s->q, t, false);
	thread_kick(t->cpu);
}

void thread_set_cpu(struct thread *t, unsigned cpu)
{
	unsigned from = t->cpu;
	struct sched *old = sched_of(from), *on;
	if (t->queued) {
		runq_remove(&old->q, t);
		t->cpu = cpu;
		thread_make_runnable(t);
	} else if ((on = thread_running(t))) {
		t->cpu = cpu; /* its CPU hands it over when it next chooses */
		thread_kick(cpu_of(on));
	} else {
		t->cpu = cpu;
	}
}

/* A thread's last capability is gone: take it out of everything. */
bool thread_destroy(struct obj *o)
{
	struct thread *t = (struct thread *)o;
	thread_suspend(t);
	if (t->caller) {
		struct thread *c = t->caller;
		thread_cancel_ipc(c, E_CANCELLED);
		thread_make_runnable(c);
	}
	if (t->bound)
		t->bound->bound = NULL;
	fair_threads -= t->weight != 0;
	t->weight = 0;
	cap_delete(&t->cspace);
	cap_delete(&t->fault_ep);
	if (running_elsewhere(t)) {
		/* That CPU may still save registers into it and walk its
		 * address space: it frees both once it has switched away
		 * (thread_free_dead), and this CPU waits for that before
		 * returning to user mode (kernel_exit). */
		t->dead = true;
		return false;
	}
	struct sched *on = thread_running(t);
	if (on)
		sched_switch_to(on, NULL); /* this CPU: it was the caller */
	thread_free_dead(t);
	return false;
}

void thread_free_dead(struct thread *t)
{
	ktimer_cancel(&t->bud.refill); /* a throttled thread waits for none now */
	if (t->vcpu)
		vcpu_unbind(t);
	if (t->as)
		obj_put(&t->as->o);
	t->as = NULL;
	fp_forget(t);
	thread_unlist(t);
	obj_free(&t->o);
}
