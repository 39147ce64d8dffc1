/* CPU hotplug: a CPU taken off line and brought back at run time.
 *
 * SYS_CPU_SET_ONLINE (x9 IRQ control, the system authority; x0 cpu, x1 1
 * on / 0 off; returns x0 1 on line, 0 off, 2 on its way (leaving or
 * starting): asked again, the same call says when it has got there).  Off: the CPU is marked leaving and kicked, and does
 * the rest itself, so that nothing of its own (its current thread, a
 * VCPU parked in its registers, its FP state) is touched from afar:
 *   - each pass through kernel_exit while leaving (hotplug_leave) hands
 *     every thread whose CPU it is to the next CPU on line (a thread with
 *     a fixed affinity keeps that one; its VCPU state, if parked here,
 *     goes to memory first), and its kernel timers too;
 *   - once it has nothing to run (hotplug_stop) it saves what its
 *     registers still hold for others, leaves the scheduler and stops
 *     (PSCI CPU_OFF).
 * Nothing is placed on a CPU that is not up (cpu_up): affinity, balancing
 * and wake-ups all go to CPUs on line.  On: arch_cpu_start again; the CPU
 * comes up as at boot (without the boot's timer self-test) and schedules.
 * CPU 0 stays on line: the devices' interrupts are routed to it. */
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/kernel.h"
#include "hyp/ktimer.h"
#include "hyp/panic.h"
#include "hyp/sched.h"
#include "hyp/syscall.h"
#include "vcpu/vcpu.h"

/* Ports without a way to stop a CPU (no CPU_OFF) keep these. */
__attribute__((weak)) bool arch_cpu_stoppable(void) { return false; }
__attribute__((weak)) void arch_cpu_stop(void) {}

bool cpu_up(unsigned c)
{
	return c < ncpus_online && cpus[c].online && !cpus[c].leaving;
}

static unsigned next_up(unsigned c)
{
	for (unsigned k = 1; k < ncpus_online; k++)
		if (cpu_up((c + k) % ncpus_online))
			return (c + k) % ncpus_online;
	return 0; /* CPU 0 never leaves */
}

err_t sys_cpu_set_online(struct thread *t)
{
	struct cap *c;
	uint64_t cpu = arg(t, 0), on = arg(t, 1);
	err_t e = lookup_cap(t, arg(t, REG_CAP), OBJ_IRQ_CONTROL, R_WRITE, &c);
	if (e)
		return e;
	if (cpu >= ncpus_online || on > 1)
		return E_RANGE;
	if (!arch_cpu_stoppable())
		return E_NOSYS;
	struct cpu *p = &cpus[cpu];
	if ((cpu == 0 && !on) || (on && p->leaving) || (!on && p->starting))
		return E_BUSY;
	if (on && !p->online && !p->starting) {
		/* until smp_secondary_main says it is up: set first, since
		 * that may be before arch_cpu_start returns */
		p->starting = true;
		e = arch_cpu_start(p);
		if (e)
			p->starting = false;
		if (e == E_BUSY) /* off the scheduler, not yet stopped: ask again */
			e = E_OK;
	}
	if (!on && p->online && !p->leaving) {
		p->leaving = true;
		thread_kick((unsigned)cpu);
	}
	set_ret(t, 0, p->leaving || p->starting || (on && !p->online) ? 2 : p->online);
	return e;
}

void hotplug_leave(unsigned cpu)
{
	unsigned to;
again:
	to = next_up(cpu);
	struct thread *t = threads_live;
	for (bool more = t != NULL; more; t = t->live_next, more = t != threads_live) {
		if (t->cpu != cpu)
			continue;
		/* parked here or in memory (vcpu_leave): no wait; were it to
		 * wait, the lock was dropped and the list may have changed */
		if (t->vcpu && !thread_running(t) && !vcpu_fetch(t->vcpu))
			goto again;
		thread_set_cpu(t, to);
	}
	if (!ktimer_lists[cpu])
		return;
	while (ktimer_lists[cpu]) /* arming elsewhere takes it off this list */
		ktimer_arm(ktimer_lists[cpu], to, ktimer_lists[cpu]->deadline);
	/* `to` sets its timer only as it leaves the kernel: asleep, it would
	 * sleep through these until something else woke it */
	thread_kick(to);
}

void hotplug_stop(unsigned cpu)
{
	struct cpu *c = &cpus[cpu];
	struct sched *s = sched_of(cpu);
	vcpu_evict(cpu);
	hotplug_leave(cpu); /* the evicted VCPU's timer */
	sched_charge(s, arch_timer_now());
	arch_timer_stop();
	s->timer_armed = s->slice_armed = false;
	c->active_as = NULL; /* its VMID is loaded again when it is back */
	__atomic_store_n(&c->online, false, __ATOMIC_RELEASE);
	c->leaving = false;
	bkl_unlock();
	arch_cpu_stop(); /* arch_cpu_stoppable() said it would not return */
	panic("cpu%u did not stop", cpu);
}
