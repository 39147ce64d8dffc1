/* FP register file save and load for native threads (hyp/fp.c says when).
 * struct arch_fp: f0-f31, then fcsr.  The kernel itself is built without
 * FP (rv64imac); these run only with sstatus.FS on (arch_fp_trap(false)). */
	.option	arch, +d
	.text
	.globl	arch_fp_save
arch_fp_save:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	fsd	f\n, (\n * 8)(a0)
	.endr
	frcsr	t0
	sd	t0, 256(a0)
	ret

	.globl	arch_fp_load
arch_fp_load:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	fld	f\n, (\n * 8)(a0)
	.endr
	ld	t0, 256(a0)
	fscsr	t0
	ret
