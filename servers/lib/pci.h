/* The PCI server's protocol (servers/pci).  The server owns the host
 * bridge: configuration space and the memory window.  Calls on its
 * endpoint (slot PCI_SLOT_EP in its CNode):
 *
 * With the unbadged capability (the root task's, the manager):
 *   PCI_FIND    x0 ID to match (config word 0: vendor | device << 16; 0
 *               matches any), x1 how many matches to skip
 *               → x0 error (E_NOENT: no more), x1 the device's handle,
 *               x2, x3 the physical range its memory BARs lie in (whole
 *               2 MiB frames that cover no other device's), x4 the GIC
 *               INTID its INTx pin raises (0: none), x5 config word 2
 *               (revision | class << 8), x6 its requester ID (bus << 8 |
 *               device << 3 | function: its IOMMU stream ID on QEMU's
 *               virt, whose iommu-map is the identity).
 * With a capability minted with badge handle + 1 (what the root task gives
 * the device's driver: authority over that one device):
 *   PCI_CFG_READ  x0 offset (a multiple of 4 below 4096) → x0 error, x1 the word
 *   PCI_ENABLE    memory decoding and bus mastering on → x0 error
 *   PCI_MSIX      MSI-X on (its capability's enable bit set, function mask
 *                 clear): the device signals through its MSI-X table, no
 *                 longer INTx → x0 error (E_NOENT: no MSI-X capability)
 * The driver cannot write configuration space: its BARs stay where the PCI
 * server placed them, inside the frames it was given; the MSI-X table it
 * programs itself lies in one of those BARs. */
#pragma once

#define PCI_SLOT_EP 8
enum pci_label { PCI_FIND = 1, PCI_CFG_READ, PCI_ENABLE, PCI_MSIX };
#define PCI_CAP_MSIX 0x11
