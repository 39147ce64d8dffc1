/* A VCPU's privileged state on x86_64 (AMD SVM): what the VMCB holds
 * beyond the four registers VMRUN switches itself, which with the other
 * general registers are its thread's struct arch_regs (arch/x86_64/svm.c).
 * Reached by generic code through hyp/arch.h. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "cairn/vcpu.h"

#define VCPU_X86_SYS (VREG_X86_COUNT - VREG_FIRST_SYS)

struct arch_vcpu {
	uint64_t sys[VCPU_X86_SYS]; /* by enum vcpu_reg_x86 - VREG_FIRST_SYS */
	uint64_t eventinj;          /* an event not yet delivered (EVENTINJ's form) */
	uint64_t int_ctl;           /* V_IRQ: an interrupt window asked for */
	uint64_t shadow;            /* the guest is in an interrupt shadow (STI, MOV SS) */
	uint64_t exc;               /* an exception a reply asked for (EVENTINJ's form) */
	uint64_t dr[4];             /* DR0-DR3: the CPU's while loaded (vmexit.c) */
	uint64_t tpr;               /* CR8 on VMX (vmx.c; SVM's is the VMCB's V_TPR) */
	unsigned loaded_on;         /* CPU it was last loaded on, + 1 (0: never) */
	bool lme_held;              /* EFER.LME kept out of the VMCB (svm.c, efer_guest) */
};
#define VSYS(a, id) ((a)->sys[(id) - VREG_FIRST_SYS])

/* Hypercalls (include/cairn/vcpu.h) are VMMCALL with the function in rax,
 * as KVM's: rdi capability in, rax error out, rsi message info, rdx r10 r8
 * r9 r12 the message words (their ABI roles, arch_regs.h: x0-x7 are rdi
 * rsi rdx r10 r8 r9 r12 r13, x8 rax). */
#define HC_REG_FN 8
#define HC_REG_RESULT 8
#define HC_REG_CAP 0
#define HC_REG_INFO 1
#define HC_REG_MR0 2
#define HC_INSN_BYTES 3
/* No guest timer is emulated in the kernel (a VMM's LAPIC would be). */
#define ARCH_VIRQ_VTIMER 0
