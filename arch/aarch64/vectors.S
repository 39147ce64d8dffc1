/* EL2 exception vectors.
 *
 * From EL2 itself (the kernel, its idle loop): the register file goes into
 * a struct trap_frame on the current stack and aarch64_trap(frame, kind)
 * handles it.  From EL0 (native threads): while a thread runs, SP_EL2 points
 * just past its struct arch_regs (arch_user_enter leaves it there), so the
 * same stores save the registers straight into the thread; the entry then
 * moves to this CPU's kernel stack.  A system call (the vector tests ESR
 * for it) calls aarch64_svc, whose fast paths return the registers to
 * leave with; anything else calls aarch64_user_trap, which never returns:
 * it leaves through arch_user_enter. */
#include "arch/aarch64/asm.h"

#define FRAME_SIZE (36 * 8)
#define THREAD_REGS 0x30 /* offsetof(struct thread, regs), checked in uspace.c */

/* x2-x29 to and from the frame at sp (x0, x1 and x30 are done apart). */
.macro save_x2_x29
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
.endm

.macro restore_x2_x29 base=sp, off=0
	ldp	x2, x3, [\base, #\off + 16]
	ldp	x4, x5, [\base, #\off + 32]
	ldp	x6, x7, [\base, #\off + 48]
	ldp	x8, x9, [\base, #\off + 64]
	ldp	x10, x11, [\base, #\off + 80]
	ldp	x12, x13, [\base, #\off + 96]
	ldp	x14, x15, [\base, #\off + 112]
	ldp	x16, x17, [\base, #\off + 128]
	ldp	x18, x19, [\base, #\off + 144]
	ldp	x20, x21, [\base, #\off + 160]
	ldp	x22, x23, [\base, #\off + 176]
	ldp	x24, x25, [\base, #\off + 192]
	ldp	x26, x27, [\base, #\off + 208]
	ldp	x28, x29, [\base, #\off + 224]
.endm

/* The registers of the struct arch_regs at \base + \off back, and to EL0
 * with SP_EL2 just past them: 22 instructions. */
.macro leave_to_user base, off
	add	sp, \base, #\off + FRAME_SIZE
	ldp	x2, x3, [\base, #\off + 256]
	msr	elr_el2, x2
	msr	spsr_el2, x3
	ldp	x30, x2, [\base, #\off + 240]
	msr	sp_el0, x2
	restore_x2_x29 \base, \off
	ldp	x0, x1, [\base, #\off]
	eret
.endm

.macro ventry kind
	.balign	128
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp]
	mov	x1, #\kind
	b	trap_common
.endm

	.text
	.balign	2048
	.globl	el2_vectors
el2_vectors:
	.irp	kind, 0, 1, 2, 3, 4, 5, 6, 7
	ventry	\kind
	.endr
	/* Lower EL, synchronous: a system call goes its own way (svc_entry),
	 * and so does a guest's HVC (hvc_entry: only EL1 has HVC); anything
	 * else through user_trap, which keeps ESR and FAR. */
	.balign	128
	stp	x0, x1, [sp, #-FRAME_SIZE]!
	mrs	x0, esr_el2
	lsr	x1, x0, #26
	cmp	x1, #0x15               /* EC: SVC from AArch64 */
	b.eq	svc_entry
	cmp	x1, #0x16               /* EC: HVC from AArch64 */
	b.eq	hvc_entry
	mov	x1, #8
	b	user_trap
	.irp	kind, 9, 10, 11
	.balign	128
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp]
	mov	x1, #\kind
	b	user_trap
	.endr
	.irp	kind, 12, 13, 14, 15
	ventry	\kind
	.endr

/* Every other exception from EL0: 32 instructions to the C handler (4 in
 * the vector). */
user_trap:
	save_x2_x29
	mrs	x2, sp_el0
	stp	x30, x2, [sp, #240]
	mrs	x2, elr_el2
	mrs	x3, spsr_el2
	stp	x2, x3, [sp, #256]
	mrs	x2, esr_el2
	mrs	x3, far_el2
	stp	x2, x3, [sp, #272]
	mov	x0, sp
	mrs	x2, tpidr_el2           /* struct cpu: the third argument */
	ldr	x3, [x2]                /* its stack_top, at offset 0 */
	mov	sp, x3
	mov	x29, #0
	b	aarch64_user_trap

/* arch_user_enter(regs, root, vmid): load the address space (if it is not
 * loaded already), then the registers, and return to EL0 with SP_EL2 just
 * past regs for the next entry. */
	.globl	arch_user_enter
arch_user_enter:
	orr	x1, x1, x2, lsl #48
	mrs	x3, vttbr_el2
	cmp	x1, x3
	b.eq	user_restore
	msr	vttbr_el2, x1
	isb
	b	user_restore

/* A system call or a guest's HVC: 29 instructions from the vector to
 * aarch64_svc or aarch64_hvc, which take the thread (its registers are at
 * THREAD_REGS in it) and return the thread to leave to (thread_restore);
 * the general path never returns.  ESR and FAR are not stored: a call
 * needs neither (aarch64_hvc stores ESR).  The frame chain is not ended
 * here as user_trap ends it (an instruction each way): the fast path
 * makes no frame, and a debugger's backtrace of the general path stops at
 * the thread's own frame pointer, which EL2's tables do not map. */
.macro fast_entry fn
	save_x2_x29
	mrs	x2, sp_el0
	stp	x30, x2, [sp, #240]
	mrs	x2, elr_el2
	mrs	x3, spsr_el2
	stp	x2, x3, [sp, #256]
	sub	x0, sp, #THREAD_REGS    /* the thread */
	mrs	x1, tpidr_el2           /* struct cpu */
	ldr	x2, [x1]                /* its stack_top, at offset 0 */
	mov	sp, x2
	bl	\fn                     /* the thread to leave to, in x0 */
.endm

hvc_entry:
	fast_entry aarch64_hvc
	b	thread_restore

svc_entry:
	fast_entry aarch64_svc
	/* on into thread_restore */
thread_restore:
	leave_to_user x0, THREAD_REGS

/* The registers at x0 back, and to EL0 with SP_EL2 just past them. */
user_restore:
	leave_to_user x0, 0

trap_common:
	save_x2_x29
	add	x2, sp, #FRAME_SIZE
	stp	x30, x2, [sp, #240]     /* x30, sp before the trap */
	mrs	x2, elr_el2
	mrs	x3, spsr_el2
	stp	x2, x3, [sp, #256]
	mrs	x2, esr_el2
	mrs	x3, far_el2
	stp	x2, x3, [sp, #272]
	mov	x0, sp
	bl	aarch64_trap
	ldp	x2, x3, [sp, #256]
	msr	elr_el2, x2
	msr	spsr_el2, x3
	restore_x2_x29
	ldr	x30, [sp, #240]
	ldp	x0, x1, [sp]
	add	sp, sp, #FRAME_SIZE
	eret
