/* Starting application processors: copy the real-mode trampoline
 * (trampoline.S) below 1 MiB, tell it the boot page tables, stack and
 * struct cpu, and send INIT-SIPI-SIPI. */
#include "arch/x86_64/x86.h"
#include "hyp/arch.h"
#include "hyp/string.h"

extern char ap_trampoline[], ap_trampoline_end[];
extern char boot_pml4[];

/* Fields at the trampoline's end, filled in for each AP (trampoline.S). */
struct tramp_args {
	uint64_t cr3;
	uint64_t cpu;
	uint64_t entry;
};

_Noreturn void x86_secondary(struct cpu *c);

err_t arch_cpu_start(struct cpu *c)
{
	size_t n = ap_trampoline_end - ap_trampoline;
	uint8_t *page = phys_to_virt(TRAMPOLINE_PA);
	memcpy(page, ap_trampoline, n);
	struct tramp_args *a = (struct tramp_args *)(page + n - sizeof(*a));
	a->cr3 = (uintptr_t)boot_pml4 - KERNEL_VBASE;
	a->cpu = (uintptr_t)c;
	a->entry = (uintptr_t)x86_secondary;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_send_init_sipi((uint32_t)c->hwid, TRAMPOLINE_PA >> 12);
	return E_OK;
}

/* CPU hotplug: a PC has no call by which a CPU stops itself, but INIT
 * from another resets one wherever it is, and INIT-SIPI-SIPI
 * (arch_cpu_start) starts it again at the trampoline, as at boot.  So the
 * leaving CPU only halts, interrupts masked (an NMI wakes HLT: it halts
 * again), and has nothing of the kernel's in hand by then (the lock
 * dropped, its state saved by hotplug_stop), so the INIT may come at any
 * moment. */
bool arch_cpu_stoppable(void) { return true; }

void arch_cpu_stop(void)
{
	x86_hv_fini_cpu(); /* VMX root operation blocks INIT */
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

/* The trampoline jumps here in long mode on the boot tables, own stack. */
_Noreturn void x86_secondary(struct cpu *c)
{
	x86_cpu_setup(c);
	x86_mmu_enable();
	arch_irq_init_cpu();
	smp_secondary_main(c);
}
