/* Application-processor start: copied to TRAMPOLINE_PA (0x8000) and entered
 * in real mode at CS:IP = 0x0800:0000 by the start-up IPI.  Goes straight
 * to long mode on the boot page tables, then to x86_secondary(cpu) on the
 * CPU's own stack.  tramp_args (smp.c) is the last 24 bytes. */
#define TRAMP 0x8000
#define OFF(x) ((x) - ap_trampoline)

	.section .rodata
	.code16
	.globl	ap_trampoline, ap_trampoline_end
ap_trampoline:
	cli
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	OFF(tramp_gdtr)
	movl	%cr4, %eax
	orl	$0xa0, %eax             /* PAE, PGE */
	movl	%eax, %cr4
	movl	OFF(tramp_cr3), %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx       /* EFER: LME, NXE */
	rdmsr
	orl	$0x900, %eax
	wrmsr
	movl	%cr0, %eax
	andl	$0x9fffffff, %eax       /* caches on: INIT leaves CD and NW set */
	orl	$0x80010001, %eax       /* PG, WP, PE */
	movl	%eax, %cr0
	ljmpl	$0x08, $(TRAMP + OFF(tramp64))

	.code64
tramp64:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movq	(TRAMP + OFF(tramp_cpu)), %rdi
	movq	(%rdi), %rsp            /* cpu->stack_top (offset 0) */
	pushq	$0                      /* as if called: ABI stack alignment */
	jmp	*(TRAMP + OFF(tramp_entry))

	.balign 8
tramp_gdt:
	.quad	0
	.quad	0x00af9a000000ffff      /* 0x08: 64-bit code */
	.quad	0x00cf92000000ffff      /* 0x10: data */
tramp_gdtr:
	.word	tramp_gdtr - tramp_gdt - 1
	.long	TRAMP + OFF(tramp_gdt)
	.balign 8
tramp_cr3:	.quad 0
tramp_cpu:	.quad 0
tramp_entry:	.quad 0
ap_trampoline_end:
