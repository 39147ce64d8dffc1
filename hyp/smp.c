/* Secondary CPU bring-up and the per-CPU timer self-test. */
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/irq.h"
#include "hyp/kernel.h"
#include "hyp/kmem.h"
#include "hyp/printk.h"

struct cpu cpus[MAX_CPUS];
unsigned ncpus_online = 1;

_Static_assert(__builtin_offsetof(struct cpu, stack_top) == 0,
	       "entry code loads the stack pointer from offset 0");

#define CPU_STACK_ORDER 2 /* 16 KiB */

static void timer_irq(unsigned irq)
{
	(void)irq;
	arch_timer_stop();
	this_cpu()->timer_fired = arch_timer_now();
}

uint64_t timer_selftest(unsigned us)
{
	struct cpu *c = this_cpu();
	c->timer_fired = 0;
	irq_register(arch_timer_irq(), timer_irq);
	arch_irq_unmask(arch_timer_irq());
	uint64_t armed = arch_timer_now();
	arch_timer_oneshot(armed + arch_timer_freq() * us / 1000000);
	/* Test with interrupts masked, then wait: WFI wakes on a pending
	 * interrupt even while masked, so one arriving between the test and
	 * the WFI is not lost (it was, with interrupts enabled around WFI). */
	while (!__atomic_load_n(&c->timer_fired, __ATOMIC_RELAXED)) {
		arch_wait_for_interrupt();
		arch_irq_local_enable();
		arch_irq_local_disable();
	}
	return (c->timer_fired - armed) * 1000000 / arch_timer_freq();
}

_Noreturn void smp_secondary_main(struct cpu *c)
{
	/* The self-test takes the timer's handler: only while booting, before
	 * the boot CPU installs the scheduler's */
	if (c->was_online)
		printk("smp: cpu%u back on line\n", c->id);
	else
		printk("smp: cpu%u online (hwid 0x%lx), timer interrupt after %lu us\n",
		       c->id, c->hwid, timer_selftest(500));
	c->was_online = true;
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	c->starting = false;
	if (arch_user_pt_format())
		kernel_start_cpu();
	for (;;)
		arch_wait_for_interrupt();
}

/* Waits in naps of 100 us on this CPU's timer (its handler is still the
 * self-test's) rather than spinning: a host that emulates both CPUs then
 * runs the new one.  Spinning, the waiter took the host CPU that the new
 * CPU's thread needed beside a busy host, and under QEMU 7.2's -icount
 * (one host thread, round robin) riscv64's second hart never ran again
 * after its self-test armed its timer (docs/PERF.md, ipc_cross_cpu). */
static bool wait_online(struct cpu *c, uint64_t timeout_ticks)
{
	struct cpu *me = this_cpu();
	uint64_t start = arch_timer_now(), nap = arch_timer_freq() / 10000;
	while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE)) {
		uint64_t now = arch_timer_now();
		if (now - start > timeout_ticks)
			return false;
		me->timer_fired = 0;
		arch_timer_oneshot(now + nap);
		while (!__atomic_load_n(&me->timer_fired, __ATOMIC_RELAXED)) {
			arch_wait_for_interrupt();
			arch_irq_local_enable();
			arch_irq_local_disable();
		}
	}
	return true;
}

unsigned smp_boot(const struct boot_info *bi)
{
	unsigned next = 1;
	cpus[0].online = cpus[0].was_online = true;
	for (unsigned i = 0; i < bi->ncpus && next < MAX_CPUS; i++) {
		if (bi->cpu_hwid[i] == cpus[0].hwid)
			continue;
		struct cpu *c = &cpus[next];
		/* its stack on its own node, if that node has RAM */
		void *stack = kmem_alloc_node(bi->cpu_node[i], CPU_STACK_ORDER);
		if (!stack)
			stack = kmem_alloc_pages(CPU_STACK_ORDER);
		if (!stack) {
			printk("smp: no memory for cpu%u's stack\n", next);
			break;
		}
		c->stack_top = (uintptr_t)stack + (PAGE_SIZE << CPU_STACK_ORDER);
		c->id = next;
		c->hwid = bi->cpu_hwid[i];
		c->node = bi->cpu_node[i];
		err_t e = arch_cpu_start(c);
		if (e != E_OK || !wait_online(c, 5 * arch_timer_freq())) {
			printk("smp: cpu with hwid 0x%lx did not start (%s)\n",
			       c->hwid, e ? err_str(e) : "timeout");
			kmem_free_pages(stack, CPU_STACK_ORDER);
			continue;
		}
		next++;
	}
	ncpus_online = next;
	return next;
}
