/* Per-CPU data.  Each CPU reaches its own through the architecture's
 * per-CPU register (TPIDR_EL2, sscratch/tp, GS base). */
#pragma once
#include "hyp/dtb.h"

struct aspace;
struct thread;
struct vcpu;

/* A cache line each: no false sharing between CPUs, and cpus[n] is a
 * shift away (the exit path indexes it twice). */
struct cpu {
	_Alignas(64) uintptr_t stack_top;          /* first: entry code loads it (offset 0) */
	unsigned id;                  /* logical index, boot CPU is 0 */
	struct sched *sched;          /* sched_of(id), one load for the entry paths */
	uint64_t hwid;                /* MPIDR affinity / hart id / APIC id */
	volatile bool online;
	volatile bool leaving;        /* taken off line: it hands its threads on, then stops */
	volatile bool starting;       /* started again, not yet on line */
	bool was_online;              /* it has been on line before (hotplug.c) */
	unsigned node;                /* NUMA node: its allocations' first choice */
	volatile uint64_t timer_fired; /* timer count when its interrupt came */
	struct aspace *active_as;     /* address space whose VMID it holds */
	struct thread *fp_live;       /* whose FP state its registers hold (hyp/fp.c) */
	struct vcpu *vcpu_in;         /* the VCPU loaded and running here (vcpu/); while
				       * NULL the CPU is set up for native threads */
	struct vcpu *vcpu_hw;         /* whose state its registers hold (running or parked) */
	bool vcpu_fetch;              /* another CPU waits for vcpu_hw in memory */
};

extern struct cpu cpus[MAX_CPUS];
extern unsigned ncpus_online; /* CPUs started at boot: cpus[0..ncpus_online) */

/* CPU hotplug (hotplug.c): whether CPU c is on line and staying, so that
 * threads may be placed there; while cpus[c].leaving, c's kernel_exit
 * hands its threads on (hotplug_leave) and, with nothing left to run,
 * stops (hotplug_stop, which does not return). */
bool cpu_up(unsigned c);
void hotplug_leave(unsigned cpu);
_Noreturn void hotplug_stop(unsigned cpu);

struct cpu *this_cpu(void);

/* Bring up every CPU in bi except the boot CPU; returns how many answered. */
unsigned smp_boot(const struct boot_info *bi);
/* Called by each secondary CPU once its architecture state is set up. */
_Noreturn void smp_secondary_main(struct cpu *c);
/* Arm this CPU's one-shot timer `us` from now and wait for its interrupt:
 * proves interrupt controller and timer work on this CPU. */
uint64_t timer_selftest(unsigned us);
