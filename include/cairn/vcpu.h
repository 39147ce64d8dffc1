/* The VCPU ABI: what a VMM receives when a guest exits, how its reply
 * resumes the guest, the hypercalls a guest that knows Cairn makes, and
 * the register ids of SYS_VCPU_READ_REG/WRITE_REG.  docs/ABI.md explains
 * each; the labels and reply flags are the same on every ISA, the register
 * ids and syndromes are the ISA's.
 *
 * A thread bound to a VCPU runs the guest.  Every exit the kernel does not
 * handle itself (it handles WFI/WFE, the virtual timer and the interrupt
 * list registers) is sent as a call through the thread's fault endpoint:
 * the VMM receives label VMEXIT_* and six message words, and its reply
 * resumes the guest. */
#pragma once
#include <stdint.h>

/* Exit labels (the message label; fault labels are below 16). */
enum vmexit_label {
	VMEXIT_DATA_ABORT = 16, /* stage-2 data abort: MMIO, or memory not mapped */
	VMEXIT_INSN_ABORT,      /* stage-2 instruction abort */
	VMEXIT_HVC,             /* hypercall outside Cairn's range (PSCI, ...) */
	VMEXIT_SMC,
	VMEXIT_SYSREG,          /* trapped system register (ICC_SGI1R_EL1, ...) */
	VMEXIT_OTHER,           /* any other trap: MR2 has the syndrome */
};

/* Exit message words (MR0-MR5).
 *   MR0  data/insn abort: the IPA; HVC/SMC: x0; SYSREG: the register's
 *        encoding (ESR ISS with Rt and direction cleared); other: 0
 *   MR1  pc of the instruction that exited
 *   MR2  syndrome (ESR_EL2)
 *   MR3  abort: access word below; HVC/SMC: x1; SYSREG: access word
 *   MR4  abort write / SYSREG write: the value; abort without a decoded
 *        syndrome: the instruction word, or VMEXIT_NO_INSN; HVC/SMC: x2
 *   MR5  abort: the guest virtual address (valid unless ESR.FnV);
 *        HVC/SMC: x3 */
#define VMEXIT_WORDS 6
#define VMEXIT_NO_INSN (~0ull)

/* The access word: how the exiting instruction accesses its register. */
#define VMACC_SIZE_MASK 3u        /* log2 of the access size in bytes */
#define VMACC_WRITE (1u << 2)
#define VMACC_SIGN (1u << 3)      /* a read is sign-extended */
#define VMACC_64 (1u << 4)        /* to a 64-bit register (else 32) */
#define VMACC_REG_SHIFT 8         /* register number, 5 bits (31: zero) */
#define VMACC_VALID (1u << 16)    /* the syndrome described the access */
#define VMACC_INSN16 (1u << 17)   /* riscv64: a compressed (2-byte) instruction */
static inline unsigned vmacc_reg(uint64_t acc) { return (acc >> VMACC_REG_SHIFT) & 31; }

/* Reply: MR0 is a set of flags, the words after it their values.  An empty
 * reply (length 0) resumes the guest at the same instruction. */
#define VMREPLY_ADVANCE 1u  /* resume after the instruction */
#define VMREPLY_READ 2u     /* MR1 is the value read (abort or SYSREG read) */
#define VMREPLY_REGS 4u     /* x0-x3 = MR1-MR4 (HVC/SMC results) */
#define VMREPLY_ABORT 8u    /* inject an abort (undefined instruction for
			     * non-abort exits) into the guest instead */

/* Cairn's hypercalls: HVC with x0 in the SMCCC vendor-specific hypervisor
 * range (fast call, 64-bit).  They never reach the VMM.
 *   HC_CALL:   x1 endpoint (in the VCPU thread's CSpace), x2 message info
 *              (label, length <= 5), x3-x7 MR0-MR4.  Returns x0 error,
 *              x1 badge, x2 info, x3-x7 the reply's MR0-MR4.
 *   HC_SIGNAL: x1 notification, x2 bits.  Returns x0 error.
 *   HC_YIELD:  end this timeslice (a paravirtual spin-wait).  Returns x0 0. */
#define HC_BASE 0xc6000000ull
#define HC_CALL (HC_BASE + 0)
#define HC_SIGNAL (HC_BASE + 1)
#define HC_YIELD (HC_BASE + 2)
#define HC_MSG_WORDS 5

/* SYS_VCPU_READ_REG/WRITE_REG register ids (AArch64).  Below VREG_FIRST_SYS
 * the bound thread's registers, from it the VCPU's privileged state. */
#define VREG_FIRST_SYS 64
enum vcpu_reg {
	VREG_X0 = 0,        /* x0..x30 are 0..30 */
	VREG_SP_EL0 = 31, VREG_PC, VREG_PSTATE,
	VREG_SP_EL1 = 64, VREG_ELR_EL1, VREG_SPSR_EL1, VREG_SCTLR_EL1,
	VREG_TTBR0_EL1, VREG_TTBR1_EL1, VREG_TCR_EL1, VREG_MAIR_EL1,
	VREG_AMAIR_EL1, VREG_VBAR_EL1, VREG_ESR_EL1, VREG_FAR_EL1,
	VREG_AFSR0_EL1, VREG_AFSR1_EL1, VREG_CONTEXTIDR_EL1, VREG_TPIDR_EL1,
	VREG_TPIDR_EL0, VREG_TPIDRRO_EL0, VREG_PAR_EL1, VREG_CPACR_EL1,
	VREG_CNTKCTL_EL1, VREG_CNTV_CTL, VREG_CNTV_CVAL,
	VREG_CNTVOFF,       /* virtual counter = physical - CNTVOFF */
	VREG_MPIDR,         /* what the guest reads as MPIDR_EL1 */
	VREG_COUNT
};

/* SYS_VCPU_READ_REG/WRITE_REG register ids (riscv64).  Below
 * VREG_FIRST_SYS: x1-x31 are 1-31 (x0 reads 0, writes are refused), the pc
 * and the mode the guest runs in (1 VS-mode, 0 VU-mode); from it the VS
 * CSRs, the timer (vstimecmp, used where the hart has Sstc; the guest's
 * SBI set_timer otherwise) and htimedelta, and VREG_RV_CLAIM: reading it
 * takes the lowest pending, enabled external interrupt (9, 16-1019) off
 * the VCPU, as a PLIC claim does (0: none), for a VMM's interrupt
 * controller. */
enum vcpu_reg_riscv64 {
	VREG_RV_PC = 32, VREG_RV_MODE,
	VREG_RV_VSSTATUS = VREG_FIRST_SYS, VREG_RV_VSIE, VREG_RV_VSTVEC, VREG_RV_VSSCRATCH,
	VREG_RV_VSEPC, VREG_RV_VSCAUSE, VREG_RV_VSTVAL, VREG_RV_VSATP, VREG_RV_VSTIMECMP,
	VREG_RV_HTIMEDELTA,
	VREG_RV_CLAIM,      /* read only, and reading has the claim's effect */
	VREG_RV_COUNT
};
/* riscv64's virtual interrupts: the guest's own interrupt numbers 1
 * (supervisor software), 5 (supervisor timer, the kernel's) and 9
 * (supervisor external), and external sources 16-1019, which the guest
 * sees as its external interrupt while any is pending (VREG_RV_CLAIM). */
#define VIRQ_RV_SOFT 1
#define VIRQ_RV_VTIMER 5
#define VIRQ_RV_EXT 9

/* Virtual interrupt numbers are GIC INTIDs: SGIs 0-15, PPIs 16-31, SPIs. */
#define VIRQ_COUNT 1024
#define VIRQ_VTIMER 27      /* the kernel raises it for the virtual timer */
#define VIRQ_UNBIND (~0ull) /* SYS_VCPU_BIND_NOTIFICATION: unbind */

/* x86_64 (AMD SVM).  Register ids below VREG_FIRST_SYS are the hardware's
 * numbers: 0-15 rax rcx rdx rbx rsp rbp rsi rdi r8-r15, then rip
 * (VREG_PC, 32) and rflags (VREG_PSTATE, 33).  From VREG_FIRST_SYS the
 * state the VMCB holds: a segment is two ids, its selector, attributes
 * (the VMCB's 12-bit form) and limit packed as `sel | attr << 16 | limit
 * << 32`, and its base.  VREG_X86_ID (VREG_MPIDR's number: the VMM's id
 * for the CPU) is kept for the VMM, which answers CPUID. */
enum vcpu_reg_x86 {
	VREG_X86_RSP = 4,
	VREG_X86_ES = VREG_FIRST_SYS, VREG_X86_ES_BASE, VREG_X86_CS, VREG_X86_CS_BASE,
	VREG_X86_SS, VREG_X86_SS_BASE, VREG_X86_DS, VREG_X86_DS_BASE,
	VREG_X86_FS, VREG_X86_FS_BASE, VREG_X86_GS, VREG_X86_GS_BASE,
	VREG_X86_GDTR, VREG_X86_GDTR_BASE, VREG_X86_LDTR, VREG_X86_LDTR_BASE,
	VREG_X86_IDTR, VREG_X86_IDTR_BASE, VREG_X86_TR, VREG_X86_TR_BASE,
	VREG_X86_CR0, VREG_X86_CR2, VREG_X86_CR3, VREG_X86_CR4, VREG_X86_ID,
	VREG_X86_EFER, VREG_X86_DR6, VREG_X86_DR7, VREG_X86_PAT,
	VREG_X86_STAR, VREG_X86_LSTAR, VREG_X86_CSTAR, VREG_X86_SFMASK,
	VREG_X86_KGSBASE, VREG_X86_SYSENTER_CS, VREG_X86_SYSENTER_ESP,
	VREG_X86_SYSENTER_EIP, VREG_X86_TSC_OFFSET,
	VREG_X86_COUNT
};
_Static_assert((int)VREG_X86_ID == (int)VREG_MPIDR, "a VMM sets the CPU's id by one number");
/* x86 exits (docs/ABI.md): an I/O port access is a VMEXIT_DATA_ABORT
 * whose address is VMEXIT_IO_PORT | port; CPUID is a VMEXIT_SYSREG whose
 * register is VMEXIT_CPUID | leaf (MR4 the subleaf), answered with
 * VMREPLY_REGS (rax rbx rcx rdx = MR1-MR4); an MSR is a VMEXIT_SYSREG of
 * its number (the value edx:eax).  VMACC_MERGE: an 8- or 16-bit load
 * changes only those bits of its register. */
#define VMEXIT_IO_PORT (1ull << 63)
#define VMEXIT_CPUID (1ull << 63)
#define VMACC_MERGE (1u << 5)
/* The guest's interrupt vectors are its virtual interrupts (16-255). */
#define VIRQ_X86_FIRST 16
#define VIRQ_X86_LIMIT 256
