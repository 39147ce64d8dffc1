/* A VCPU's privileged state on riscv64 (its general registers, pc and
 * mode are its thread's struct arch_regs), and where hypercalls keep their
 * arguments.  Reached by generic code through hyp/arch.h. */
#pragma once
#include <stdint.h>
#include "cairn/vcpu.h"

#define VCPU_CSRS (VREG_RV_CLAIM - VREG_FIRST_SYS)

struct arch_vcpu {
	uint64_t csr[VCPU_CSRS];  /* by enum vcpu_reg_riscv64 - VREG_FIRST_SYS */
	uint64_t hvip;            /* VSSIP (the guest clears it), VSTIP without Sstc */
	uint64_t exc_cause, exc_tval; /* an exception a reply asked for */
	bool timer_due;           /* without Sstc: the deadline passed (hvip.VSTIP) */
	unsigned loaded_on;       /* CPU it was last loaded on, + 1 (0: never) */
};
#define VCSR(a, id) ((a)->csr[(id) - VREG_FIRST_SYS])

/* Hypercalls (include/cairn/vcpu.h) are ecalls from VS-mode with the
 * function in a7, as SBI calls: a0 capability in, error out; a1 message
 * info (or HC_SIGNAL's bits); a2-a6 message words.  Role indices
 * (arch_regs.h): a0-a7 are x[0-7]. */
#define HC_REG_FN 7
#define HC_REG_RESULT 0
#define HC_REG_CAP 0
#define HC_REG_INFO 1
#define HC_REG_MR0 2
#define HC_INSN_BYTES 4
#define ARCH_VIRQ_VTIMER VIRQ_RV_VTIMER
