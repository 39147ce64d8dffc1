/* The riscv64 test guest's entry and trap vector (VS-mode, vsatp bare). */
	.section .text.start
	.globl	_start
_start:
	lla	sp, stack_top
	li	tp, 0                   /* tp: this hart's number */
	lla	t0, trap_entry
	csrw	stvec, t0
	call	guest_main
1:	wfi
	j	1b

/* A second hart, started by SBI HSM hart_start: a0 its number, a1 (the
 * opaque word) its stack top. */
	.globl	secondary_entry
secondary_entry:
	mv	sp, a1
	mv	tp, a0
	lla	t0, trap_entry
	csrw	stvec, t0
	call	guest_secondary
2:	wfi
	j	2b

/* Every trap: the caller-saved registers kept, guest_trap(scause, stval). */
	.balign	4
trap_entry:
	addi	sp, sp, -128
	sd	ra, 0(sp)
	.set	off, 8
	.irp	n, 5,6,7,10,11,12,13,14,15,16,17,28,29,30,31
	sd	x\n, off(sp)
	.set	off, off + 8
	.endr
	csrr	a0, scause
	csrr	a1, stval
	call	guest_trap
	ld	ra, 0(sp)
	.set	off, 8
	.irp	n, 5,6,7,10,11,12,13,14,15,16,17,28,29,30,31
	ld	x\n, off(sp)
	.set	off, off + 8
	.endr
	addi	sp, sp, 128
	sret
