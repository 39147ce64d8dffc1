/* Entry: the Linux arm64 Image header, self-relocation, exception-level
 * checks, and the secondary-CPU entry point.  Runs with the MMU off. */
#include "arch/aarch64/asm.h"

#define R_AARCH64_RELATIVE 1027
/* SCR_EL3: NS, RES1 bits 4-5, SMD (no SMC to us), HCE (HVC on), RW (EL2 is AArch64) */
#define SCR_EL3_VALUE 0x5b1
/* SPSR: EL2h with D, A, I, F masked */
#define SPSR_EL2H_MASKED 0x3c9

	.section .text.head, "ax"
	.globl _start
_start:
	/* Documentation/arm64/booting.rst: the Image header */
	b	primary_entry           /* code0 */
	.long	0                       /* code1 */
	.quad	0                       /* text_offset: anywhere 2 MiB aligned */
	.quad	_kernel_size            /* image_size, including bss */
	.quad	0xa                     /* flags: LE, 4 KiB pages, anywhere */
	.quad	0, 0, 0                 /* res2-4 */
	.ascii	"ARM\x64"               /* magic */
	.long	0                       /* res5 (PE header offset: none) */

primary_entry:
	mov	x19, x0                 /* DTB physical address */
	mrs	x20, CurrentEL
	lsr	x20, x20, #2
	cmp	x20, #3
	b.ne	1f
	/* Entered at EL3: make EL2 non-secure AArch64 and drop to it. */
	mov	x1, #SCR_EL3_VALUE
	msr	scr_el3, x1
	mov	x1, #0xf                /* ICC_SRE_EL3: SRE, DFB, DIB, Enable (for EL2) */
	msr	S3_6_C12_C12_5, x1
	isb
	mov	x1, #SPSR_EL2H_MASKED
	msr	spsr_el3, x1
	adr	x1, primary_entry
	msr	elr_el3, x1
	mov	x0, x19
	eret
1:
	/* Apply our own R_AARCH64_RELATIVE relocations (linked at 0). */
	adr_l	x2, _start
	adr_l	x3, __rela_start
	adr_l	x4, __rela_end
2:	cmp	x3, x4
	b.hs	3f
	ldp	x5, x6, [x3], #16       /* r_offset, r_info */
	ldr	x7, [x3], #8            /* r_addend */
	cmp	w6, #R_AARCH64_RELATIVE
	b.ne	2b
	add	x7, x7, x2
	str	x7, [x2, x5]
	b	2b
3:
	adr_l	x3, __bss_start
	adr_l	x4, __bss_end
4:	cmp	x3, x4
	b.hs	5f
	stp	xzr, xzr, [x3], #16
	b	4b
5:
	adr_l	x1, boot_stack_top
	mov	sp, x1
	mov	x0, x19
	mov	x1, x20
	bl	aarch64_boot
	b	.

/* PSCI CPU_ON lands here at EL2, MMU off; x0 = struct cpu * (identity VA). */
	.globl secondary_entry
secondary_entry:
	ldr	x1, [x0]                /* cpu->stack_top (offset 0, static_assert) */
	mov	sp, x1
	bl	aarch64_secondary
	b	.

	.section .bss
	.balign 16
boot_stack:
	.space	16384
	.globl	boot_stack_top
boot_stack_top:
