/* Entry: the multiboot2 header and 32-bit entry (GRUB), the 64-bit entry
 * (Cairn's UEFI loader), and the boot page tables both use.
 *
 * The kernel is linked at KERNEL_VBASE + its physical address and entered
 * with paging off (multiboot2) or identity-mapped (UEFI).  Boot tables map
 * the first 4 GiB twice, identity and at DIRECT_MAP, and the first GiB at
 * KERNEL_VBASE; generic boot then builds the real tables (mm/kmap.c). */
#define KERNEL_VBASE 0xffffffff80000000
#define PA(x) ((x) - KERNEL_VBASE)
#define MB2_MAGIC 0xe85250d6
#define MB2_BOOT_MAGIC 0x36d76289
#define CR0_PE 0x1
#define CR0_WP 0x10000
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define CR4_PGE 0x80
#define EFER_MSR 0xc0000080
#define EFER_LME 0x100
#define EFER_NXE 0x800

	.section .text.head, "ax"
	.balign 8
mb2_header:
	.long	MB2_MAGIC
	.long	0                       /* i386 protected mode */
	.long	mb2_header_end - mb2_header
	.long	-(MB2_MAGIC + (mb2_header_end - mb2_header))
	.balign 8                       /* information request: mmap, ACPI */
	.word	1, 0
	.long	20
	.long	6, 14, 15
	.balign 8                       /* modules page-aligned */
	.word	6, 0
	.long	8
	.balign 8                       /* entry address: the 32-bit entry */
	.word	3, 0
	.long	12
	.long	PA(_start)
	.balign 8
	.word	0, 0                    /* end tag */
	.long	8
mb2_header_end:

/* GRUB: 32-bit protected mode, paging off, eax = magic, ebx = info. */
	.code32
	.globl	_start
_start:
	cli
	cmpl	$MB2_BOOT_MAGIC, %eax
	jne	1f
	movl	%ebx, %edi              /* info stays in edi into long mode */
	movl	$PA(boot_pml4), %eax
	movl	%eax, %cr3
	movl	%cr4, %eax
	orl	$(CR4_PAE | CR4_PGE), %eax
	movl	%eax, %cr4
	movl	$EFER_MSR, %ecx
	rdmsr
	orl	$(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE | CR0_WP), %eax
	movl	%eax, %cr0
	lgdt	PA(boot_gdtr)
	ljmp	$0x08, $PA(entry64_mb2)
1:	hlt                             /* not multiboot2: nothing to report to */
	jmp	1b

	.code64
entry64_mb2:
	xorl	%esi, %esi              /* 0: booted by multiboot2 (GRUB) */
	jmp	entry64_common

/* Cairn's UEFI loader: long mode, identity-mapped, boot services exited;
 * rdi = multiboot2-format info it built, rsi = 1. */
	.globl	entry64_uefi
entry64_uefi:
	cli
	movl	$1, %esi
	lgdt	boot_gdtr(%rip)         /* rip-relative: we run at PAs */
	pushq	$0x08
	leaq	entry64_common(%rip), %rax
	pushq	%rax
	lretq

entry64_common:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	leaq	boot_pml4(%rip), %rax   /* its PA: we still run at PAs */
	movq	%rax, %cr3
	movabsq	$high_entry, %rax
	jmp	*%rax

	.text
high_entry:
	/* clear .bss, the boot stack included: the arguments wait in r12/r13 */
	movq	%rdi, %r12
	movq	%rsi, %r13
	movabsq	$__bss_start, %rdi
	movabsq	$__bss_end, %rcx
	subq	%rdi, %rcx
	xorl	%eax, %eax
	rep stosb
	movq	%r12, %rdi
	movq	%r13, %rsi
	movabsq	$boot_stack_top, %rsp
	xorl	%ebp, %ebp
	call	x86_boot
	ud2

	.section .data
	.balign 16
boot_gdt:
	.quad	0
	.quad	0x00af9a000000ffff      /* 0x08: 64-bit code */
	.quad	0x00cf92000000ffff      /* 0x10: data */
boot_gdt_end:
boot_gdtr:
	.word	boot_gdt_end - boot_gdt - 1
	.quad	PA(boot_gdt)

/* Boot page tables (present|writable, 2 MiB pages). */
	.balign 4096
	.globl	boot_pml4
boot_pml4:
	.quad	PA(boot_pdpt_low) + 3   /* 0: identity, first 4 GiB */
	.fill	255, 8, 0
	.quad	PA(boot_pdpt_low) + 3   /* 256: DIRECT_MAP, first 4 GiB */
	.fill	254, 8, 0
	.quad	PA(boot_pdpt_high) + 3  /* 511: KERNEL_VBASE */
	.globl	boot_pdpt_low
boot_pdpt_low:                          /* x86_boot adds 1 GiB pages above 4 GiB */
	.quad	PA(boot_pd) + 0x0003
	.quad	PA(boot_pd) + 0x1003
	.quad	PA(boot_pd) + 0x2003
	.quad	PA(boot_pd) + 0x3003
	.fill	508, 8, 0
boot_pdpt_high:
	.fill	510, 8, 0
	.quad	PA(boot_pd) + 3         /* 510: first GiB at KERNEL_VBASE */
	.quad	0
boot_pd:                                /* 4 pages: 2048 x 2 MiB = 4 GiB */
	.set	i, 0
	.rept	2048
	.quad	(i << 21) + 0x83
	.set	i, i + 1
	.endr

	.section .bss
	.balign 16
boot_stack:
	.space	16384
	.globl	boot_stack_top
boot_stack_top:
