/* Kernel entry from user mode, scheduling on the way out, and idling. */
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/fp.h"
#include "hyp/irq.h"
#include "hyp/kernel.h"
#include "hyp/printk.h"
#include "hyp/sched.h"
#include "hyp/syscall.h"
#include "ipc/ipc.h"
#include "mm/aspace.h"

spinlock_t bkl = SPINLOCK_INIT;

struct thread *kernel_current(void) { return sched_of(arch_cpu_id())->cur; }

/* Load t's address space and registers and leave the kernel. */
static _Noreturn void enter(struct thread *t, unsigned cpu)
{
	fp_switch(t, cpu);
	unsigned vmid = aspace_activate(t->as, cpu);
	paddr_t root = t->as->pt.root_pa;
	spin_unlock(&bkl);
	arch_user_enter(&t->regs, root, vmid);
}

_Noreturn void kernel_syscall(struct thread *t, unsigned cpu)
{
	spin_lock(&bkl);
	struct thread *next = ipc_fastpath(t, cpu);
	if (next)
		enter(next, cpu);
	syscall_dispatch(t);
	kernel_exit();
}

_Noreturn void kernel_fault(struct thread *t, enum fault_label l, uint64_t addr,
			    uint64_t syndrome, bool write)
{
	spin_lock(&bkl);
	t->fault_label = l;
	t->fault[0] = addr;
	t->fault[1] = arch_regs_pc(&t->regs);
	t->fault[2] = syndrome;
	t->fault[3] = write;
	if (!fault_send(t)) {
		printk("cairn: thread fault %u at 0x%lx (pc 0x%lx, syndrome 0x%lx), no fault "
		       "endpoint: suspended\n", l, addr, t->fault[1], syndrome);
		thread_suspend(t);
	}
	kernel_exit();
}

/* First FP access: the thread gets FP state, and the way out loads it. */
_Noreturn void kernel_fp_unavailable(struct thread *t)
{
	spin_lock(&bkl);
	fp_first_use(t);
	kernel_exit();
}

_Noreturn void kernel_interrupt(void (*handle)(void))
{
	spin_lock(&bkl);
	handle();
	kernel_exit();
}

static void idle(void)
{
	spin_unlock(&bkl);
	arch_wait_for_interrupt(); /* wakes on a pending interrupt, masked or not */
	spin_lock(&bkl);
	arch_irq_local_enable();   /* take it here, with the lock held */
	arch_irq_local_disable();
}

_Noreturn void kernel_exit(void)
{
	unsigned cpu = arch_cpu_id();
	struct sched *s = sched_of(cpu);
	uint64_t slice = arch_timer_freq() / 1000000 * TIMESLICE_US;
	for (;;) {
		obj_reap();
		struct thread *prev = s->cur;
		sched_choose(s);
		if (prev && prev->dead && prev != s->cur) {
			fp_forget(prev);
			obj_free(&prev->o);
		}
		struct thread *t = s->cur;
		sched_program_timer(s, arch_timer_now(), slice);
		if (t)
			enter(t, cpu);
		fp_switch(NULL, cpu); /* an idle CPU holds no thread's state */
		idle();
	}
}

static void timer_tick(unsigned irq)
{
	(void)irq;
	sched_timer_tick(sched_of(arch_cpu_id()), arch_timer_now());
}

static void ipi(unsigned irq) { (void)irq; /* entering the kernel was the point */ }

/* The boot CPU goes first: the secondaries wait until it has taken the
 * timer from the boot self-tests and made the root task. */
static volatile bool started;
extern char boot_stack_top[];

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
	}
	while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	arch_user_init_cpu();
	arch_irq_unmask(arch_timer_irq());
	arch_irq_unmask(arch_ipi_irq());
	spin_lock(&bkl);
	kernel_exit();
}
