/* The last step of Cairn's AArch64 UEFI loader: from UEFI's EL2 (MMU and
 * caches on, identity-mapped) to the kernel's entry as the arm64 Image boot
 * protocol has it (Documentation/arm64/booting.rst): MMU and D-cache off,
 * interrupts masked, the image and DTB cleaned to the Point of Coherency,
 * x0 = the DTB's physical address, x1-x3 = 0.
 *
 * void cairn_enter(entry x0, dtb x1, dtb_size x2, image x3, image_size x4,
 *                  initrd x5, initrd_size x6)  -- does not return.
 * Called after ExitBootServices: nothing of the firmware's is needed again,
 * and no memory is touched once the MMU is off (a non-cacheable load could
 * miss data still dirty in the cache), so everything lives in registers. */

#define SCTLR_OFF 7 /* M (MMU), A (alignment checks), C (D-cache) */

	.text
	.balign	64
	.globl	cairn_enter
cairn_enter:
	msr	daifset, #0xf
	mov	x19, x0
	mov	x20, x1
	mov	x21, x2
	mov	x22, x3
	mov	x23, x4
	mov	x24, x5
	mov	x25, x6
	/* Clean this code to PoC while still cacheable: with the MMU off an
	 * instruction fetch may bypass the caches the firmware cleaned it to. */
	adr	x0, cairn_enter
	adr	x1, cairn_enter_end
	sub	x1, x1, x0
	bl	clean_to_poc
	dsb	sy

	/* MMU, D-cache and alignment checks off; the I-cache stays as it is
	 * (the protocol allows either).  Code runs on at the same address:
	 * UEFI's map is the identity.  Firmware without EL2 for us (QEMU's
	 * virtualization=off) runs at EL1, where SCTLR_EL2 would trap: there
	 * the kernel is entered all the same, to say why it cannot run. */
	mrs	x0, CurrentEL
	cmp	x0, #(1 << 2)
	b.eq	1f
	mrs	x0, sctlr_el2
	bic	x0, x0, #SCTLR_OFF
	msr	sctlr_el2, x0
	b	2f
1:	mrs	x0, sctlr_el1
	bic	x0, x0, #SCTLR_OFF
	msr	sctlr_el1, x0
2:	isb

	/* What the kernel reads uncached first: by VA (== PA now), which
	 * reaches PoC through any system cache.  Dirty lines written while the
	 * MMU was on go to memory; lines are dropped so that no stale copy
	 * outlives the kernel's uncached writes (relocations, bss). */
	mov	x0, x22
	mov	x1, x23
	bl	clean_to_poc
	mov	x0, x20
	mov	x1, x21
	bl	clean_to_poc
	mov	x0, x24
	mov	x1, x25
	bl	clean_to_poc
	/* Cairn also builds its first page tables with the MMU off, in RAM the
	 * firmware used: a dirty line left there would later be written back
	 * over them.  So every cache level up to the Level of Coherency is
	 * cleaned and invalidated by set/way too (as U-Boot does before booti). */
	bl	clean_all_by_set_way
	dsb	sy
	ic	iallu                   /* the kernel's code was written as data */
	dsb	sy
	isb

	mov	x0, x20
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	br	x19

/* Clean and invalidate [x0, x0 + x1) to PoC by VA; nothing when x1 is 0.
 * Uses x0-x4. */
clean_to_poc:
	cbz	x1, 2f
	mrs	x2, ctr_el0
	ubfx	x2, x2, #16, #4         /* DminLine: log2 of the smallest line in words */
	mov	x3, #4
	lsl	x2, x3, x2              /* line size in bytes */
	add	x1, x0, x1              /* end */
	sub	x3, x2, #1
	bic	x0, x0, x3              /* start of the first line */
1:	dc	civac, x0
	add	x0, x0, x2
	cmp	x0, x1
	b.lo	1b
2:	ret

/* Clean and invalidate every data or unified cache level below the Level of
 * Coherency by set/way.  CCSIDR_EL1 has two layouts: the 64-bit one when
 * ID_AA64MMFR2_EL1.CCIDX says so (QEMU's -cpu max has it).  Uses x0-x17. */
clean_all_by_set_way:
	mrs	x9, clidr_el1
	ubfx	x10, x9, #24, #3        /* LoC */
	mrs	x11, id_aa64mmfr2_el1
	ubfx	x11, x11, #20, #4       /* CCIDX */
	mov	x12, #0                 /* level, from 0 */
1:	cmp	x12, x10
	b.hs	9f
	add	x13, x12, x12, lsl #1
	lsr	x13, x9, x13
	and	x13, x13, #7            /* Ctype of this level */
	cmp	x13, #2                 /* 0 none, 1 I-cache only */
	b.lo	8f
	lsl	x14, x12, #1            /* CSSELR/DC operand: level in bits 3:1 */
	msr	csselr_el1, x14
	isb
	mrs	x15, ccsidr_el1
	and	x16, x15, #7
	add	x16, x16, #4            /* log2 of the line size in bytes */
	cbnz	x11, 2f
	ubfx	x17, x15, #3, #10       /* ways - 1 */
	ubfx	x15, x15, #13, #15      /* sets - 1 */
	b	3f
2:	ubfx	x17, x15, #3, #21
	ubfx	x15, x15, #32, #24
3:	clz	w0, w17                 /* way field shift: 32 - log2(ways) */
4:	mov	x1, x15                 /* each way ... */
5:	lsl	x2, x17, x0             /* ... each set */
	lsl	x3, x1, x16
	orr	x2, x2, x3
	orr	x2, x2, x14
	dc	cisw, x2
	subs	x1, x1, #1
	b.ge	5b
	subs	x17, x17, #1
	b.ge	4b
8:	add	x12, x12, #1
	b	1b
9:	dsb	sy
	ret
cairn_enter_end:
