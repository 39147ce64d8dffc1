/* Entry of a native server: the kernel starts it with sp set and x0 the
 * boot-info page (root) or an argument; main's return value is ignored and
 * the thread parks in a wait on nothing (an invalid capability). */
	.text
	.globl	_start
_start:
	mov	x29, #0
	bl	main
1:	mov	x8, #10   /* SYS_YIELD, forever */
	svc	#0
	b	1b
