/* For the FP test: fill every FP/SIMD register with a pattern derived
 * from a seed, and check that they still hold it. */
	.text
/* fp_fill(seed): v<n> = { seed + n, ~(seed + n) } */
	.globl	fp_fill
fp_fill:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	add	x1, x0, #\n
	mvn	x2, x1
	fmov	d\n, x1
	mov	v\n\().d[1], x2
	.endr
	ret

/* fp_check(seed) -> 1 if every register still holds its pattern, else 0 */
	.globl	fp_check
fp_check:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	add	x1, x0, #\n
	mvn	x2, x1
	fmov	x3, d\n
	cmp	x3, x1
	b.ne	1f
	mov	x3, v\n\().d[1]
	cmp	x3, x2
	b.ne	1f
	.endr
	mov	x0, #1
	ret
1:	mov	x0, #0
	ret

/* fp_all_zero() -> 1 if every FP/SIMD register is zero, else 0 */
	.globl	fp_all_zero
fp_all_zero:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	fmov	x3, d\n
	cbnz	x3, 1f
	mov	x3, v\n\().d[1]
	cbnz	x3, 1f
	.endr
	mov	x0, #1
	ret
1:	mov	x0, #0
	ret
