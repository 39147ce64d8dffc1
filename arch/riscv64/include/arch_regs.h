/* A native thread's saved registers on riscv64, and which of them carry
 * the system-call ABI (include/cairn/abi.h, docs/ABI.md).  Reached by
 * generic code only through hyp/arch.h.
 *
 * x[] is kept in ABI-role order, not register-number order, so that the
 * generic roles (hyp/regs_access.h: x[0-7] message words, x[8] number,
 * x[9] capability, x[10] info, x[11-13] capabilities sent, x[14] receive
 * slot) hold here as on AArch64; entry.S stores each register into its
 * slot:
 *   x[0-7]   a0-a7     message words (and a0, a1 a new thread's arguments)
 *   x[8]     t0        number / error
 *   x[9]     t1        capability / badge
 *   x[10]    t2        message info
 *   x[11-13] t3-t5     capabilities sent
 *   x[14]    t6        receive slot
 *   x[15-17] ra gp tp; x[18-19] s0 s1; x[20-29] s2-s11; x[30-31] unused */
#pragma once
#include <stdint.h>

struct arch_regs {
	uint64_t x[32];
	uint64_t sp, pc;   /* sp, sepc */
	uint64_t cpu;      /* struct cpu * it was entered on (entry.S finds tp here) */
	uint64_t spp;      /* sstatus.SPP to return with: 0 VU-mode, SPP a guest's VS-mode */
};

/* f0-f31 and fcsr (arch/riscv64/fp.S). */
struct arch_fp {
	uint64_t f[32];
	uint64_t fcsr;
};

/* ecall: a system call is restarted by stepping back over it. */
#define SYSCALL_INSN_BYTES 4

#include "hyp/regs_access.h"
