/* A VCPU's privileged state on AArch64 (its general registers, SP_EL0,
 * pc and PSTATE are its thread's struct arch_regs), and where hypercalls
 * keep their arguments.  Reached by generic code through hyp/arch.h. */
#pragma once
#include <stdint.h>
#include "cairn/vcpu.h"

#define VCPU_SYSREGS (VREG_COUNT - VREG_SP_EL1)
#define VGIC_MAX_LRS 16

struct arch_vcpu {
	uint64_t sys[VCPU_SYSREGS];     /* by enum vcpu_reg - VREG_SP_EL1 */
	uint64_t lr[VGIC_MAX_LRS];      /* ICH_LR<n>_EL2 */
	uint64_t vmcr, ap0r0, ap1r0;    /* the virtual CPU interface's own state */
	uint64_t exc_esr, exc_elr, exc_far; /* an exception a reply asked for */
	unsigned loaded_on;             /* CPU it was last loaded on, + 1 (0: never) */
};
#define VSYS(a, id) ((a)->sys[(id) - VREG_SP_EL1])

/* Hypercall registers (include/cairn/vcpu.h): x0 function and result, x1
 * capability and badge, x2 message info, x3-x7 message words. */
#define HC_REG_FN 0
#define HC_REG_RESULT 0
#define HC_REG_CAP 1
#define HC_REG_INFO 2
#define HC_REG_MR0 3
#define HC_INSN_BYTES 4
/* The virtual interrupt the guest's timer raises (vcpu/vcpu.c). */
#define ARCH_VIRQ_VTIMER VIRQ_VTIMER
