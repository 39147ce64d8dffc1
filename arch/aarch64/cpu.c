/* CPU control at EL2: per-CPU register state, PSCI power management. */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/sysreg.h"
#include "hyp/arch.h"
#include "hyp/printk.h"

#define PSCI_CPU_ON 0xc4000003u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_CPU_OFF 0x84000002u

static enum psci_conduit psci;
extern char el2_vectors[];
extern char secondary_entry[];

const char *arch_name(void) { return "aarch64 at EL2"; }

void arch_cpu_describe(char *buf, size_t len)
{
	static const unsigned pa_bits[] = { 32, 36, 40, 42, 44, 48, 52, 52 };
	uint64_t mmfr0 = read_sysreg(id_aa64mmfr0_el1);
	uint64_t mmfr1 = read_sysreg(id_aa64mmfr1_el1);
	static const char *const conduit[] = { "none", "smc", "hvc" };
	snprintf(buf, len, "psci %s, %u-bit PA, %u-bit VMID, VHE %s",
		 conduit[psci], pa_bits[mmfr0 & 7],
		 ((mmfr1 >> 4) & 0xf) == 2 ? 16 : 8,
		 ((mmfr1 >> 8) & 0xf) ? "present (unused)" : "absent");
}

struct cpu *this_cpu(void) { return (struct cpu *)read_sysreg(tpidr_el2); }
unsigned arch_cpu_id(void) { return this_cpu() ? this_cpu()->id : 0; }
uint64_t arch_cpu_hwid(void) { return read_sysreg(mpidr_el1) & 0xff00ffffffull; }

void arch_cpu_relax(void) { __asm__ volatile("yield"); }
void arch_irq_local_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
void arch_irq_local_disable(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
void arch_wait_for_interrupt(void) { __asm__ volatile("dsb sy; wfi" ::: "memory"); }

_Noreturn void arch_halt(void)
{
	for (;;)
		__asm__ volatile("msr daifset, #0xf; wfi");
}

/* EL2 state every CPU needs before it runs C with interrupts. */
void aarch64_cpu_setup(struct cpu *c)
{
	write_sysreg(vbar_el2, (uintptr_t)el2_vectors);
	write_sysreg(tpidr_el2, (uintptr_t)c);
	/* Physical IRQ/FIQ/SError are taken to EL2; lower ELs are AArch64. */
	write_sysreg(hcr_el2, HCR_EL2_RW | HCR_EL2_AMO | HCR_EL2_IMO | HCR_EL2_FMO);
	write_sysreg(cptr_el2, 0x33ff);  /* no FP/SIMD traps (RES1 bits set) */
	write_sysreg(cnthctl_el2, 3);    /* EL0/EL1 may use the physical counter and
					  * timer (guests may not: arch/aarch64/vcpu.c) */
	write_sysreg(cntvoff_el2, 0);
	isb();
}

void psci_init(enum psci_conduit conduit) { psci = conduit; }

static int64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn, x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2, x3 __asm__("x3") = a3;
	if (psci == PSCI_HVC)
		__asm__ volatile("hvc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3) : "memory");
	else if (psci == PSCI_SMC)
		__asm__ volatile("smc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3) : "memory");
	else
		return -1; /* NOT_SUPPORTED */
	return (int64_t)x0;
}

_Noreturn void arch_poweroff(void)
{
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	arch_halt(); /* no PSCI: stop here */
}

err_t arch_cpu_start(struct cpu *c)
{
	int64_t r = psci_call(PSCI_CPU_ON, c->hwid, (uintptr_t)secondary_entry,
			      (uintptr_t)c);
	return r == 0 ? E_OK : r == -2 ? E_INVAL : r == -4 ? E_BUSY : E_NOENT; /* -4: ALREADY_ON */
}

bool arch_cpu_stoppable(void) { return psci != PSCI_NONE; }

/* PSCI CPU_OFF: the CPU powers down; CPU_ON starts it at secondary_entry
 * again, with its stack and its struct cpu. */
void arch_cpu_stop(void)
{
	arch_irq_local_disable();
	psci_call(PSCI_CPU_OFF, 0, 0, 0);
}

/* secondary_entry (head.S) calls this with the MMU off and its own stack. */
_Noreturn void aarch64_secondary(struct cpu *c)
{
	aarch64_cpu_setup(c);
	aarch64_mmu_enable();
	arch_irq_init_cpu();
	smp_secondary_main(c);
}

/* EL2 is entered with HCR_EL2 set (aarch64_cpu_setup): nothing more yet. */
void arch_virt_init(void) {}
