/* Thread invocations: configure, registers, priority, affinity, resume,
 * suspend, notification binding, name; and the statistics a monitor reads
 * (threads' and CPUs'). */
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/sched.h"
#include "hyp/string.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"
#include "mm/aspace.h"
#include "vcpu/vcpu.h"

static err_t target(struct thread *t, unsigned rights, struct thread **out)
{
	struct cap *c;
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_THREAD, rights, &c);
	if (!e)
		*out = (struct thread *)c->obj;
	return e;
}

/* Optional capability argument: 0 leaves the setting as it is. */
static err_t optional(struct thread *t, cptr_t c, enum obj_type type, unsigned rights,
		      struct cap **out)
{
	*out = NULL;
	return c ? lookup_cap(t, c, type, rights, out) : E_OK;
}

/* Replace a thread's capability slot with a copy (child) of `c`. */
static void set_slot(struct cap *slot, struct cap *c)
{
	cap_delete(slot);
	obj_get(c->obj);
	cap_install(slot, c, c);
}

err_t sys_thread_configure(struct thread *t)
{
	struct thread *th;
	struct cap *cs, *as, *fep;
	err_t e;
	if ((e = target(t, R_WRITE, &th)) ||
	    (e = optional(t, arg(t, 0), OBJ_CNODE, R_WRITE, &cs)) ||
	    (e = optional(t, arg(t, 1), OBJ_ASPACE, R_WRITE, &as)) ||
	    (e = optional(t, arg(t, 2), OBJ_ENDPOINT, R_WRITE, &fep)))
		return e;
	if (as && ((struct aspace *)as->obj)->io)
		return E_INVAL; /* devices' space: no thread runs in it */
	if (as && th->vcpu && !aspace_guest_ok((struct aspace *)as->obj))
		return E_INVAL; /* its VCPU's hardware cannot walk it (x86 VMX: not AS_GUEST) */
	if (th->state != TS_INACTIVE || thread_running(th))
		return E_BUSY; /* suspend it first (or let its suspend finish) */
	if (cs) {
		set_slot(&th->cspace, cs);
		thread_cspace_set(th);
	}
	if (fep)
		set_slot(&th->fault_ep, fep);
	if (as) {
		if (th->as)
			obj_put(&th->as->o);
		th->as = (struct aspace *)as->obj;
		obj_get(as->obj);
	}
	return E_OK;
}

err_t sys_thread_write_regs(struct thread *t)
{
	struct thread *th;
	err_t e = target(t, R_WRITE, &th);
	if (e)
		return e;
	if (th == t)
		return E_INVAL; /* its registers are this call's arguments */
	if (thread_running(th))
		return E_BUSY; /* its next trap would overwrite them */
	arch_regs_set_pc(&th->regs, arg(t, 0));
	arch_regs_set_sp(&th->regs, arg(t, 1));
	*regs_gpr(&th->regs, 0) = arg(t, 2);
	*regs_gpr(&th->regs, 1) = arg(t, 3);
	return E_OK;
}

err_t sys_thread_read_regs(struct thread *t)
{
	struct thread *th;
	err_t e = target(t, R_READ, &th);
	if (e)
		return e;
	uint64_t v[5] = { arch_regs_pc(&th->regs), arch_regs_sp(&th->regs),
			  *regs_gpr(&th->regs, 0), *regs_gpr(&th->regs, 1), th->state };
	for (unsigned i = 0; i < 5; i++)
		set_ret(t, i, v[i]);
	return E_OK;
}

err_t sys_thread_set_priority(struct thread *t)
{
	struct thread *th;
	err_t e = target(t, R_WRITE, &th);
	uint64_t prio = arg(t, 0), mcp = arg(t, 1);
	if (e)
		return e;
	if (prio >= PRIO_LEVELS || mcp >= PRIO_LEVELS)
		return E_INVAL;
	if (prio > t->mcp || mcp > t->mcp)
		return E_PRIO;
	th->mcp = mcp;
	thread_set_prio(th, prio);
	return E_OK;
}

/* Its share among the threads of its priority level (hyp/fair.c).  It
 * starts level with the thread it joins, rather than owed its past. */
err_t sys_thread_set_weight(struct thread *t)
{
	struct thread *th;
	err_t e = target(t, R_WRITE, &th);
	uint64_t w = arg(t, 0);
	if (e)
		return e;
	if (w > FAIR_WEIGHT_MAX)
		return E_RANGE;
	fair_threads += (w != 0) - (th->weight != 0);
	th->weight = (uint32_t)w;
	th->voff = 0;
	return E_OK;
}

/* At most `budget` microseconds of CPU in every `period`, or passive:
 * serving a call, on its caller's time (hyp/budget.c). */
err_t sys_thread_set_budget(struct thread *t)
{
	struct thread *th;
	err_t e = target(t, R_WRITE, &th);
	uint64_t budget = arg(t, 0), period = arg(t, 1), per_us = arch_timer_freq() / 1000000;
	bool passive = !budget && period == BUDGET_PASSIVE;
	if (e)
		return e;
	if ((budget || period) && !passive &&
	    (period < BUDGET_PERIOD_MIN_US || period > BUDGET_PERIOD_MAX_US || !budget ||
	     budget > period))
		return E_RANGE;
	if (passive)
		budget = period = 0;
	budget_set(th, budget * per_us, period * per_us, passive, arch_timer_now());
	const struct sched *on = thread_running(th);
	if (on) /* its CPU arms the timer for it as it next chooses */
		thread_kick(on->cpu);
	return E_OK;
}

err_t sys_thread_set_affinity(struct thread *t)
{
	struct thread *th;
	err_t e = target(t, R_WRITE, &th);
	uint64_t cpu = arg(t, 0);
	if (e)
		return e;
	if (cpu == AFFINITY_ANY) { /* it stays where it is until balancing moves it */
		th->floating = true;
		return E_OK;
	}
	if (cpu >= ncpus_online || !cpu_up((unsigned)cpu))
		return E_INVAL; /* not a CPU, or one off line */
	th->floating = false;
	/* A parked VCPU's state stays with its thread's CPU (vcpu/vcpu.h); a
	 * running one is saved as it leaves. */
	if (th->vcpu && !thread_running(th) && !vcpu_fetch(th->vcpu))
		return E_RESTART;
	thread_set_cpu(th, (unsigned)cpu);
	return E_OK;
}

err_t sys_thread_resume(struct thread *t)
{
	struct thread *th;
	err_t e = target(t, R_WRITE, &th);
	if (e)
		return e;
	if (!th->as || cap_empty(&th->cspace))
		return E_INVAL; /* not configured */
	if (th->state == TS_INACTIVE)
		thread_make_runnable(th);
	return E_OK;
}

err_t sys_thread_suspend(struct thread *t)
{
	struct thread *th;
	err_t e = target(t, R_WRITE, &th);
	if (e)
		return e;
	thread_suspend(th);
	return E_OK;
}

err_t sys_thread_bind_notification(struct thread *t)
{
	struct thread *th;
	struct cap *n;
	err_t e;
	if ((e = target(t, R_WRITE, &th)) ||
	    (e = optional(t, arg(t, 0), OBJ_NOTIFICATION, R_READ, &n)))
		return e;
	if (!n) {
		if (th->bound)
			th->bound->bound = NULL;
		th->bound = NULL;
		return E_OK;
	}
	struct notification *nt = (struct notification *)n->obj;
	if (th->bound || nt->bound || nt->vcpu)
		return E_BUSY;
	th->bound = nt;
	nt->bound = th;
	return E_OK;
}

/* A name for monitors (SYS_STATS_THREAD): 16 bytes, x0 then x1, each
 * little-endian, as the kernel's architectures all are. */
err_t sys_thread_set_name(struct thread *t)
{
	struct thread *th;
	err_t e = target(t, R_WRITE, &th);
	if (e)
		return e;
	uint64_t w[2] = { arg(t, 0), arg(t, 1) };
	memcpy(th->name, w, sizeof(th->name));
	return E_OK;
}

/* --- Statistics for a monitor -------------------------------------------
 * Per CPU its idle and busy time; per thread its CPU time, messages and
 * (running a guest) exits by kind.  The counters are kept where the work
 * is done (sched_charge, the IPC paths, vcpu_count); these calls only read
 * them, under the big lock, so a thread on the list is never freed while
 * it is read.  Reading needs the IRQ control capability, the system
 * authority: the figures describe every task. */

static err_t authority(struct thread *t)
{
	struct cap *c;
	return lookup_cap(t, arg(t, REG_CAP), OBJ_IRQ_CONTROL, R_READ, &c);
}

static void set_rets(struct thread *t, const uint64_t v[5])
{
	for (unsigned i = 0; i < 5; i++)
		set_ret(t, i, v[i]);
}

/* Figures as of now: the interval in progress is counted too, so that
 * idle + busy is exactly now - start. */
err_t sys_stats_cpu(struct thread *t)
{
	err_t e = authority(t);
	uint64_t cpu = arg(t, 0);
	if (e)
		return e;
	if (cpu >= ncpus_online)
		return E_RANGE;
	const struct sched *s = sched_of(cpu);
	uint64_t now = arch_timer_now();
	uint64_t idle = s->idle + (s->cur ? 0 : now - s->slice_start);
	uint64_t v[5] = { now, idle, now - s->start - idle, s->cur ? s->cur->id : 0,
			  arch_timer_freq() };
	set_rets(t, v);
	return E_OK;
}

/* Its CPU time, with the interval in progress wherever it pays for one:
 * its own, or a passive server's it called (not a passive one's own while
 * it serves: that is its caller's). */
static uint64_t ticks_now(const struct thread *th)
{
	uint64_t ticks = th->ticks, now = arch_timer_now();
	for (unsigned i = 0; i < ncpus_online; i++) {
		const struct sched *s = sched_of(i);
		struct thread *cur = s->cur;
		uint64_t start = s->slice_start; /* a fast path there may switch meanwhile */
		if (cur && sched_payer(cur) == th && now > start)
			ticks += now - start;
	}
	return ticks;
}

static uint64_t exits(const struct thread *th, unsigned first, unsigned n)
{
	uint64_t sum = 0;
	for (unsigned i = first; th->vcpu && i < first + n; i++)
		sum += ((volatile const uint64_t *)th->vcpu->counts)[i];
	return sum;
}

static void stats_page(const struct thread *th, uint64_t page, uint64_t v[5])
{
	uint64_t name[2];
	memcpy(name, th->name, sizeof(name));
	v[0] = th->id;
	switch (page) {
	case STATS_SCHED:
		v[1] = name[0], v[2] = name[1], v[3] = ticks_now(th);
		v[4] = th->state | th->cpu << 8 | (uint64_t)th->prio << 16 |
		       (thread_running(th) ? STATS_RUNNING : 0) | (th->vcpu ? STATS_VCPU : 0);
		break;
	case STATS_IPC:
		v[1] = th->ipc_sent, v[2] = exits(th, 0, VC_IRQ), v[3] = exits(th, VC_IRQ, 1);
		break;
	case STATS_EXITS:
		v[1] = exits(th, vc_label(VMEXIT_DATA_ABORT), 2);
		v[2] = exits(th, vc_label(VMEXIT_HVC), 2);
		v[3] = exits(th, vc_label(VMEXIT_SYSREG), 1);
		v[4] = exits(th, VC_WAIT, 1);
		break;
	default:
		v[1] = exits(th, vc_label(VMEXIT_OTHER), 1);
		break;
	}
}

err_t sys_stats_thread(struct thread *t)
{
	err_t e = authority(t);
	uint64_t page = arg(t, 1);
	if (e)
		return e;
	if (page >= STATS_PAGES)
		return E_INVAL;
	const struct thread *th = thread_nth(arg(t, 0));
	if (!th)
		return E_RANGE;
	uint64_t v[5] = { 0 };
	stats_page(th, page, v);
	set_rets(t, v);
	return E_OK;
}
