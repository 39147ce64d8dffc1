/* For the FP test: fill every SSE register (xmm0-15) with a pattern
 * derived from a seed, and check that they still hold it.  SSE2 only
 * (qemu64 has no pinsrq): the halves go through the red zone. */
	.text
/* fp_fill(seed): xmm<n> = { seed + n, ~(seed + n) } */
	.globl	fp_fill
fp_fill:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	leaq	\n(%rdi), %rax
	movq	%rax, -16(%rsp)
	notq	%rax
	movq	%rax, -8(%rsp)
	movdqu	-16(%rsp), %xmm\n
	.endr
	ret

/* fp_check(seed) -> 1 if every register still holds its pattern, else 0 */
	.globl	fp_check
fp_check:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	movdqu	%xmm\n, -16(%rsp)
	leaq	\n(%rdi), %rax
	cmpq	%rax, -16(%rsp)
	jne	1f
	notq	%rax
	cmpq	%rax, -8(%rsp)
	jne	1f
	.endr
	movl	$1, %eax
	ret
1:	xorl	%eax, %eax
	ret

/* fp_all_zero() -> 1 if every SSE register is zero, else 0 */
	.globl	fp_all_zero
fp_all_zero:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	movdqu	%xmm\n, -16(%rsp)
	movq	-16(%rsp), %rax
	orq	-8(%rsp), %rax
	jne	1f
	.endr
	movl	$1, %eax
	ret
1:	xorl	%eax, %eax
	ret

	.section .note.GNU-stack, "", @progbits
