/* Declarations shared between the aarch64 files (not part of the arch
 * interface: generic code never includes this). */
#pragma once
#include "hyp/cpu.h"

struct trap_frame {
	uint64_t x[31];
	uint64_t sp, elr, spsr, esr, far;
};
_Static_assert(sizeof(struct trap_frame) == 36 * 8, "vectors.S FRAME_SIZE");

void aarch64_cpu_setup(struct cpu *c);
void aarch64_mmu_enable(void);
void gic_handle_irq(void);
void psci_init(enum psci_conduit conduit);

struct thread;
struct arch_regs;
void aarch64_vcpu_init_cpu(uint64_t mdcr);
_Noreturn void aarch64_guest_trap(struct thread *t, struct arch_regs *r, unsigned ec, unsigned cpu);
