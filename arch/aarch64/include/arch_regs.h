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

/* svc #0: a system call is restarted by stepping back over it. */
#define SYSCALL_INSN_BYTES 4

/* The ABI roles of these registers and their accessors. */
#include "hyp/regs_access.h"
