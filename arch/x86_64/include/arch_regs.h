/* A native thread's saved registers on x86_64, and which of them carry the
 * system-call ABI (include/cairn/abi.h, docs/ABI.md).  Reached by generic
 * code only through hyp/arch.h. */
#pragma once
#include <stdint.h>

/* x[] is indexed by ABI role (hyp/regs_access.h), not by register number;
 * entry.S saves each register into its role's slot:
 *   x0-x7 message words  rdi rsi rdx r10 r8 r9 r12 r13
 *   x8 number/error rax, x9 capability/badge rbx, x10 info r14,
 *   x11-x13 capabilities sent rbp rcx r11, x14 receive slot r15.
 * `syscall` destroys rcx and r11 (return rip, rflags), so the roles that
 * live there (the second and third capability sent) only reach the kernel
 * through `int $0x80`, which user space's full sys() uses.
 *
 * The tail is the CPU's interrupt frame: while a thread runs, TSS.RSP0
 * points just past `ss`, so an interrupt or exception from ring 3 pushes
 * straight into the thread and entry.S pushes the rest below it.  The
 * CPU aligns that stack pointer to 16 bytes, hence the alignment. */
struct arch_regs {
	_Alignas(16) uint64_t cr2; /* of the last page fault, for its message */
	uint64_t x[15];
	uint64_t entry;            /* 1: came in by syscall (rcx, r11 are dead) */
	uint64_t vector, error;
	uint64_t pc, cs, rflags, sp, ss;
};
_Static_assert(sizeof(struct arch_regs) % 16 == 0, "TSS.RSP0 is 16-byte aligned");

/* The XSAVE area in its standard form, x87, SSE and AVX (XCR0 7): the
 * FXSAVE image, the XSAVE header, ymm0-15's upper halves.  Without XSAVE
 * and AVX only the first 512 bytes are used (FXSAVE). */
struct arch_fp {
	_Alignas(64) uint16_t fcw;
	uint16_t fsw;
	uint8_t rest0[20];
	uint32_t mxcsr, mxcsr_mask;
	uint8_t rest[480];
	uint64_t xstate_bv, xcomp_bv, header[6];
	uint8_t ymm_hi[256];
};
_Static_assert(sizeof(struct arch_fp) == 832, "XSAVE area: legacy, header, AVX");

/* syscall and int $0x80 are both 2 bytes: a restart steps back over either. */
#define SYSCALL_INSN_BYTES 2

#include "hyp/regs_access.h"
