/* Kernel entry from user mode, scheduling on the way out, and idling. */
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/fp.h"
#include "hyp/panic.h"
#include "hyp/irq.h"
#include "hyp/kernel.h"
#include "hyp/ktimer.h"
#include "hyp/printk.h"
#include "hyp/sched.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"
#include "mm/aspace.h"
#include "vcpu/vcpu.h"

spinlock_t bkl = SPINLOCK_INIT;

struct thread *kernel_current(void) { return sched_of(arch_cpu_id())->cur; }

/* Load t's address space and registers and leave the kernel. */
_Noreturn void kernel_enter(struct thread *t, unsigned cpu)
{
	fp_switch(t, cpu);
	/* The space first: a VCPU's load may flush its VMID's guest entries
	 * (riscv64), so the VMID must be the one it runs with. */
	unsigned vmid = aspace_activate(t->as, cpu);
	vcpu_switch(t, cpu);
	paddr_t root = t->as->pt.root_pa;
	bkl_unlock();
	arch_user_enter(&t->regs, root, vmid);
}

_Noreturn void kernel_syscall_general(struct thread *t, unsigned cpu)
{
	if (kernel_entry_void(t, cpu)) {
		arch_regs_restart_syscall(&t->regs);
		kernel_exit();
	}
	syscall_dispatch(t);
	kernel_exit();
}

_Noreturn void kernel_fault(struct thread *t, enum fault_label l, uint64_t addr,
			    uint64_t syndrome, bool write)
{
	bkl_lock();
	if (kernel_entry_void(t, arch_cpu_id()))
		kernel_exit(); /* the instruction faults again when it runs */
	t->fault_label = l;
	t->fault_kind = KMSG_FAULT;
	t->fault_len = 4;
	t->fault[0] = addr;
	t->fault[1] = arch_regs_pc(&t->regs);
	t->fault[2] = syndrome;
	t->fault[3] = write;
	if (!fault_send(t)) {
		printk("cairn: thread fault %u at 0x%lx (pc 0x%lx, syndrome 0x%lx), no fault "
		       "endpoint: suspended\n", (unsigned)l, addr, t->fault[1], syndrome);
		thread_suspend(t);
	}
	kernel_exit();
}

/* First FP access: the thread gets FP state, and the way out loads it. */
_Noreturn void kernel_fp_unavailable(struct thread *t)
{
	bkl_lock();
	if (!kernel_entry_void(t, arch_cpu_id()))
		fp_first_use(t);
	kernel_exit();
}

_Noreturn void kernel_interrupt(void (*handle)(void))
{
	bkl_lock();
	handle();
	kernel_exit();
}

/* A CPU that suspended or destroyed a thread current on another CPU waits,
 * lock dropped, until that CPU has left it (and freed it, if it is dead)
 * before it returns to user mode.  So a suspend is complete when it
 * returns: the thread's registers are saved and will not be overwritten by
 * a late trap, and a delete returns with the memory back and the accounts
 * exact.  It waits for its own stops alone (s->stops): were every CPU to
 * wait for every stop, a task stopping threads on one CPU would hold up
 * the way out of every other, each time for as long as the stopped
 * thread's CPU takes to answer its kick (on a busy host, until the host
 * runs that virtual CPU again).  A waiting CPU whose own
 * chosen thread is stopped meanwhile stops waiting and chooses again
 * (kernel_exit's loop), so no two CPUs wait for each other.  Only this CPU
 * changes its current thread, so reading it unlocked is safe. */
static void await_stopping(struct sched *s)
{
	fp_assert_own(s->cur, s->cpu);
	bkl_unlock();
	while (__atomic_load_n(&s->stops, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&s->cur->stop_waiters, __ATOMIC_RELAXED)) {
		vcpu_serve_fetch_unlocked(s->cpu); /* the stopping CPU may wait for it */
		arch_cpu_relax();
	}
	bkl_lock();
}

/* An idle CPU watches for work for a moment before it sleeps, as Linux's
 * haltpoll does in guests: another CPU's wake-up (a kick sets resched
 * before its IPI) is then seen without the IPI, and a virtual CPU that
 * sleeps must be woken by its host, which a busy host does slowly.  A hop
 * of the SMP token ring beside a CPU hog went from 1.1 ms to 0.7 ms with
 * this (tools/busy-ratio, docs/PERF.md); longer polls cost quiet time. */
#define IDLE_POLL_US 30
/* cairn.idle_poll=off: no poll, straight to WFI.  make bench's -icount
 * boot on 2 CPUs takes it on riscv64, where QEMU's round robin counts every
 * polled instruction as the round trip's time: no RISC-V instruction ends
 * a CPU's turn there as AArch64's yield does (docs/PERF.md). */
unsigned idle_poll_us = IDLE_POLL_US;

static void idle(struct sched *s)
{
	bkl_unlock();
	uint64_t end = arch_timer_now() + arch_timer_freq() / 1000000 * idle_poll_us;
	/* the counter every 64 turns: under TCG each read takes QEMU's global
	 * lock, which the other CPUs' device accesses and completions wait for */
	for (unsigned i = 0; !__atomic_load_n(&s->resched, __ATOMIC_RELAXED) &&
			     (i % 64 || arch_timer_now() < end); i++)
		arch_cpu_relax();
	if (!__atomic_load_n(&s->resched, __ATOMIC_RELAXED))
		arch_wait_for_interrupt(); /* wakes on a pending interrupt, masked or not */
	bkl_lock();
	arch_irq_local_enable();   /* take it here, with the lock held */
	arch_irq_local_disable();
}

_Noreturn void kernel_exit(void)
{
	unsigned cpu = arch_cpu_id();
	struct sched *s = sched_of(cpu);
	uint64_t slice = arch_timer_freq() / 1000000 * TIMESLICE_US;
	for (;;) {
		if (__atomic_load_n(&panicked, __ATOMIC_ACQUIRE))
			arch_halt();
		obj_reap();
		if (cpus[cpu].vcpu_fetch)
			vcpu_serve_fetch(cpu);
		if (cpus[cpu].leaving) {
			fp_keep_only(s->cur, cpu); /* it may wait (vcpu_fetch): as below */
			hotplug_leave(cpu);
		}
		struct thread *prev = s->cur;
		sched_choose(s);
		if (prev && prev->dead && prev != s->cur) {
			thread_free_dead(prev);
			continue; /* reap its address space, if that was the last */
		}
		struct thread *t = s->cur;
		if (!t && !cpus[cpu].leaving && balance_pull(cpu))
			continue; /* work from a busier CPU */
		if (t && s->stops) {
			/* the thread left, still the registers' (kernel_enter
			 * would save it), is saved first: with the lock dropped
			 * another CPU may free or run it */
			fp_keep_only(t, cpu);
			await_stopping(s);
			continue;
		}
		sched_program_timer(s, arch_timer_now(), slice);
		if (t)
			kernel_enter(t, cpu);
		fp_switch(NULL, cpu); /* an idle CPU holds no thread's state */
		if (cpus[cpu].leaving)
			hotplug_stop(cpu);
		idle(s);
	}
}

static void timer_tick(unsigned irq)
{
	(void)irq;
	unsigned cpu = arch_cpu_id();
	uint64_t now = arch_timer_now();
	sched_timer_tick(sched_of(cpu), now);
	balance_push(cpu);
	ktimer_expire(cpu, now);
}

static void ipi(unsigned irq) { (void)irq; /* entering the kernel was the point */ }

/* The boot CPU goes first: the secondaries wait until it has taken the
 * timer from the boot self-tests and made the root task. */
static volatile bool started;
extern char boot_stack_top[];
/* Secondaries that have started scheduling.  At boot CPU 0 waits for
 * them before it runs the root task, so that each takes the big lock for
 * the first time while nobody else wants it and is then idle.  Under
 * QEMU's round-robin -icount (make bench with -smp 2) a secondary whose
 * first lock met the lock held spun out every turn it was given: the
 * benchmarks counted its spinning, and broadcast TLB invalidations, which
 * QEMU completes only with every CPU's cooperation, took minutes. */
static unsigned secondaries_started;

_Noreturn void kernel_start_cpu(void)
{
	if (arch_cpu_id() == 0) {
		/* the boot stack becomes CPU 0's kernel stack: traps from user
		 * mode start on an empty one */
		this_cpu()->stack_top = (uintptr_t)boot_stack_top;
		irq_register(arch_timer_irq(), timer_tick);
		irq_register(arch_ipi_irq(), ipi);
		irq_reserve(arch_timer_irq());
		irq_reserve(arch_ipi_irq());
		__atomic_store_n(&started, true, __ATOMIC_RELEASE);
		while (__atomic_load_n(&secondaries_started, __ATOMIC_ACQUIRE) < ncpus_online - 1)
			arch_cpu_relax();
	}
	while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	unsigned cpu = arch_cpu_id();
	/* under the lock: the secondaries come here together, and a port's
	 * set-up may allocate (x86_64's VMCB pages: three CPUs in buddy_alloc
	 * at once corrupted its free list, root-fuzz-smp4 1 boot in 10) */
	bkl_lock();
	arch_user_init_cpu();
	arch_irq_unmask(arch_timer_irq());
	arch_irq_unmask(arch_ipi_irq());
	sched_start(sched_of(cpu), cpu, arch_timer_now());
	cpus[cpu].sched = sched_of(cpu);
	sched_of(cpu)->fastpath_off = !ipc_fastpath_on;
	if (cpu)
		__atomic_add_fetch(&secondaries_started, 1, __ATOMIC_RELEASE);
	kernel_exit();
}
