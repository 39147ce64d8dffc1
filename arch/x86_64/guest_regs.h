/* The guest's general registers between the thread's struct arch_regs
 * (by ABI role, arch_regs.h: x[n] at 8 + 8n) and the CPU, for svm_run.S
 * and vmx_run.S: all but rsp (the VMCB's or VMCS's) and, on SVM, rax. */
#pragma once
#define X(n) (8 + 8 * (n))

/* From regs at %rdi, rdi itself last. */
.macro guest_regs_load
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
.endm

/* Into regs at %rdi: the guest's rdi was pushed, regs is above it. */
.macro guest_regs_store
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
.endm
