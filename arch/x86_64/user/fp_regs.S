/* For the FP test: fill every SSE register (xmm0-15), and where the
 * kernel has AVX on, the upper halves of ymm0-15 too, with a pattern
 * derived from a seed, and check that they still hold it.  SSE2 only
 * otherwise (qemu64 has no pinsrq): the words go through the red zone. */
	.text
/* avx_on -> ZF clear if AVX is usable (CPUID OSXSAVE and AVX, XCR0 SSE
 * and AVX); keeps every register but the flags. */
avx_on:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	movl	$1, %eax
	xorl	%ecx, %ecx
	cpuid
	andl	$(3 << 27), %ecx
	cmpl	$(3 << 27), %ecx
	jne	1f
	xorl	%ecx, %ecx
	xgetbv
	andl	$6, %eax
	cmpl	$6, %eax
1:	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	sete	%r11b                   /* r11 is caller-saved: the answer */
	testb	%r11b, %r11b
	ret

/* fp_fill(seed): xmm<n> = { seed + n, ~(seed + n) }, ymm<n>'s upper half
 * { seed + n + 16, ~(seed + n + 16) } */
	.globl	fp_fill
fp_fill:
	call	avx_on
	jz	2f
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	leaq	\n(%rdi), %rax
	movq	%rax, -32(%rsp)
	notq	%rax
	movq	%rax, -24(%rsp)
	leaq	(\n + 16)(%rdi), %rax
	movq	%rax, -16(%rsp)
	notq	%rax
	movq	%rax, -8(%rsp)
	vmovdqu	-32(%rsp), %ymm\n
	.endr
	ret
2:
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
	call	avx_on
	jz	2f
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	vmovdqu	%ymm\n, -32(%rsp)
	leaq	(\n + 16)(%rdi), %rax
	cmpq	%rax, -16(%rsp)
	jne	1f
	notq	%rax
	cmpq	%rax, -8(%rsp)
	jne	1f
	.endr
2:
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

/* fp_all_zero() -> 1 if every SSE (and AVX) register is zero, else 0 */
	.globl	fp_all_zero
fp_all_zero:
	call	avx_on
	jz	2f
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	vmovdqu	%ymm\n, -32(%rsp)
	movq	-16(%rsp), %rax
	orq	-8(%rsp), %rax
	jne	1f
	.endr
2:
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
