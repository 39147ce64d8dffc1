/* For the FP test: fill every FP register with a pattern derived from a
 * seed, and check that they still hold it.  User C code has no floating
 * point, so only this file touches the FP registers. */
	.text
/* fp_fill(seed): f<n> = seed + n */
	.globl	fp_fill
fp_fill:
	addi	t0, a0, 0
	fmv.d.x	f0, t0
	addi	t0, a0, 1
	fmv.d.x	f1, t0
	addi	t0, a0, 2
	fmv.d.x	f2, t0
	addi	t0, a0, 3
	fmv.d.x	f3, t0
	addi	t0, a0, 4
	fmv.d.x	f4, t0
	addi	t0, a0, 5
	fmv.d.x	f5, t0
	addi	t0, a0, 6
	fmv.d.x	f6, t0
	addi	t0, a0, 7
	fmv.d.x	f7, t0
	addi	t0, a0, 8
	fmv.d.x	f8, t0
	addi	t0, a0, 9
	fmv.d.x	f9, t0
	addi	t0, a0, 10
	fmv.d.x	f10, t0
	addi	t0, a0, 11
	fmv.d.x	f11, t0
	addi	t0, a0, 12
	fmv.d.x	f12, t0
	addi	t0, a0, 13
	fmv.d.x	f13, t0
	addi	t0, a0, 14
	fmv.d.x	f14, t0
	addi	t0, a0, 15
	fmv.d.x	f15, t0
	addi	t0, a0, 16
	fmv.d.x	f16, t0
	addi	t0, a0, 17
	fmv.d.x	f17, t0
	addi	t0, a0, 18
	fmv.d.x	f18, t0
	addi	t0, a0, 19
	fmv.d.x	f19, t0
	addi	t0, a0, 20
	fmv.d.x	f20, t0
	addi	t0, a0, 21
	fmv.d.x	f21, t0
	addi	t0, a0, 22
	fmv.d.x	f22, t0
	addi	t0, a0, 23
	fmv.d.x	f23, t0
	addi	t0, a0, 24
	fmv.d.x	f24, t0
	addi	t0, a0, 25
	fmv.d.x	f25, t0
	addi	t0, a0, 26
	fmv.d.x	f26, t0
	addi	t0, a0, 27
	fmv.d.x	f27, t0
	addi	t0, a0, 28
	fmv.d.x	f28, t0
	addi	t0, a0, 29
	fmv.d.x	f29, t0
	addi	t0, a0, 30
	fmv.d.x	f30, t0
	addi	t0, a0, 31
	fmv.d.x	f31, t0
	ret

/* fp_check(seed) -> 1 if every register still holds its pattern, else 0 */
	.globl	fp_check
fp_check:
	addi	t0, a0, 0
	fmv.x.d	t1, f0
	bne	t0, t1, 1f
	addi	t0, a0, 1
	fmv.x.d	t1, f1
	bne	t0, t1, 1f
	addi	t0, a0, 2
	fmv.x.d	t1, f2
	bne	t0, t1, 1f
	addi	t0, a0, 3
	fmv.x.d	t1, f3
	bne	t0, t1, 1f
	addi	t0, a0, 4
	fmv.x.d	t1, f4
	bne	t0, t1, 1f
	addi	t0, a0, 5
	fmv.x.d	t1, f5
	bne	t0, t1, 1f
	addi	t0, a0, 6
	fmv.x.d	t1, f6
	bne	t0, t1, 1f
	addi	t0, a0, 7
	fmv.x.d	t1, f7
	bne	t0, t1, 1f
	addi	t0, a0, 8
	fmv.x.d	t1, f8
	bne	t0, t1, 1f
	addi	t0, a0, 9
	fmv.x.d	t1, f9
	bne	t0, t1, 1f
	addi	t0, a0, 10
	fmv.x.d	t1, f10
	bne	t0, t1, 1f
	addi	t0, a0, 11
	fmv.x.d	t1, f11
	bne	t0, t1, 1f
	addi	t0, a0, 12
	fmv.x.d	t1, f12
	bne	t0, t1, 1f
	addi	t0, a0, 13
	fmv.x.d	t1, f13
	bne	t0, t1, 1f
	addi	t0, a0, 14
	fmv.x.d	t1, f14
	bne	t0, t1, 1f
	addi	t0, a0, 15
	fmv.x.d	t1, f15
	bne	t0, t1, 1f
	addi	t0, a0, 16
	fmv.x.d	t1, f16
	bne	t0, t1, 1f
	addi	t0, a0, 17
	fmv.x.d	t1, f17
	bne	t0, t1, 1f
	addi	t0, a0, 18
	fmv.x.d	t1, f18
	bne	t0, t1, 1f
	addi	t0, a0, 19
	fmv.x.d	t1, f19
	bne	t0, t1, 1f
	addi	t0, a0, 20
	fmv.x.d	t1, f20
	bne	t0, t1, 1f
	addi	t0, a0, 21
	fmv.x.d	t1, f21
	bne	t0, t1, 1f
	addi	t0, a0, 22
	fmv.x.d	t1, f22
	bne	t0, t1, 1f
	addi	t0, a0, 23
	fmv.x.d	t1, f23
	bne	t0, t1, 1f
	addi	t0, a0, 24
	fmv.x.d	t1, f24
	bne	t0, t1, 1f
	addi	t0, a0, 25
	fmv.x.d	t1, f25
	bne	t0, t1, 1f
	addi	t0, a0, 26
	fmv.x.d	t1, f26
	bne	t0, t1, 1f
	addi	t0, a0, 27
	fmv.x.d	t1, f27
	bne	t0, t1, 1f
	addi	t0, a0, 28
	fmv.x.d	t1, f28
	bne	t0, t1, 1f
	addi	t0, a0, 29
	fmv.x.d	t1, f29
	bne	t0, t1, 1f
	addi	t0, a0, 30
	fmv.x.d	t1, f30
	bne	t0, t1, 1f
	addi	t0, a0, 31
	fmv.x.d	t1, f31
	bne	t0, t1, 1f
	li	a0, 1
	ret
1:	li	a0, 0
	ret

/* fp_all_zero() -> 1 if every FP register is zero, else 0 */
	.globl	fp_all_zero
fp_all_zero:
	fmv.x.d	t1, f0
	bnez	t1, 1f
	fmv.x.d	t1, f1
	bnez	t1, 1f
	fmv.x.d	t1, f2
	bnez	t1, 1f
	fmv.x.d	t1, f3
	bnez	t1, 1f
	fmv.x.d	t1, f4
	bnez	t1, 1f
	fmv.x.d	t1, f5
	bnez	t1, 1f
	fmv.x.d	t1, f6
	bnez	t1, 1f
	fmv.x.d	t1, f7
	bnez	t1, 1f
	fmv.x.d	t1, f8
	bnez	t1, 1f
	fmv.x.d	t1, f9
	bnez	t1, 1f
	fmv.x.d	t1, f10
	bnez	t1, 1f
	fmv.x.d	t1, f11
	bnez	t1, 1f
	fmv.x.d	t1, f12
	bnez	t1, 1f
	fmv.x.d	t1, f13
	bnez	t1, 1f
	fmv.x.d	t1, f14
	bnez	t1, 1f
	fmv.x.d	t1, f15
	bnez	t1, 1f
	fmv.x.d	t1, f16
	bnez	t1, 1f
	fmv.x.d	t1, f17
	bnez	t1, 1f
	fmv.x.d	t1, f18
	bnez	t1, 1f
	fmv.x.d	t1, f19
	bnez	t1, 1f
	fmv.x.d	t1, f20
	bnez	t1, 1f
	fmv.x.d	t1, f21
	bnez	t1, 1f
	fmv.x.d	t1, f22
	bnez	t1, 1f
	fmv.x.d	t1, f23
	bnez	t1, 1f
	fmv.x.d	t1, f24
	bnez	t1, 1f
	fmv.x.d	t1, f25
	bnez	t1, 1f
	fmv.x.d	t1, f26
	bnez	t1, 1f
	fmv.x.d	t1, f27
	bnez	t1, 1f
	fmv.x.d	t1, f28
	bnez	t1, 1f
	fmv.x.d	t1, f29
	bnez	t1, 1f
	fmv.x.d	t1, f30
	bnez	t1, 1f
	fmv.x.d	t1, f31
	bnez	t1, 1f
	li	a0, 1
	ret
1:	li	a0, 0
	ret
