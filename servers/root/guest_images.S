/* Images the root task carries (built by the Makefile): the test guest its
 * VMM tests load, and the VMM and block servers it starts for a Linux
 * guest. */
	.section .images, "a"
	.balign	16
	.globl	guest_test_image, guest_test_image_end
guest_test_image:
	.incbin	GUEST_TEST_BIN
guest_test_image_end:

	.balign	16
	.globl	vmm_image
vmm_image:
	.incbin	VMM_ELF

	.balign	16
	.globl	blk_image
blk_image:
	.incbin	BLK_ELF

	.balign	16
	.globl	pci_image
pci_image:
	.incbin	PCI_ELF

	.balign	16
	.globl	vblk_image
vblk_image:
	.incbin	VBLK_ELF

	.balign	16
	.globl	vnet_image
vnet_image:
	.incbin	VNET_ELF

	.balign	16
	.globl	net_image
net_image:
	.incbin	NET_ELF

	/* the system make run boots when the initrd carries no description */
	.balign	16
	.globl	default_system, default_system_end
default_system:
	.incbin	DEFAULT_SYSTEM_DTB
default_system_end:

	.balign	16
	.globl	con_image
con_image:
	.incbin	CON_ELF
