/* The x86_64 test guest's entry: the VCPU starts in flat 32-bit protected
 * mode with paging off (svm.c's reset state) at the start of its RAM, the
 * test and its two arguments in r8, r9, r10 (the VMM's "x0-x2", the
 * hardware's register numbers 8-10: 32-bit code cannot touch them, so
 * all 64 bits survive the way to long mode).  It maps the
 * first 4 GiB 1:1 with 2 MiB pages, enters long mode and calls
 * guest_main(test, a1, a2).  Exceptions and interrupts arrive at
 * guest_trap (guest.c) through 256 stubs. */
	.section .text.start, "ax"
	.code32
	.globl	_start
_start:
	xorl	%ecx, %ecx                   /* 2048 2 MiB pages: 4 GiB */
1:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$0x83, %eax                  /* present, writable, 2 MiB */
	movl	%eax, pd(, %ecx, 8)
	movl	$0, pd + 4(, %ecx, 8)
	incl	%ecx
	cmpl	$2048, %ecx
	jne	1b
	xorl	%ecx, %ecx
2:	movl	%ecx, %eax
	shll	$12, %eax
	addl	$pd + 3, %eax
	movl	%eax, pdpt(, %ecx, 8)
	incl	%ecx
	cmpl	$4, %ecx
	jne	2b
	movl	$pdpt + 3, pml4
	movl	$pdpt_hi + 3, pml4 + 8       /* and 2 MiB at 2^39 (GT_PEEK) */
	movl	$pd_hi + 3, pdpt_hi
	movl	$0x83, pd_hi
	movl	$0x80, pd_hi + 4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	%cr4, %eax
	orl	$0x620, %eax                 /* PAE, OSFXSR, OSXMMEXCPT */
	movl	%eax, %cr4
	movl	$0xc0000080, %ecx            /* EFER.LME (the kernel answers) */
	rdmsr
	orl	$0x100, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000000, %eax
	movl	%eax, %cr0
	lgdt	gdt_ptr
	ljmp	$0x08, $long_mode

	.code64
long_mode:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	leaq	stack_top(%rip), %rsp
	call	guest_idt_init
	lidt	idt_ptr(%rip)
	movq	%r8, %rdi
	movq	%r9, %rsi
	movq	%r10, %rdx
	call	guest_main
3:	hlt
	jmp	3b

/* probe_read(addr): its 8 bytes, or ~0 if the access faulted (guest_trap
 * resumes at resume_at); probe_write(addr, v). */
	.globl	probe_read, probe_write
probe_read:
	leaq	1f(%rip), %rax
	movq	%rax, resume_at(%rip)
	movq	(%rdi), %rax
	movq	$0, resume_at(%rip)
	ret
1:	movq	$-1, %rax
	ret
probe_write:
	leaq	2f(%rip), %rax
	movq	%rax, resume_at(%rip)
	movq	%rsi, (%rdi)
	movq	$0, resume_at(%rip)
2:	ret

/* Guarded exits for the hostile test: a refused one (#GP or #UD injected
 * by the VMM) resumes at 9 and returns; rbx is pushed first where the
 * instruction uses it, so the stack is the same either way. */
.macro	guard
	leaq	9f(%rip), %r11
	movq	%r11, resume_at(%rip)
.endm
.macro	guard_rbx
	leaq	8f(%rip), %r11
	movq	%r11, resume_at(%rip)
.endm
	.globl	g_out32, g_in8, g_vmmcall, g_cpuid, g_rdmsr, g_xsetbv, g_wbinvd
g_out32:				/* (port, value) */
	guard
	movl	%esi, %eax
	movl	%edi, %edx
	outl	%eax, %dx
	jmp	9f
g_in8:					/* (port) */
	guard
	movl	%edi, %edx
	inb	%dx, %al
	jmp	9f
g_rdmsr:				/* (msr) */
	guard
	movl	%edi, %ecx
	rdmsr
	jmp	9f
g_xsetbv:				/* (xcr, value) */
	guard
	movl	%edi, %ecx
	movl	%esi, %eax
	xorl	%edx, %edx
	xsetbv
	jmp	9f
g_wbinvd:
	guard
	wbinvd
	jmp	9f
g_vmmcall:				/* (rax, rbx, rcx, rdx) */
	pushq	%rbx
	guard_rbx
	movq	%rdi, %rax
	movq	%rsi, %rbx
	xchgq	%rdx, %rcx
	vmmcall
	jmp	8f
g_cpuid:				/* (leaf, subleaf) */
	pushq	%rbx
	guard_rbx
	movl	%edi, %eax
	movl	%esi, %ecx
	cpuid
	jmp	8f
9:	movq	$0, resume_at(%rip)
	ret
8:	movq	$0, resume_at(%rip)
	popq	%rbx
	ret

/* 256 stubs, 16 bytes apart: an error code where the CPU pushes none,
 * the vector, then the registers C may change. */
	.balign	16
	.globl	guest_stubs
guest_stubs:
	.set	vec, 0
	.rept	256
	.balign	16
	.if !((vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30))
	pushq	$0
	.endif
	pushq	$vec
	jmp	stub_common
	.set	vec, vec + 1
	.endr
stub_common:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	movq	%rsp, %rdi
	call	guest_trap
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	addq	$16, %rsp
	iretq

	.section .rodata
	.balign	8
gdt:	.quad	0, 0x00af9a000000ffff, 0x00cf92000000ffff
gdt_ptr:
	.word	23
	.long	gdt

	.data
	.balign	8
	.globl	resume_at
resume_at:
	.quad	0
	.globl	idt_ptr
idt_ptr:
	.word	4095
	.quad	idt

	.bss
	.balign	4096
	.globl	idt
idt:	.space	4096
pml4:	.space	4096
pdpt:	.space	4096
	.globl	pd
pd:	.space	4 * 4096
pdpt_hi: .space	4096
pd_hi:	.space	4096
