/* Entry of a native server: the kernel starts it with sp set and a0 the
 * boot-info page (root) or an argument; main's return value is ignored and
 * the thread yields forever. */
	.text
	.globl	_start
_start:
	li	s0, 0
	li	ra, 0
	call	main
1:	li	t0, 10   /* SYS_YIELD, forever */
	ecall
	j	1b
