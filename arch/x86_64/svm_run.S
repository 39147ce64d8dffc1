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
#define X(n) (8 + 8 * (n))

	.text
	.globl	x86_svm_run
x86_svm_run:
	pushq	%rdx
	pushq	%rdi
	movq	%rsi, %rax
	vmload	%rax
	movq	X(9)(%rdi), %rbx
	movq	X(12)(%rdi), %rcx
	movq	X(2)(%rdi), %rdx
	movq	X(1)(%rdi), %rsi
	movq	X(11)(%rdi), %rbp
	movq	X(4)(%rdi), %r8
	movq	X(5)(%rdi), %r9
	movq	X(3)(%rdi), %r10
	movq	X(13)(%rdi), %r11
	movq	X(6)(%rdi), %r12
	movq	X(7)(%rdi), %r13
	movq	X(10)(%rdi), %r14
	movq	X(14)(%rdi), %r15
	movq	X(0)(%rdi), %rdi
	vmrun	%rax
	/* #VMEXIT: rax (the VMCB) and rsp are the host's again */
	vmsave	%rax
	pushq	%rdi
	movq	8(%rsp), %rdi
	movq	%rbx, X(9)(%rdi)
	movq	%rcx, X(12)(%rdi)
	movq	%rdx, X(2)(%rdi)
	movq	%rsi, X(1)(%rdi)
	movq	%rbp, X(11)(%rdi)
	movq	%r8, X(4)(%rdi)
	movq	%r9, X(5)(%rdi)
	movq	%r10, X(3)(%rdi)
	movq	%r11, X(13)(%rdi)
	movq	%r12, X(6)(%rdi)
	movq	%r13, X(7)(%rdi)
	movq	%r14, X(10)(%rdi)
	movq	%r15, X(14)(%rdi)
	popq	%rax
	movq	%rax, X(0)(%rdi)
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
