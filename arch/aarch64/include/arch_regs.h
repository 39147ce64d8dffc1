/* A native thread's saved registers on AArch64, and which of them carry
 * the system-call ABI (include/cairn/abi.h).  Reached by generic code only
 * through hyp/arch.h. */
#pragma once
#include <stdint.h>

/* Exactly the frame vectors.S saves: the lower-EL vectors store straight
 * into the current thread's struct arch_regs. */
struct arch_regs {
	uint64_t x[31];
	uint64_t sp;   /* SP_EL0 */
	uint64_t pc;   /* ELR_EL2 */
	uint64_t spsr;
	uint64_t esr, far; /* of the last trap, for fault messages */
};

/* The FP/SIMD registers (arch/aarch64/fp.S): q0-q31, FPSR, FPCR. */
struct arch_fp {
	_Alignas(16) uint64_t q[64];
	uint64_t fpsr, fpcr;
};

/* x0-x7 message words, x8 number/error, x9 capability/badge, x10 info,
 * x11-x13 capabilities to send, x14 receive slot. */
#define REG_MR0 0
#define REG_NR 8
#define REG_CAP 9
#define REG_INFO 10
#define REG_SENDCAP0 11
#define REG_RECVSLOT 14

static inline uint64_t *regs_gpr(struct arch_regs *r, unsigned n) { return &r->x[n]; }

static inline void arch_regs_set_pc(struct arch_regs *r, uint64_t pc) { r->pc = pc; }
static inline uint64_t arch_regs_pc(const struct arch_regs *r) { return r->pc; }
static inline void arch_regs_set_sp(struct arch_regs *r, uint64_t sp) { r->sp = sp; }
static inline uint64_t arch_regs_sp(const struct arch_regs *r) { return r->sp; }
