/* Thread registers for a port without native threads yet (and for the
 * host unit tests): the generic shape the kernel core needs, 32 general
 * registers, pc and sp.  Its arch_regs.h includes this. */
#pragma once
#include <stdint.h>

struct arch_regs {
	uint64_t x[32];
	uint64_t sp, pc;
};

struct arch_fp {
	uint64_t none;
};

#ifndef SYSCALL_INSN_BYTES
#define SYSCALL_INSN_BYTES 4 /* ecall; x86 defines its own (syscall is 2) */
#endif

#include "hyp/regs_access.h"
