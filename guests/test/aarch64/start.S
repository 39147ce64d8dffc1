/* Test guest entry and exception vectors (EL1, MMU off). */
	.section .text.start
	.globl	_start
_start:
	ldr	x9, =stack_top
	mov	sp, x9
	adr	x9, vectors
	msr	vbar_el1, x9
	isb
	bl	guest_main
1:	wfi
	b	1b

/* A second VCPU, started by PSCI CPU_ON with x0 = its stack top. */
	.globl	secondary_entry
secondary_entry:
	mov	sp, x0
	adr	x9, vectors
	msr	vbar_el1, x9
	isb
	bl	guest_secondary
2:	wfi
	b	2b

/* Current EL with SP_ELx: synchronous at 0x200, IRQ at 0x280.  Everything
 * else lands in `unexpected`, which reports the vector's offset. */
	.macro	save
	sub	sp, sp, #256
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x30, [sp, #144]
	.endm
	.macro	restore
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x30, [sp, #144]
	add	sp, sp, #256
	eret
	.endm
	.macro	vec target, off
	.balign	128
	save
	mov	x0, #\off
	bl	\target
	restore
	.endm

	.balign	2048
vectors:
	vec	guest_unexpected, 0x000
	vec	guest_unexpected, 0x080
	vec	guest_unexpected, 0x100
	vec	guest_unexpected, 0x180
	vec	guest_sync, 0x200
	vec	guest_irq, 0x280
	vec	guest_unexpected, 0x300
	vec	guest_unexpected, 0x380
	.rept	8
	vec	guest_unexpected, 0x400
	.endr
