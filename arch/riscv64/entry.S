/* HS-mode trap entry: every trap comes here (stvec direct mode).  The frame
 * holds x1-x31, sepc, sstatus, scause and stval (struct trap_frame). */
#define FRAME (36 * 8)

	.section .text
	.balign 4
	.globl riscv_trap_entry
riscv_trap_entry:
	addi	sp, sp, -FRAME
	.irp	n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	sd	x\n, (\n * 8)(sp)
	.endr
	addi	t0, sp, FRAME
	sd	t0, (2 * 8)(sp)         /* sp before the trap */
	csrr	t0, sepc
	sd	t0, (32 * 8)(sp)
	csrr	t0, sstatus
	sd	t0, (33 * 8)(sp)
	csrr	t0, scause
	sd	t0, (34 * 8)(sp)
	csrr	t0, stval
	sd	t0, (35 * 8)(sp)
	mv	a0, sp
	call	riscv_trap
	ld	t0, (32 * 8)(sp)
	csrw	sepc, t0
	ld	t0, (33 * 8)(sp)
	csrw	sstatus, t0
	.irp	n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ld	x\n, (\n * 8)(sp)
	.endr
	addi	sp, sp, FRAME
	sret
