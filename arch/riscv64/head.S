/* Entry from the SBI firmware (OpenSBI fw_dynamic/fw_jump, or U-Boot's
 * booti) in HS-mode with a0 = hart id, a1 = DTB, translation off: the Linux
 * RISC-V Image header, self-relocation, and the secondary-hart entry. */
#define R_RISCV_RELATIVE 3

	.option norvc
	.section .text.head, "ax"
	.globl _start
_start:
	/* Documentation/riscv/boot-image-header.rst */
	j	primary_entry           /* code0 */
	.word	0                       /* code1 */
	.quad	0x200000                /* text_offset: 2 MiB aligned */
	.quad	_end - _start           /* image_size, including bss: a link-time
	                                 * ADD64/SUB64 pair, not a dynamic reloc */
	.quad	0                       /* flags: little-endian */
	.word	2                       /* version 0.2 */
	.word	0                       /* res1 */
	.quad	0                       /* res2 */
	.ascii	"RISCV\0\0\0"           /* magic (deprecated) */
	.ascii	"RSC\x05"               /* magic2 */
	.word	0                       /* res3 (PE header offset: none) */

primary_entry:
	csrw	sie, zero
	mv	s0, a0
	mv	s1, a1
	/* Firmware that lets every hart in keeps one: the others park. */
	lla	t0, boot_lottery
	li	t1, 1
	amoswap.w t1, t1, (t0)
	bnez	t1, lost_lottery
	/* Apply our own R_RISCV_RELATIVE relocations (linked at 0). */
	lla	t0, _start
	lla	t1, __rela_start
	lla	t2, __rela_end
	li	t6, R_RISCV_RELATIVE
1:	bgeu	t1, t2, 2f
	ld	t3, 0(t1)               /* r_offset */
	ld	t4, 8(t1)               /* r_info */
	ld	t5, 16(t1)              /* r_addend */
	addi	t1, t1, 24
	bne	t4, t6, 1b
	add	t5, t5, t0
	add	t3, t3, t0
	sd	t5, 0(t3)
	j	1b
2:	lla	t1, __bss_start
	lla	t2, __bss_end
3:	bgeu	t1, t2, 4f
	sd	zero, 0(t1)
	addi	t1, t1, 8
	j	3b
4:	fence.i
	lla	sp, boot_stack_top
	lla	tp, cpus                /* cpus[0] is the boot hart */
	mv	a0, s0
	mv	a1, s1
	call	riscv_boot
park:	wfi
	j	park

/* OpenSBI before 1.3 (Debian's 1.1) marks a hart START_PENDING before it
 * writes the hart's entry, so a hart that wakes in between leaves for the
 * stale one, _start (fixed upstream by e8e9ed37).  arch_cpu_start names the
 * struct cpu it starts first; its hart goes where it was sent after all. */
lost_lottery:
	ld	a1, riscv_start_cpu
	beqz	a1, park
	fence	r, r
	ld	t0, 24(a1)              /* its hwid (cpu.c asserts the offset) */
	bne	t0, a0, park

/* SBI HSM hart_start lands here: a0 = hart id, a1 = struct cpu *. */
	.globl secondary_entry
secondary_entry:
	csrw	sie, zero
	ld	sp, 0(a1)               /* cpu->stack_top (offset 0) */
	mv	tp, a1
	mv	a0, a1
	call	riscv_secondary
	j	park

	.section .data
	.balign 4
boot_lottery:
	.word	0

	.section .bss
	.balign 16
boot_stack:
	.space	16384
	.globl	boot_stack_top
boot_stack_top:
