/* Device frames: the DTB's device registers reach the root task as frames
 * it can map (uncached) into itself, a driver or a guest; the kernel's own
 * devices never do. */
#include <libfdt.h>
#include "servers/root/check.h"

#define DEV_VA 0x3000000000ull

static uint64_t node_base(const void *fdt, int node)
{
	int len;
	const fdt64_t *reg = fdt_getprop(fdt, node, "reg", &len);
	return reg && len >= 16 ? fdt64_to_cpu(reg[0]) : 0;
}

bool dt_device(const char *compatible, uint64_t *base, uint64_t *intid)
{
	const void *fdt = (const void *)bootinfo->dtb_vaddr;
	int node = fdt_node_offset_by_compatible(fdt, -1, compatible), len;
	const fdt32_t *irq = node >= 0 ? fdt_getprop(fdt, node, "interrupts", &len) : NULL;
	if (!irq || len != 12)
		return false;
	*base = node_base(fdt, node);
	*intid = (fdt32_to_cpu(irq[0]) == 0 ? 32 : 16) + fdt32_to_cpu(irq[1]);
	return *base != 0;
}

/* QEMU virt's PL031 real-time clock: its PrimeCell ID through a device
 * frame; the console UART and the GIC distributor have no frame. */
static bool t_device_frames(void)
{
	const void *fdt = (const void *)bootinfo->dtb_vaddr;
	int rtc = fdt_node_offset_by_compatible(fdt, -1, "arm,pl031");
	int gic = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");
	int uart = fdt_node_offset_by_compatible(fdt, -1, "arm,pl011");
	CHECK(rtc >= 0 && gic >= 0 && uart >= 0 && bootinfo->ndev > 0);
	uint64_t off;
	CHECK(!device_frame(node_base(fdt, gic), &off));
	CHECK(!device_frame(node_base(fdt, uart), &off));
	for (uint64_t i = 0; i < bootinfo->nmem; i++) /* and no RAM */
		CHECK(!device_frame(bootinfo->mem[i].base, &off));
	cptr_t f = device_frame(node_base(fdt, rtc), &off), copy = slot_alloc();
	CHECK(f && copy);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, copy, ROOT_CNODE, f, R_ALL), E_OK);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, copy, DEV_VA, R_READ | R_WRITE | R_EXEC),
		  E_RIGHTS); /* device frames come without the execute right */
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, copy, DEV_VA, R_READ | R_WRITE), E_OK);
	volatile uint32_t *regs = (volatile uint32_t *)(DEV_VA + (off & ~0xfffull));
	uint32_t cell = 0;
	for (unsigned i = 0; i < 4; i++)
		cell |= (regs[(0xff0 + 4 * i) / 4] & 0xff) << (8 * i);
	uint32_t part = (regs[0xfe0 / 4] & 0xff) | (regs[0xfe4 / 4] & 0xf) << 8;
	slot_free(copy);
	CHECK(cell == 0xb105f00d); /* PrimeCell */
	CHECK(part == 0x031);      /* PL031 */
	return true;
}
ROOT_TEST("device-frames", t_device_frames);

/* QEMU virt's PCIe host bridge: its configuration space (ECAM, the node's
 * reg) holds the bridge itself at 00:00.0 (Red Hat 1b36:0008), and its
 * 32-bit memory window, where a driver puts its device's registers, is
 * there as device frames too. */
static bool t_pci_frames(void)
{
	const void *fdt = (const void *)bootinfo->dtb_vaddr;
	int pci = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic"), len;
	CHECK(pci >= 0);
	const fdt32_t *ranges = fdt_getprop(fdt, pci, "ranges", &len);
	CHECK(ranges && len >= 14 * 4);
	uint64_t win = 0, off;
	for (int i = 0; i + 7 <= len / 4; i += 7) /* 3 bus, 2 CPU, 2 size cells */
		if ((fdt32_to_cpu(ranges[i]) >> 24 & 3) == 2)
			win = (uint64_t)fdt32_to_cpu(ranges[i + 3]) << 32 | fdt32_to_cpu(ranges[i + 4]);
	cptr_t wf = win ? device_frame(win, &off) : 0;
	uint64_t info[5] = { 0 };
	CHECK(wf && off == 0 && !inv(SYS_FRAME_INFO, wf, 0, 0, 0, 0, 0, 0, info));
	CHECK(info[0] == 1ull << FRAME_BITS_2M && info[2] == win); /* the window is 2 MiB frames */
	CHECK(device_frame(win + 0x3000, &off) == wf && off == 0x3000);
	cptr_t wc = slot_alloc();
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, wc, ROOT_CNODE, wf, R_ALL), E_OK);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, wc, DEV_VA + 0x1000, R_READ), E_ALIGN);
	slot_free(wc);
	cptr_t f = device_frame(node_base(fdt, pci), &off), copy = slot_alloc();
	CHECK(f && copy && off == 0);
	CHECK_ERR(INV4(SYS_CNODE_COPY, ROOT_CNODE, copy, ROOT_CNODE, f, R_ALL), E_OK);
	CHECK_ERR(INV3(SYS_AS_MAP, ROOT_ASPACE, copy, DEV_VA, R_READ), E_OK);
	uint32_t id = *(volatile uint32_t *)DEV_VA; /* vendor, device of 00:00.0 */
	slot_free(copy);
	CHECK(id == (0x0008u << 16 | 0x1b36));
	return true;
}
ROOT_TEST("pci-config-and-window-frames", t_pci_frames);
