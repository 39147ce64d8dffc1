/* Guest images the root task's VMM tests load (built by the Makefile). */
	.section .rodata
	.balign	16
	.globl	guest_test_image, guest_test_image_end
guest_test_image:
	.incbin	GUEST_TEST_BIN
guest_test_image_end:
