/* Entry of a native server: the kernel starts it with rsp set and rdi the
 * boot-info page (root) or an argument; main's return value is ignored and
 * the thread yields forever.  And x86_sys, the full system call. */
	.text
	.globl	_start
_start:
	xorl	%ebp, %ebp
	andq	$-16, %rsp
	call	main
1:	movl	$10, %eax               /* SYS_YIELD, forever */
	syscall
	jmp	1b

/* uint64_t x86_sys(struct sysregs *r): every role in (arch_regs.h's
 * order: mr[0-7], nr, cap, info, sendcap[0-2], recvslot), the out roles
 * (mr, nr, cap, info) back; returns nr.  By `syscall` unless a second or
 * third capability is sent: their roles are rcx and r11, which `syscall`
 * destroys (the kernel reads 0 for them then), so only `int $0x80`, the
 * slower way in and out, carries them. */
	.globl	x86_sys
x86_sys:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi
	movq	96(%rdi), %rcx
	movq	104(%rdi), %r11
	movq	%rcx, %rax
	orq	%r11, %rax              /* ZF: neither; no mov below changes it */
	movq	8(%rdi), %rsi
	movq	16(%rdi), %rdx
	movq	24(%rdi), %r10
	movq	32(%rdi), %r8
	movq	40(%rdi), %r9
	movq	48(%rdi), %r12
	movq	56(%rdi), %r13
	movq	64(%rdi), %rax
	movq	72(%rdi), %rbx
	movq	80(%rdi), %r14
	movq	88(%rdi), %rbp
	movq	112(%rdi), %r15
	movq	(%rdi), %rdi
	jnz	1f
	syscall
	jmp	2f
1:	int	$0x80
2:	movq	(%rsp), %rcx            /* r: rcx is an in-only role */
	movq	%rdi, (%rcx)
	movq	%rsi, 8(%rcx)
	movq	%rdx, 16(%rcx)
	movq	%r10, 24(%rcx)
	movq	%r8, 32(%rcx)
	movq	%r9, 40(%rcx)
	movq	%r12, 48(%rcx)
	movq	%r13, 56(%rcx)
	movq	%rax, 64(%rcx)
	movq	%rbx, 72(%rcx)
	movq	%r14, 80(%rcx)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

	.section .note.GNU-stack, "", @progbits
