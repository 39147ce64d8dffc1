/* What native servers need of the ISA (x86_64), included by
 * servers/lib/sys.h: the system-call traps with the ABI's registers, the
 * counters, and what ring 3 lacks (a timer of its own).
 *
 * Registers by role (include/cairn/abi.h, docs/ABI.md): message words
 * rdi rsi rdx r10 r8 r9 r12 r13, number/error rax, capability/badge rbx,
 * info r14, capabilities sent rbp rcx r11, receive slot r15.  Two ways in:
 * `int $0x80` carries every role (x86_sys in crt0.S, behind sys()), and
 * `syscall`, which destroys rcx and r11 on the way in and out, carries all
 * but the second and third capability sent: the IPC stubs below use it. */
#pragma once

/* What the root task's tests may use of this ISA (cairn/abi.h UARCH_HAS_*):
 * a user timer (a soft timer line, see utimer_arm); UARCH_PRIVILEGED_INSNS. */
#define UARCH_FEATURES (UARCH_HAS_UTIMER | UARCH_HAS_PRIV_LIST | UARCH_IS_X86_64)

uint64_t x86_sys(struct sysregs *r); /* crt0.S: returns r->nr */

static inline err_t sys(struct sysregs *r) { return (err_t)x86_sys(r); }

/* inv() (sys.h) sends no capability (info 0: the kernel reads none of the
 * capability roles), so `syscall` inline carries it, as AArch64's and
 * riscv64's inline sys() do: no struct in memory, no out-of-line call. */
#ifndef UARCH_SYS_RECORDED /* host unit tests record calls at x86_sys */
#define UARCH_INV uarch_inv
#endif
static inline err_t uarch_inv(uint64_t nr, uint64_t cap, uint64_t a0, uint64_t a1, uint64_t a2,
			      uint64_t a3, uint64_t a4, uint64_t a5, uint64_t *out)
{
	register uint64_t rdi __asm__("rdi") = a0, rsi __asm__("rsi") = a1;
	register uint64_t rdx __asm__("rdx") = a2, r10 __asm__("r10") = a3;
	register uint64_t r8 __asm__("r8") = a4, r9 __asm__("r9") = a5;
	register uint64_t r12 __asm__("r12") = 0, r13 __asm__("r13") = 0;
	register uint64_t rax __asm__("rax") = nr, rbx __asm__("rbx") = cap;
	register uint64_t r14 __asm__("r14") = 0, r15 __asm__("r15") = 0;
	__asm__ volatile("syscall"
			 : "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8), "+r"(r9),
			   "+r"(r12), "+r"(r13), "+r"(rax), "+r"(rbx), "+r"(r14)
			 : "r"(r15) : "rcx", "r11", "memory");
	if (out)
		out[0] = rdi, out[1] = rsi, out[2] = rdx, out[3] = r10, out[4] = r8;
	return (err_t)rax;
}

/* The TSC.  Under QEMU's -icount shift=0 it advances once per guest
 * instruction (the virtual clock is the instruction count, 1 ns each, and
 * the TSC follows it), the kernel's instructions included. */
static inline uint64_t cycles(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* The system counter is the TSC too. */
static inline uint64_t counter_now(void) { return cycles(); }

/* Its rate is the kernel's to know (it calibrates against the PIT; the
 * CPUs tested have no CPUID leaf 0x15): SYS_STATS_CPU says it to a holder
 * of the IRQ control capability, which the root task has. */
static inline uint64_t counter_freq(void)
{
	static uint64_t hz;
	if (!hz) {
		struct sysregs r = { .nr = SYS_STATS_CPU, .cap = ROOT_IRQ_CONTROL };
		if (sys(&r) == E_OK)
			hz = r.mr[4];
	}
	return hz;
}

/* User mode has no timer it can program (the LAPIC timer is the
 * kernel's, and a PC has no other per-CPU one), so the user
 * timer is a soft timer line of the kernel's (SYS_IRQ_SET_TIMER), set
 * through the handler capability that IRQ_GET gave for it. */
#define UTIMER_IRQ IRQ_SOFT_TIMER
static inline void utimer_arm(cptr_t irq, uint64_t at)
{
	struct sysregs r = { .mr = { at }, .nr = SYS_IRQ_SET_TIMER, .cap = irq };
	sys(&r);
}
static inline void utimer_off(cptr_t irq) { utimer_arm(irq, SOFT_TIMER_OFF); }

/* An instruction that is undefined, for the fault tests: ud2, whose length
 * the fault handler steps over. */
#define UNDEFINED_INSN() __asm__ volatile("ud2")
#define UNDEFINED_INSN_BYTES 2

/* The ABI's registers by role (sys.h's stubs; a test that faults with
 * known values in the number's and the capability's), and a 64-bit load. */
#define UARCH_REG_NR "rax"
#define UARCH_REG_CAP "rbx"
#define UARCH_REG_INFO "r14"
#define UARCH_REG_RECV "r15"
#define UARCH_REG_MR0 "rdi"
#define UARCH_REG_MR1 "rsi"
#define UARCH_REG_MR2 "rdx"
#define UARCH_REG_MR3 "r10"
#define UARCH_REG_MR4 "r8"
#define UARCH_REG_MR5 "r9"
#define UARCH_LOAD64(dst, addr) "movq (" addr "), " dst
/* The trap, and what it may change but the number (sys_yield, sys.h). */
#define UARCH_TRAP "syscall"
#define UARCH_TRAP_CLOBBERS "rdi", "rsi", "rdx", "r10", "r8", "r9", "r12", "r13", "rbx", "r14", "rcx", "r11"
/* ... and what it may change but one word, the number, the capability and
 * the info (ipc_call1), or but six words, those and the receive slot. */
#define UARCH_ONE_WORD_CLOBBERS "rsi", "rdx", "r10", "r8", "r9", "r12", "r13", "rcx", "r11"
#define UARCH_FIVE_WORD_CLOBBERS "r12", "r13", "rcx", "r11"

/* A line the kernel keeps for itself (the reschedule IPI's vector): IRQ_GET
 * refuses it. */
#define UARCH_IRQ_KERNEL 0xf0

/* For tests_priv.c: privileged instructions on the kernel's state (control
 * registers, MSRs, descriptor tables, TLB, caches, I/O ports, interrupts,
 * the kernel's GS, SVM, the kernel's return and a gate of DPL 0), each
 * padded to 4 bytes with nops; each is #GP (or #UD) in ring 3. */
#define UARCH_PRIVILEGED_INSNS()                                                      \
	__asm__ volatile(".balign 4, 0x90\n mov %%cr3, %%rax\n .balign 4, 0x90\n"        \
			 "mov %%rax, %%cr3\n .balign 4, 0x90\n wrmsr\n .balign 4, 0x90\n"       \
			 "rdmsr\n .balign 4, 0x90\n lgdt (%%rsp)\n .balign 4, 0x90\n"          \
			 "invlpg (%%rax)\n .balign 4, 0x90\n wbinvd\n .balign 4, 0x90\n"       \
			 "outb %%al, $0x80\n .balign 4, 0x90\n cli\n .balign 4, 0x90\n"        \
			 "hlt\n .balign 4, 0x90\n swapgs\n .balign 4, 0x90\n vmrun\n"          \
			 ".balign 4, 0x90\n sysretq\n .balign 4, 0x90\n int $0x81\n"           \
			 ".balign 4, 0x90"                                                  \
			 : : : "rax", "rcx", "rdx", "memory")
#define UARCH_PRIVILEGED_N 14

/* A guest's registers at entry (servers/vmm/vm.c): r8, r9, r10 (the
 * hardware's numbers 8-10, which the test guest's 32-bit start leaves
 * whole), and the CPU id the VMM keeps for its CPUID
 * answers; the test guest's CR2 is what the VM tests read and write while
 * the VCPU is parked. */
#define UARCH_VREG_ARG0 8
#define UARCH_VREG_CPUID VREG_X86_ID
#define UARCH_CPUID(i) (i)
#define UARCH_VREG_PARKED VREG_X86_CR2
#define UARCH_PRIVILEGED_BYTES 4
