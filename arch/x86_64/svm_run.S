/* x86_svm_run(regs, vmcb_pa, host_pa): into the guest and back (svm.c).
 *
 * VMRUN switches rax, rsp, rip and rflags (svm.c copies them through the
 * VMCB); the other general registers are loaded here from the thread's
 * struct arch_regs (by ABI role, arch_regs.h: x[n] at 8 + 8n) and stored
 * back after the exit.  VMLOAD and VMSAVE switch what VMRUN does not: FS,
 * GS, TR and LDTR with their hidden parts, the syscall MSRs and the
 * kernel GS base; the host's come back from this CPU's own area (saved
 * once, svm.c), before anything uses %gs.  The caller has run CLGI and
 * STI: an interrupt waits for VMRUN's GIF and becomes an exit.  After the
 * exit GIF is 0 and IF 1: IF goes first, then GIF comes back, and the
 * exit is handled on this CPU's empty kernel stack, as a trap from ring
 * 3 is. */
#define PCPU_CPU 0
#define PCPU_USTATE 24
#include "arch/x86_64/guest_regs.h"

	.text
	.globl	x86_svm_run
x86_svm_run:
	pushq	%rdx
	pushq	%rdi
	movq	%rsi, %rax
	vmload	%rax
	guest_regs_load
	vmrun	%rax
	/* #VMEXIT: rax (the VMCB) and rsp are the host's again */
	vmsave	%rax
	pushq	%rdi
	guest_regs_store
	addq	$8, %rsp
	popq	%rax
	vmload	%rax
	cli
	stgi
	incq	%gs:PCPU_USTATE         /* even: out of the guest (uspace.c) */
	movq	%gs:PCPU_CPU, %rax
	movq	(%rax), %rsp            /* its stack_top */
	xorl	%ebp, %ebp
	jmp	x86_svm_exit
