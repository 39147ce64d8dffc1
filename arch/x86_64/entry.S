/* Interrupt, exception and system-call entry.
 *
 * 256 stubs, 16 bytes apart, each pushing an error code (0 where the CPU
 * pushes none) and its vector.  From ring 0 (the kernel, its idle loop)
 * the registers go into a struct trap_frame (x86.h) on the current stack
 * and x86_trap handles it.  From ring 3 TSS.RSP0 points just past the
 * current thread's struct arch_regs (arch_regs.h), so the CPU's frame and
 * the pushes below land in the thread; the entry then moves to this CPU's
 * kernel stack and calls x86_user_trap, which never returns: it leaves
 * through x86_sysret or x86_iret.  NMI, #DF and #MC run on their own
 * stack (IST 1) and are always fatal.
 *
 * GS: the kernel's GS base is its struct pcpu (uspace.c), user space's is
 * 0 (it cannot change it: no FSGSBASE, no wrmsr); SWAPGS on every entry
 * from and exit to ring 3, and nowhere else. */
#define PCPU_CPU 0
#define PCPU_SCRATCH 8
#define PCPU_RSP0 16
#define PCPU_USTATE 24
#define USER_CS 0x23
#define USER_SS 0x1b

	.text
	.balign 16
	.globl	isr_stubs
isr_stubs:
	.set	vec, 0
	.rept	256
	.balign	16
	.if !((vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30))
	pushq	$0
	.endif
	pushq	$vec
	.if (vec == 2) || (vec == 8) || (vec == 18)
	jmp	isr_paranoid
	.else
	jmp	isr_common
	.endif
	.set	vec, vec + 1
	.endr

/* Save by ABI role (arch_regs.h): x14 first, x0 last, at the lowest address. */
.macro	push_roles rcx_val, r11_val
	pushq	%r15
	pushq	\r11_val
	pushq	\rcx_val
	.irp	reg, rbp, r14, rbx, rax, r13, r12, r9, r8, r10, rdx, rsi, rdi
	pushq	%\reg
	.endr
.endm

/* Load x0-x11 of struct arch_regs from the stack (push_roles' order). */
.macro	pop_roles
	.irp	reg, rdi, rsi, rdx, r10, r8, r9, r12, r13, rax, rbx, r14, rbp
	popq	%\reg
	.endr
.endm

isr_common:
	testb	$3, 24(%rsp)            /* the frame's CS: vector, error, rip, cs */
	jz	isr_kernel
	swapgs
	cld                             /* the user's DF is not the C ABI's */
	incq	%gs:PCPU_USTATE         /* even: out of user mode (uspace.c) */
	pushq	$0                      /* entry: not by syscall */
	push_roles %rcx, %r11
	leaq	-8(%rsp), %rdi          /* struct arch_regs: cr2 is below x0 */
	movq	%gs:PCPU_CPU, %rax
	movq	(%rax), %rsp            /* its stack_top (offset 0) */
	xorl	%ebp, %ebp
	jmp	x86_user_trap

/* syscall: rcx = return rip, r11 = rflags, SFMASK has cleared IF, TF, DF,
 * AC; rsp is still the user's, so nothing may touch the stack before it
 * moves to the thread's frame. */
	.globl	x86_syscall_entry
x86_syscall_entry:
	swapgs
	movq	%rsp, %gs:PCPU_SCRATCH
	movq	%gs:PCPU_RSP0, %rsp
	pushq	$USER_SS
	pushq	%gs:PCPU_SCRATCH
	pushq	%r11
	pushq	$USER_CS
	pushq	%rcx
	pushq	$0                      /* error */
	pushq	$0x80                   /* vector: as int $0x80 */
	pushq	$1                      /* entry: by syscall */
	incq	%gs:PCPU_USTATE
	push_roles $0, $0
	leaq	-8(%rsp), %rdi
	movq	%gs:PCPU_CPU, %rsi
	movq	(%rsi), %rsp
	xorl	%ebp, %ebp
	jmp	x86_syscall

/* x86_sysret(regs): back to a thread that came in by syscall, its rip
 * checked canonical (uspace.c); rcx and r11 take rip and rflags. */
	.globl	x86_sysret
x86_sysret:
	leaq	8(%rdi), %rsp           /* x0 */
	pop_roles                       /* now at x12 */
	movq	16(%rsp), %r15          /* x14 */
	movq	48(%rsp), %rcx          /* pc */
	movq	64(%rsp), %r11          /* rflags */
	movq	72(%rsp), %rsp          /* sp */
	swapgs
	sysretq

/* x86_iret(regs): every register back, through the interrupt frame. */
	.globl	x86_iret
x86_iret:
	leaq	8(%rdi), %rsp
	pop_roles
	popq	%rcx
	popq	%r11
	popq	%r15
	addq	$24, %rsp               /* entry, vector, error */
	swapgs
	iretq

/* NMI, #DF, #MC may arrive anywhere, even between a SWAPGS and the
 * return to ring 3: the GS base itself says whose it is (user's: 0). */
isr_paranoid:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	movl	$0xc0000101, %ecx
	rdmsr
	testl	%edx, %edx
	js	1f
	swapgs
1:	popq	%rdx
	popq	%rcx
	popq	%rax
isr_kernel:
	cld
	.irp	reg, rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15
	pushq	%\reg
	.endr
	movq	%rsp, %rdi
	call	x86_trap
	.irp	reg, r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax
	popq	%\reg
	.endr
	addq	$16, %rsp               /* vector, error code */
	iretq

/* Reload CS after lgdt: a far return to the next instruction. */
	.globl	x86_reload_segments
x86_reload_segments:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	popq	%rax                    /* return address */
	pushq	$0x08
	pushq	%rax
	lretq
