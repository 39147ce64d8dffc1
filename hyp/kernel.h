/* Kernel entry from user mode and the way back.
 *
 * One big kernel lock (bkl) covers all kernel state on SMP: each CPU takes
 * it on entry from user mode and drops it on the way out, and the idle loop
 * holds it only while it looks at its run queue.  The IPC fast paths share
 * it instead (hyp/bkl.h).  Lock order: bkl, then an endpoint's or a
 * notification's lock (contended only between CPUs that share bkl), then
 * kernel_pt_lock, then printk_lock.  The kernel is not preemptible: it runs
 * with interrupts masked and takes pending ones only in the idle loop. */
#pragma once
#include "hyp/bkl.h"
#include "hyp/thread.h"

/* Whether t's entry into the kernel is void: while it waited for the lock,
 * another CPU suspended, destroyed or moved it (or blocked it, which only
 * the lifecycle allows for a thread that is not running: never).  Nothing
 * it asked for may then happen; the trap is taken again when it next runs. */
static inline bool kernel_entry_void(const struct thread *t, unsigned cpu)
{
	return __builtin_expect(t->state != TS_RUNNABLE || t->cpu != cpu, 0);
}

/* Entries, called by the architecture's trap code for the current thread,
 * whose registers it has saved in t->regs.  None returns. */
/* A system call once the fast paths (the port's entry: ipc/fastpath.h,
 * fastpath_entry) have declined, with the big lock held whole. */
_Noreturn void kernel_syscall_general(struct thread *t, unsigned cpu);
_Noreturn void kernel_fault(struct thread *t, enum fault_label l, uint64_t addr,
			    uint64_t syndrome, bool write);
_Noreturn void kernel_fp_unavailable(struct thread *t);
_Noreturn void kernel_interrupt(void (*handle)(void));
/* Run t, this CPU's current thread now (bkl held; the fast paths). */
_Noreturn void kernel_enter(struct thread *t, unsigned cpu);
/* Choose a thread and run it, or idle until there is one (bkl held). */
_Noreturn void kernel_exit(void);
/* Start scheduling on this CPU (boot path). */
_Noreturn void kernel_start_cpu(void);
/* The current thread on this CPU. */
struct thread *kernel_current(void);

extern unsigned idle_poll_us; /* an idle CPU's poll before WFI (cairn.idle_poll=off: 0) */
