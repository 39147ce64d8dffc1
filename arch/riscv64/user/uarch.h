/* What native servers need of the ISA (riscv64, VU-mode), included by
 * servers/lib/sys.h: the system-call trap with the ABI's registers, the
 * counters.  Every port has an arch/<arch>/user/ with this
 * header, crt0.S and fp_regs.S.
 *
 * Registers (include/cairn/abi.h, docs/ABI.md): message words a0-a7,
 * number/error t0, capability/badge t1, info t2, capabilities sent t3-t5,
 * receive slot t6 (all caller-saved: a stub clobbers nothing the C ABI
 * keeps); `ecall` enters the kernel. */
#pragma once

#define UARCH_SYS_REGS                                                                   \
	register uint64_t a0 __asm__("a0"), a1 __asm__("a1"), a2 __asm__("a2"),          \
		a3 __asm__("a3"), a4 __asm__("a4"), a5 __asm__("a5"), a6 __asm__("a6"),  \
		a7 __asm__("a7"), t0 __asm__("t0"), t1 __asm__("t1"), t2 __asm__("t2"),  \
		t3 __asm__("t3"), t4 __asm__("t4"), t5 __asm__("t5"), t6 __asm__("t6")

static inline err_t sys(struct sysregs *r)
{
	UARCH_SYS_REGS;
	a0 = r->mr[0], a1 = r->mr[1], a2 = r->mr[2], a3 = r->mr[3];
	a4 = r->mr[4], a5 = r->mr[5], a6 = r->mr[6], a7 = r->mr[7];
	t0 = r->nr, t1 = r->cap, t2 = r->info;
	t3 = r->sendcap[0], t4 = r->sendcap[1], t5 = r->sendcap[2], t6 = r->recvslot;
	__asm__ volatile("ecall"
			 : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5),
			   "+r"(a6), "+r"(a7), "+r"(t0), "+r"(t1), "+r"(t2), "+r"(t3),
			   "+r"(t4), "+r"(t5), "+r"(t6)
			 : : "memory");
	r->mr[0] = a0, r->mr[1] = a1, r->mr[2] = a2, r->mr[3] = a3;
	r->mr[4] = a4, r->mr[5] = a5, r->mr[6] = a6, r->mr[7] = a7;
	r->nr = t0, r->cap = t1, r->info = t2;
	return (err_t)t0;
}

/* Retired instructions: under QEMU -icount shift=0 rdcycle and rdinstret
 * both read QEMU's instruction count (docs/PERF.md). */
static inline uint64_t cycles(void)
{
	uint64_t v;
	__asm__ volatile("rdinstret %0" : "=r"(v) : : "memory");
	return v;
}

/* The system counter: ticks since boot (the time CSR, readable from VU-mode
 * because the kernel sets hcounteren and scounteren), and ticks per second.
 * No CSR says the rate (it is the DTB's timebase-frequency): SYS_STATS_CPU
 * does, to a holder of the IRQ control capability (the root task); a task
 * without one gets QEMU virt's 10 MHz. */
static inline uint64_t counter_now(void)
{
	uint64_t v;
	__asm__ volatile("rdtime %0" : "=r"(v) : : "memory");
	return v;
}

static inline uint64_t counter_freq(void)
{
	static uint64_t hz;
	if (!hz) {
		struct sysregs r = { .nr = SYS_STATS_CPU, .cap = ROOT_IRQ_CONTROL };
		hz = sys(&r) == E_OK && r.mr[4] ? r.mr[4] : 10000000;
	}
	return hz;
}

/* User mode has no timer it can program (stimecmp is HS-mode's,
 * vstimecmp VS-mode's: both are the kernel's), so the user
 * timer is a soft timer line of the kernel's (SYS_IRQ_SET_TIMER), set
 * through the handler capability that IRQ_GET gave for it. */
#define UTIMER_IRQ IRQ_SOFT_TIMER
static inline void utimer_arm(cptr_t irq, uint64_t at)
{
	struct sysregs r = { .mr = { at }, .nr = SYS_IRQ_SET_TIMER, .cap = irq };
	sys(&r);
}
static inline void utimer_off(cptr_t irq) { utimer_arm(irq, SOFT_TIMER_OFF); }

/* An instruction that is undefined, for the fault tests (4 bytes: the
 * fault handler steps over it). */
#define UNDEFINED_INSN() __asm__ volatile(".word 0x00000000")

/* The ABI's registers by role (sys.h's stubs; a test that faults with
 * known values in the number's and the capability's), and a 64-bit load. */
#define UARCH_REG_NR "t0"
#define UARCH_REG_CAP "t1"
#define UARCH_REG_INFO "t2"
#define UARCH_REG_RECV "t6"
#define UARCH_REG_MR0 "a0"
#define UARCH_REG_MR1 "a1"
#define UARCH_REG_MR2 "a2"
#define UARCH_REG_MR3 "a3"
#define UARCH_REG_MR4 "a4"
#define UARCH_REG_MR5 "a5"
#define UARCH_LOAD64(dst, addr) "ld " dst ", 0(" addr ")"
/* The trap, and what it may change but the number (sys_yield, sys.h). */
#define UARCH_TRAP "ecall"
#define UARCH_TRAP_CLOBBERS "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t1", "t2", "t3", "t4", "t5", "t6"
/* ... and what it may change but one word, the number, the capability and
 * the info (ipc_call1), or but six words, those and the receive slot. */
#define UARCH_ONE_WORD_CLOBBERS "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t3", "t4", "t5", "t6"
#define UARCH_FIVE_WORD_CLOBBERS "a6", "a7", "t3", "t4", "t5"

/* A line the kernel keeps for itself (the IPI, a local interrupt, numbered
 * after the PLIC's sources): IRQ_GET refuses it. */
#define UARCH_IRQ_KERNEL 1025

/* For tests_priv.c: privileged instructions (each 4 bytes) on the state
 * that is the kernel's; from VU-mode each is an illegal-instruction or
 * virtual-instruction trap.  The HS CSRs, the hypervisor's, VS-mode's
 * (the G-stage and the VS translation a thread could otherwise turn on),
 * M-mode's, and sret, wfi, hfence.gvma. */
#define UARCH_PRIVILEGED_INSNS()                                                 \
	__asm__ volatile("csrr t0, sstatus\n csrw satp, zero\n csrw stvec, zero\n" \
			 "csrr t0, hgatp\n csrw hstatus, zero\n csrw vsatp, t0\n"  \
			 "csrr t0, mstatus\n sret\n wfi\n .word 0x62000073"      \
			 : : : "t0", "memory")
#define UARCH_PRIVILEGED_N 10
#define UARCH_PRIVILEGED_BYTES 4

/* A guest's registers at entry (servers/vmm/vm.c): a0-a2; riscv64 has no
 * CPU id register to set (SBI passes the hart id in a0). */
#define UARCH_VREG_ARG0 10
#define UARCH_VREG_CPUID 0
#define UARCH_CPUID(i) (i)
/* A VS CSR the VM tests read and write while the VCPU is parked. */
#define UARCH_VREG_PARKED VREG_RV_VSSCRATCH

/* What the root task's tests may use of this ISA (cairn/abi.h UARCH_HAS_*). */
#define UARCH_FEATURES (UARCH_HAS_UTIMER | UARCH_HAS_PRIV_LIST | UARCH_HAS_VTIMER | UARCH_HAS_GUEST_SMP | \
			UARCH_HAS_GUEST_SBI)
