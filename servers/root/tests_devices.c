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
ROOT_TEST_NEEDS("device-frames", t_device_frames, UARCH_IS_AARCH64); /* virt's PL031 */

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
ROOT_TEST_NEEDS("pci-config-and-window-frames", t_pci_frames, UARCH_IS_AARCH64); /* virt's DTB */

/* I/O spaces and DMA streams (mm/iospace.c): with an IOMMU (the root-tests
 * scenario's machine has QEMU's SMMUv3), a stream binds only an I/O space,
 * once; a thread cannot run in one; a space that goes unbinds its stream;
 * nothing leaks.  Without one, both are refused.  Stream 0x80: no device. */
static bool t_io_spaces(void)
{
	struct accounts before = accounts_read();
	cptr_t io = slot_alloc(), s = slot_alloc(), s2 = slot_alloc(), as = slot_alloc();
	cptr_t f = new_obj(OBJ_FRAME, FRAME_BITS_4K), th = new_obj(OBJ_THREAD, 0);
	uint64_t info[5];
	CHECK(io && s && s2 && as && f && th);
	CHECK_ERR(retype(ROOT_MEMORY, OBJ_ASPACE, AS_GUEST + 1, ROOT_CNODE, io), E_INVAL);
	CHECK_ERR(INV3(SYS_STREAM_GET, ROOT_IRQ_CONTROL, 1ull << 63 | 0x80, ROOT_CNODE, s2), E_RANGE);
	CHECK_ERR(INV3(SYS_STREAM_GET, ROOT_IRQ_CONTROL, 256, ROOT_CNODE, s2), E_RANGE);
	if (INV3(SYS_STREAM_GET, ROOT_IRQ_CONTROL, 0x80, ROOT_CNODE, s)) {
		CHECK_ERR(INV3(SYS_STREAM_GET, ROOT_IRQ_CONTROL, 0x80, ROOT_CNODE, s), E_RANGE);
		CHECK_ERR(retype(ROOT_MEMORY, OBJ_ASPACE, 1, ROOT_CNODE, io), E_INVAL);
		printf("root: no IOMMU on this machine: I/O spaces and streams refused\n");
	} else {
		CHECK_ERR(INV3(SYS_STREAM_GET, ROOT_IRQ_CONTROL, 0x80, ROOT_CNODE, s2), E_BUSY);
		CHECK_ERR(INV3(SYS_STREAM_GET, ROOT_IRQ_CONTROL, 0x81, ROOT_CNODE, s), E_SLOT);
		CHECK_ERR(retype(ROOT_MEMORY, OBJ_ASPACE, 1, ROOT_CNODE, io), E_OK);
		CHECK_ERR(retype(ROOT_MEMORY, OBJ_ASPACE, 0, ROOT_CNODE, as), E_OK);
		CHECK_ERR(INV1(SYS_STREAM_BIND, s, 0), E_NOENT);
		CHECK_ERR(INV1(SYS_STREAM_BIND, s, as), E_INVAL); /* not an I/O space */
		CHECK_ERR(INV1(SYS_STREAM_BIND, s, io), E_OK);
		CHECK_ERR(INV1(SYS_STREAM_BIND, s, io), E_BUSY);
		CHECK_ERR(inv(SYS_STREAM_INFO, s, 0, 0, 0, 0, 0, 0, info), E_OK);
		CHECK(info[0] == 1 && info[1] == 0);
		CHECK_ERR(INV3(SYS_AS_MAP, io, f, 0x1000, R_READ | R_WRITE), E_OK);
		CHECK_ERR(INV3(SYS_AS_MAP, io, f, 0x2000, R_READ), E_BUSY);
		CHECK_ERR(INV1(SYS_AS_UNMAP, io, f), E_OK);
		CHECK_ERR(INV3(SYS_AS_MAP, io, f, 1ull << 40, R_READ), E_RANGE);
		CHECK_ERR(INV3(SYS_THREAD_CONFIGURE, th, 0, io, 0), E_INVAL);
		CHECK_ERR(INV3(SYS_AS_MAP, io, f, 0x1000, R_READ), E_OK);
		/* the mapping keeps the space, and so the binding; the space
		 * goes with its last mapping, and the stream is unbound */
		INV1(SYS_CNODE_DELETE, ROOT_CNODE, io);
		CHECK_ERR(inv(SYS_STREAM_INFO, s, 0, 0, 0, 0, 0, 0, info), E_OK);
		CHECK(info[0] == 1);
		INV1(SYS_CNODE_DELETE, ROOT_CNODE, f);
		CHECK_ERR(inv(SYS_STREAM_INFO, s, 0, 0, 0, 0, 0, 0, info), E_OK);
		CHECK(info[0] == 0);
		CHECK_ERR(INV1(SYS_STREAM_BIND, s, 0), E_NOENT);
		CHECK_ERR(retype(ROOT_MEMORY, OBJ_ASPACE, 1, ROOT_CNODE, io), E_OK);
		CHECK_ERR(INV1(SYS_STREAM_BIND, s, io), E_OK);
		INV1(SYS_CNODE_DELETE, ROOT_CNODE, s); /* the stream goes: free again */
		CHECK_ERR(INV3(SYS_STREAM_GET, ROOT_IRQ_CONTROL, 0x80, ROOT_CNODE, s2), E_OK);
		printf("root: I/O spaces and streams behind the IOMMU\n");
	}
	cptr_t all[] = { io, s, s2, as, f, th };
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		slot_free(all[i]);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST("io-spaces", t_io_spaces); /* with an IOMMU or without */
