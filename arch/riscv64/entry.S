/* HS-mode trap entry: every trap comes here (stvec direct mode).
 *
 * sscratch tells where a trap came from: 0 while the kernel runs, the
 * current thread's struct arch_regs while a native thread runs in VU-mode
 * (arch_user_enter leaves it there).  From the kernel the frame holds
 * x1-x31, sepc, sstatus, scause and stval (struct trap_frame) on the
 * current stack and riscv_trap handles it.  From VU-mode the registers go
 * straight into the thread's struct arch_regs, in its ABI-role order
 * (arch_regs.h), then tp comes from regs->cpu and sp from that CPU's
 * stack_top; then riscv_ecall(regs, cpu) for a system call, whose fast
 * paths return the registers to leave with (ecall_restore), a guest's SBI
 * call to riscv_guest_ecall (ecall.c, its VMM's registers: user_restore),
 * or riscv_user_trap(regs, scause) for anything else; the general paths
 * never return but leave through arch_user_enter. */
#define FRAME (36 * 8)
#define R_SP (32 * 8)
#define R_PC (33 * 8)
#define R_CPU (34 * 8)
#define R_SPP (35 * 8)
#define CPU_ID 8 /* offsetof(struct cpu, id), checked in uspace.c */
#define HSTATUS_SPV (1 << 7)
#define SSTATUS_SPP (1 << 8)
#define SSTATUS_FS (3 << 13)
#define HC_BASE_HI 0xc600 /* HC_BASE >> 16, checked in ecall.c */

/* A thread's registers but a0 and sp, stored to (op sd) or loaded from
 * (ld) its struct arch_regs at base, whose x[] is in ABI-role order
 * (arch_regs.h): a0-a7 x[0-7], t0-t2 x[8-10], t3-t6 x[11-14], ra x[15],
 * gp tp x[16-17], s0 s1 x[18-19], s2-s11 x[20-29]. */
.macro	roles op, base
	.irp	n, 11,12,13,14,15,16,17
	\op	x\n, ((\n - 10) * 8)(\base)
	.endr
	.irp	n, 5,6,7
	\op	x\n, ((\n + 3) * 8)(\base)
	.endr
	.irp	n, 28,29,30,31
	\op	x\n, ((\n - 17) * 8)(\base)
	.endr
	\op	x1, (15 * 8)(\base)
	.irp	n, 3,4
	\op	x\n, ((\n + 13) * 8)(\base)
	.endr
	.irp	n, 8,9
	\op	x\n, ((\n + 10) * 8)(\base)
	.endr
	.irp	n, 18,19,20,21,22,23,24,25,26,27
	\op	x\n, ((\n + 2) * 8)(\base)
	.endr
.endm

	.section .text
	.balign 4
	.globl riscv_trap_entry
riscv_trap_entry:
	csrrw	sp, sscratch, sp
	bnez	sp, user_trap
	csrrw	sp, sscratch, sp        /* from the kernel: sp back, sscratch 0 */
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
	ld	t0, (33 * 8)(sp)        /* sstatus as it was, but for FS: a */
	csrr	t1, sstatus             /* handler may have changed this CPU's */
	li	t2, SSTATUS_FS          /* FP state (hyp/fp.c), which must stick */
	and	t1, t1, t2
	not	t2, t2
	and	t0, t0, t2
	or	t0, t0, t1
	csrw	sstatus, t0
	.irp	n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ld	x\n, (\n * 8)(sp)
	.endr
	addi	sp, sp, FRAME
	sret

/* From VU-mode: sp is the thread's struct arch_regs (roles above). */
user_trap:
	sd	a0, 0(sp)
	roles	sd, sp
	csrrw	t0, sscratch, zero      /* the thread's sp; sscratch 0: in the kernel */
	sd	t0, R_SP(sp)
	csrr	t1, sepc
	csrr	a1, scause             /* stval, htval: read where a fault needs them */
	mv	a0, sp
	ld	tp, R_CPU(sp)
	ld	sp, 0(tp)               /* cpu->stack_top, at offset 0 */
	li	t0, 8                   /* ecall from VU-mode */
	bne	a1, t0, 1f
	addi	t1, t1, 4               /* it returns past the ecall */
	sd	t1, R_PC(a0)
	mv	a1, tp
	call	riscv_ecall             /* the registers to leave with */
	j	ecall_restore
1:	sd	t1, R_PC(a0)
	li	s0, 0                   /* the frame chain ends; ecall.c keeps no chain, so
					 * a debugger there may follow the user's s0 */
	li	t0, 10                  /* ecall from VS-mode: a guest's SBI call */
	bne	a1, t0, 2f
	srli	t0, a7, 16              /* not a Cairn hypercall (a7, the EID, still the guest's) */
	li	t1, HC_BASE_HI
	beq	t0, t1, 2f
	mv	a1, tp
	call	riscv_guest_ecall       /* its VMM's registers (sstatus.SPP to clear) */
	j	user_restore
2:	j	riscv_user_trap

/* arch_user_enter(regs, root, vmid): load the G-stage (Sv39x4) table for
 * this VMID if it is not loaded already (VMIDs tag the TLB, so a switch
 * needs no fence; riscv_vmid_harts notes the hart for TLB flushes), then
 * the registers, and sret to VU-mode with vsatp bare: the thread's
 * addresses are guest-physical, translated only by the G-stage. */
	.globl	arch_user_enter
arch_user_enter:
	li	t0, 1
	slli	t0, t0, 63              /* mode 8: Sv39x4 */
	slli	t1, a2, 44
	or	t0, t0, t1
	srli	t1, a1, 12
	or	t0, t0, t1
	csrr	t1, hgatp
	beq	t0, t1, 1f
	lla	t1, riscv_vmid_harts    /* this hart's bit in riscv_vmid_harts[vmid] */
	slli	t2, a2, 3
	add	t1, t1, t2
	lw	t2, CPU_ID(tp)
	li	t3, 1
	sll	t3, t3, t2
	ld	t2, 0(t1)
	and	t2, t2, t3
	bnez	t2, 2f
	amoor.d.aqrl zero, t3, (t1)     /* seen before the VMID is loaded */
2:	csrw	hgatp, t0
1:
	.globl	riscv_user_restore
riscv_user_restore:
user_restore:                           /* a0: the registers, space loaded */
	li	t0, HSTATUS_SPV
	csrs	hstatus, t0
	li	t0, SSTATUS_SPP         /* VU-mode, or a guest's VS-mode (regs->spp) */
	csrc	sstatus, t0
	ld	t0, R_SPP(a0)
	csrs	sstatus, t0
/* riscv_ecall's way back: it returns only native threads (a VCPU's thread
 * leaves by kernel_enter or riscv_user_restore), and nothing has trapped to HS-mode since the ecall
 * set hstatus.SPV and cleared sstatus.SPP, so both stand as they were. */
ecall_restore:
	sd	tp, R_CPU(a0)
	csrw	sscratch, a0
	ld	t0, R_PC(a0)
	csrw	sepc, t0
	roles	ld, a0
	ld	sp, R_SP(a0)
	ld	a0, 0(a0)
	sret
