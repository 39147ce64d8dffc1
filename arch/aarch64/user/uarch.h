/* What native servers need of the ISA (AArch64), included by
 * servers/lib/sys.h: the system-call trap with the ABI's registers, the
 * counters, and the EL1 physical timer user space may drive.  Every port
 * has an arch/<arch>/user/ with this header, crt0.S and fp_regs.S.
 *
 * Registers (include/cairn/abi.h): message words x0-x7, number/error x8,
 * capability/badge x9, info x10, capabilities sent x11-x13, receive slot
 * x14; `svc #0` enters the kernel. */
#pragma once

static inline err_t sys(struct sysregs *r)
{
	register uint64_t x0 __asm__("x0") = r->mr[0], x1 __asm__("x1") = r->mr[1];
	register uint64_t x2 __asm__("x2") = r->mr[2], x3 __asm__("x3") = r->mr[3];
	register uint64_t x4 __asm__("x4") = r->mr[4], x5 __asm__("x5") = r->mr[5];
	register uint64_t x6 __asm__("x6") = r->mr[6], x7 __asm__("x7") = r->mr[7];
	register uint64_t x8 __asm__("x8") = r->nr, x9 __asm__("x9") = r->cap;
	register uint64_t x10 __asm__("x10") = r->info, x11 __asm__("x11") = r->sendcap[0];
	register uint64_t x12 __asm__("x12") = r->sendcap[1], x13 __asm__("x13") = r->sendcap[2];
	register uint64_t x14 __asm__("x14") = r->recvslot;
	__asm__ volatile("svc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5),
			   "+r"(x6), "+r"(x7), "+r"(x8), "+r"(x9), "+r"(x10), "+r"(x11),
			   "+r"(x12), "+r"(x13), "+r"(x14)
			 : : "memory");
	r->mr[0] = x0, r->mr[1] = x1, r->mr[2] = x2, r->mr[3] = x3;
	r->mr[4] = x4, r->mr[5] = x5, r->mr[6] = x6, r->mr[7] = x7;
	r->nr = x8, r->cap = x9, r->info = x10;
	return (err_t)x8;
}

/* Cycle counter (counts instructions under QEMU -icount shift=0). */
static inline uint64_t cycles(void)
{
	uint64_t v;
	__asm__ volatile("isb; mrs %0, pmccntr_el0" : "=r"(v));
	return v;
}

/* The system counter: ticks since boot, and ticks per second. */
static inline uint64_t counter_now(void)
{
	uint64_t v;
	__asm__ volatile("isb; mrs %0, cntpct_el0" : "=r"(v));
	return v;
}

static inline uint64_t counter_freq(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

/* A per-CPU timer that user space programs itself and whose interrupt it
 * takes with IRQ_GET (the EL1 physical timer, PPI 30: the kernel uses the
 * EL2 one and guests the virtual one).  Level-triggered: utimer_off()
 * quietens it before the interrupt is acknowledged. */
#define UTIMER_IRQ 30

static inline void utimer_arm(cptr_t irq, uint64_t at)
{
	(void)irq; /* EL0 programs it itself */
	__asm__ volatile("msr cntp_cval_el0, %0; msr cntp_ctl_el0, %1; isb"
			 : : "r"(at), "r"(1ull) : "memory");
}

static inline void utimer_off(cptr_t irq)
{
	(void)irq;
	__asm__ volatile("msr cntp_ctl_el0, xzr; isb" ::: "memory");
}

/* An instruction that is undefined, for the fault tests (4 bytes: the
 * fault handler steps over it). */
#define UNDEFINED_INSN() __asm__ volatile(".inst 0x00000000")

/* The ABI's registers by role (sys.h's stubs; a test that faults with
 * known values in the number's and the capability's), and a 64-bit load. */
#define UARCH_REG_NR "x8"
#define UARCH_REG_CAP "x9"
#define UARCH_REG_INFO "x10"
#define UARCH_REG_RECV "x14"
#define UARCH_REG_MR0 "x0"
#define UARCH_REG_MR1 "x1"
#define UARCH_REG_MR2 "x2"
#define UARCH_REG_MR3 "x3"
#define UARCH_REG_MR4 "x4"
#define UARCH_REG_MR5 "x5"
#define UARCH_LOAD64(dst, addr) "ldr " dst ", [" addr "]"
/* The trap, and what it may change but the number (sys_yield, sys.h). */
#define UARCH_TRAP "svc #0"
#define UARCH_TRAP_CLOBBERS "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x9", "x10", "x11", "x12", "x13", "x14"
/* ... and what it may change but one word, the number, the capability and
 * the info (ipc_call1), or but six words, those and the receive slot. */
#define UARCH_ONE_WORD_CLOBBERS "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x11", "x12", "x13", "x14"
#define UARCH_FIVE_WORD_CLOBBERS "x6", "x7", "x11", "x12", "x13"

/* A line the kernel keeps for itself (the last SGI): IRQ_GET refuses it. */
#define UARCH_IRQ_KERNEL 15

/* For tests_priv.c: privileged instructions (each 4 bytes) on the state
 * that is the kernel's (EL2's translation and controls, EL1's, TLB
 * maintenance, exception return, calls to EL2 and EL3); each is undefined
 * at EL0. */
#define UARCH_PRIVILEGED_INSNS()                                                        \
	__asm__ volatile("mrs x0, vttbr_el2\n msr vttbr_el2, xzr\n msr hcr_el2, xzr\n"     \
			 "mrs x0, sctlr_el1\n msr sctlr_el1, xzr\n msr vbar_el1, xzr\n"    \
			 "tlbi vmalle1\n eret\n hvc #0\n smc #0"                          \
			 : : : "x0", "memory")
#define UARCH_PRIVILEGED_N 10
#define UARCH_PRIVILEGED_BYTES 4

/* What the root task's tests may use of this ISA (cairn/abi.h UARCH_HAS_*). */
#define UARCH_FEATURES (UARCH_HAS_UTIMER | UARCH_IS_AARCH64 | UARCH_HAS_PRIV_LIST | UARCH_HAS_VTIMER | \
			UARCH_HAS_GUEST_SMP)
