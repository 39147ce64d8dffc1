/* The PCI server: it owns the PCIe host bridge (its configuration space,
 * ECAM, and its 32-bit memory window, as device frames the root task gave
 * it) and nothing else.  It enumerates bus 0, sizes each device's memory
 * BARs and places them in the window, turns on memory decoding (not bus
 * mastering: no driver has its DMA confined yet), and says what it found;
 * for a virtio device it reads where the virtio structures are (its PCI
 * capabilities) and, for a block device, its capacity, through the BAR it
 * placed.  Handing each device to a driver server of its own comes next
 * (issue 12). */
#include <libfdt.h>
#include "servers/root/root.h"

#define ECAM_VA 0x4000000000ull
#define BAR_VA 0x4100000000ull
#define VIRTIO_VENDOR 0x1af4

const struct bootinfo *bootinfo;
static volatile uint8_t *ecam;
static uint64_t win_base, win_size, win_next;

/* Map the device frame holding pa at va; the offset of pa in it. */
static bool map_device(uint64_t pa, uint64_t va, uint64_t *off)
{
	for (uint64_t i = 0; i < bootinfo->ndev; i++) {
		uint64_t at = bootinfo->dev[i].base;
		if (pa < at || pa >= at + bootinfo->dev[i].size)
			continue;
		for (uint64_t k = 0; k < bootinfo->dev[i].frames; k++) {
			uint64_t s[5];
			cptr_t f = bootinfo->dev[i].first_slot + k;
			if (inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, s))
				return false;
			uint64_t size = s[0];
			if (pa < at + size) {
				*off = pa - at;
				return INV3(SYS_AS_MAP, ROOT_ASPACE, f, va, R_READ | R_WRITE) == E_OK;
			}
			at += size;
		}
	}
	return false;
}

static volatile uint32_t *cfg(unsigned dev, unsigned off)
{
	return (volatile uint32_t *)(ecam + (dev << 15) + off);
}

/* The host bridge from the DTB: ECAM (reg) and the 32-bit memory window. */
static bool find_bridge(uint64_t *ecam_pa)
{
	const void *fdt = (const void *)bootinfo->dtb_vaddr;
	int node = fdt ? fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic") : -1, len;
	const fdt64_t *reg = node >= 0 ? fdt_getprop(fdt, node, "reg", &len) : NULL;
	const fdt32_t *r = node >= 0 ? fdt_getprop(fdt, node, "ranges", &len) : NULL;
	if (!reg || !r)
		return false;
	*ecam_pa = fdt64_to_cpu(reg[0]);
	for (int i = 0; i + 7 <= len / 4; i += 7)
		if ((fdt32_to_cpu(r[i]) >> 24 & 3) == 2) { /* 32-bit memory */
			win_base = (uint64_t)fdt32_to_cpu(r[i + 3]) << 32 | fdt32_to_cpu(r[i + 4]);
			win_size = (uint64_t)fdt32_to_cpu(r[i + 5]) << 32 | fdt32_to_cpu(r[i + 6]);
		}
	win_next = win_base;
	return win_size != 0;
}

/* Size and place the memory BARs of device dev; returns their addresses. */
static void place_bars(unsigned dev, uint64_t addr[6])
{
	for (unsigned b = 0; b < 6; b++) {
		volatile uint32_t *bar = cfg(dev, 0x10 + 4 * b);
		uint32_t orig = *bar;
		addr[b] = 0;
		if (orig & 1) /* I/O space: not placed */
			continue;
		bool wide = (orig >> 1 & 3) == 2;
		*bar = 0xffffffffu;
		uint64_t mask = *bar & ~0xfull;
		if (wide) {
			bar[1] = 0xffffffffu;
			mask |= (uint64_t)bar[1] << 32;
		} else {
			mask |= 0xffffffff00000000ull;
		}
		uint64_t size = ~mask + 1;
		if (mask && size <= win_size) {
			uint64_t at = (win_next + size - 1) & ~(size - 1);
			if (at + size <= win_base + win_size) {
				*bar = (uint32_t)at;
				if (wide)
					bar[1] = (uint32_t)(at >> 32);
				addr[b] = at;
				win_next = at + size;
			}
		}
		if (wide)
			b++;
	}
	/* memory decoding only: bus mastering (DMA) waits for a driver whose
	 * DMA an I/O space confines (issue 12) */
	*cfg(dev, 0x04) |= 2;
}

/* A virtio device's structures (its vendor capabilities); for a block
 * device, its capacity from the device configuration. */
static void virtio(unsigned dev, uint32_t id, const uint64_t bar[6])
{
	if (!(*cfg(dev, 0x04) >> 16 & 0x10))
		return; /* no capability list */
	unsigned at = *cfg(dev, 0x34) & 0xfc, n = 0;
	uint64_t devcfg = 0;
	while (at && n++ < 48) {
		uint32_t w0 = *cfg(dev, at);
		if ((w0 & 0xff) == 0x09) { /* vendor: a virtio structure */
			unsigned type = w0 >> 24, b = *cfg(dev, at + 4) & 0xff;
			uint32_t off = *cfg(dev, at + 8);
			if (type == 4 && b < 6 && bar[b])
				devcfg = bar[b] + off;
		}
		at = (w0 >> 8) & 0xfc;
	}
	uint64_t o;
	bool blk = (id >> 16) == 0x1001 || (id >> 16) == 0x1042;
	if (blk && devcfg && map_device(devcfg, BAR_VA, &o)) {
		volatile uint32_t *c = (volatile uint32_t *)(BAR_VA + o);
		uint64_t capacity = c[0] | (uint64_t)c[1] << 32;
		printf("pci: 00:%02x.0 virtio-blk: %lu sectors, its configuration at 0x%lx\n", dev,
		       capacity, devcfg);
	}
}

int main(const struct bootinfo *bi)
{
	bootinfo = bi;
	ulib_console = ROOT_CONSOLE;
	slots_init(bi->first_free_slot);
	uint64_t ecam_pa, off;
	if (!find_bridge(&ecam_pa) || !map_device(ecam_pa, ECAM_VA, &off)) {
		printf("pci: no host bridge I can reach\n");
		return 1;
	}
	ecam = (volatile uint8_t *)(ECAM_VA + off);
	printf("pci: a server of its own: ECAM at 0x%lx, 32-bit window 0x%lx-0x%lx\n", ecam_pa,
	       win_base, win_base + win_size - 1);
	unsigned found = 0;
	for (unsigned dev = 0; dev < 32; dev++) {
		uint32_t id = *cfg(dev, 0);
		if ((id & 0xffff) == 0xffff)
			continue;
		uint64_t bar[6];
		uint32_t class = *cfg(dev, 0x08) >> 8;
		place_bars(dev, bar);
		uint64_t first = 0;
		for (unsigned b = 0; b < 6 && !first; b++)
			first = bar[b];
		printf("pci: 00:%02x.0 %04x:%04x class %06x, memory at 0x%lx\n", dev, id & 0xffff,
		       id >> 16, class, first);
		if ((id & 0xffff) == VIRTIO_VENDOR)
			virtio(dev, id, bar);
		found++;
	}
	printf("pci: %u devices on bus 0\n", found);
	return 0;
}
