/* Test-only boot shim (not part of the kernel): QEMU starts it as the
 * -kernel Image; it enters the real kernel, which a -device loader put at
 * KERNEL_PA, with x0 pointing at a DTB blob loaded at DTB_PA.  This lets a
 * scenario hand the kernel a tree QEMU would otherwise patch (QEMU re-adds
 * /memory to any -dtb) or a blob that is not a DTB at all. */
	.text
	.globl _start
_start:
	b	1f
	.long	0
	.quad	0, 0x1000, 0xa, 0, 0, 0
	.ascii	"ARM\x64"
	.long	0
1:	ldr	x0, dtb_pa
	ldr	x1, kernel_pa
	br	x1
	.balign 8
dtb_pa:		.quad 0x4c000000
kernel_pa:	.quad 0x40400000
