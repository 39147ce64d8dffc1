/* For the FP test: fill every FP register with a pattern derived from a
 * seed, and check that they still hold it.  User C code has no floating
 * point, so only this file touches the FP registers. */
	.text
/* fp_fill(seed): f<n> = seed + n */
	.globl	fp_fill
fp_fill:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	addi	t0, a0, \n
	fmv.d.x	f\n, t0
	.endr
	ret

/* fp_check(seed) -> 1 if every register still holds its pattern, else 0 */
	.globl	fp_check
fp_check:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	addi	t0, a0, \n
	fmv.x.d	t1, f\n
	bne	t0, t1, 1f
	.endr
	li	a0, 1
	ret
1:	li	a0, 0
	ret

/* fp_all_zero() -> 1 if every FP register is zero, else 0 */
	.globl	fp_all_zero
fp_all_zero:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	fmv.x.d	t1, f\n
	bnez	t1, 1f
	.endr
	li	a0, 1
	ret
1:	li	a0, 0
	ret
