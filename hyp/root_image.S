/* The root task's ELF image, linked into the kernel.  A port without
 * native threads yet links an empty one. */
	.section .rodata
	.balign	16
	.globl	root_image_start, root_image_end
root_image_start:
#ifdef ROOT_ELF
	.incbin	ROOT_ELF
#endif
root_image_end:
