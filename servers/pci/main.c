/* The PCI server: it owns the PCIe host bridge (its configuration space,
 * ECAM, and its 32-bit memory window, as device frames the root task gave
 * it) and nothing else.  It enumerates bus 0, sizes each device's memory
 * BARs and places them in the window, turns on memory decoding (not bus
 * mastering: no driver has its DMA confined yet), and says what it found;
 * for a virtio device it reads where the virtio structures are (its PCI
 * capabilities) and, for a block device, its capacity, through the BAR it
 * placed, and drives it once (a polled self-test: a sector written and read
 * back by DMA).  Handing each device to a driver server of its own comes
 * next (issue 12). */
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
	cptr_t f = device_frame(pa, off);
	return f && INV3(SYS_AS_MAP, ROOT_ASPACE, f, va, R_READ | R_WRITE) == E_OK;
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

/* Size and place the memory BARs of device dev; returns their addresses.
 * Each device's BARs start on a 2 MiB boundary of the window, so that the
 * frames covering one device's registers cover no other's: a driver can
 * be given exactly its device. */
static void place_bars(unsigned dev, uint64_t addr[6])
{
	win_next = (win_next + (1u << FRAME_BITS_2M) - 1) & ~((1ull << FRAME_BITS_2M) - 1);
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

/* Where this server reaches bus address pa of a placed BAR: each device's
 * frames are mapped at BAR_VA + their offset in the window (map_bars). */
static volatile uint8_t *bar_va(uint64_t pa)
{
	return pa >= win_base && pa < win_next ? (volatile uint8_t *)(BAR_VA + (pa - win_base))
					       : NULL;
}

/* Map the frames of the window from `from` to where placing has got. */
static bool map_bars(uint64_t from)
{
	uint64_t off;
	for (uint64_t pa = from; pa < win_next; pa += 1u << FRAME_BITS_2M)
		if (!map_device(pa, BAR_VA + (pa - win_base), &off) || off)
			return false;
	return true;
}

/* A virtio-pci device's structures, from its vendor capabilities. */
struct vpci {
	volatile uint8_t *common, *notify, *device;
	uint32_t notify_mul;
};

static bool virtio_caps(unsigned dev, const uint64_t bar[6], struct vpci *v)
{
	*v = (struct vpci){ 0 };
	if (!(*cfg(dev, 0x04) >> 16 & 0x10))
		return false; /* no capability list */
	unsigned at = *cfg(dev, 0x34) & 0xfc, n = 0;
	while (at && n++ < 48) {
		uint32_t w0 = *cfg(dev, at);
		unsigned type = w0 >> 24, b = *cfg(dev, at + 4) & 0xff;
		volatile uint8_t *p = (w0 & 0xff) == 0x09 && b < 6 && bar[b] ?
			bar_va(bar[b] + *cfg(dev, at + 8)) : NULL;
		if (p && type == 1)
			v->common = p;
		else if (p && type == 2)
			v->notify = p, v->notify_mul = *cfg(dev, at + 16);
		else if (p && type == 4)
			v->device = p;
		at = (w0 >> 8) & 0xfc;
	}
	return v->common && v->notify && v->device;
}

/* --- A virtio-blk driver, polled (virtio 1.x 4.1), here until drivers
 * are servers of their own ------------------------------------------- */

enum { C_DFSEL = 0x00, C_DF = 0x04, C_GFSEL = 0x08, C_GF = 0x0c, C_STATUS = 0x14,
       C_QSEL = 0x16, C_QSIZE = 0x18, C_QENABLE = 0x1c, C_QNOFF = 0x1e, C_QDESC = 0x20,
       C_QDRIVER = 0x28, C_QDEVICE = 0x30 };
#define DMA_VA 0x4200000000ull
#define QN 8

struct dma { /* one page the device reads and writes */
	struct { uint64_t addr; uint32_t len; uint16_t flags, next; } desc[QN];
	struct { uint16_t flags, idx, ring[QN], event; } avail;
	uint8_t pad[256 - 128 - 22];
	struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[QN]; uint16_t event; } used;
	uint8_t pad2[512 - 256 - 70];
	struct { uint32_t type, reserved; uint64_t sector; } hdr;
	uint8_t status;
	uint8_t pad3[1024 - 512 - 17];
	uint8_t data[2][512];
};
_Static_assert(sizeof(struct dma) <= 4096, "one page");

#define W8(p, o, v) (*(volatile uint8_t *)((p) + (o)) = (v))
#define W16(p, o, v) (*(volatile uint16_t *)((p) + (o)) = (v))
#define W32(p, o, v) (*(volatile uint32_t *)((p) + (o)) = (v))
#define W64(p, o, v) (W32(p, o, (uint32_t)(v)), W32(p, (o) + 4, (uint32_t)((v) >> 32)))
#define R8(p, o) (*(volatile uint8_t *)((p) + (o)))
#define R16(p, o) (*(volatile uint16_t *)((p) + (o)))
#define R32(p, o) (*(volatile uint32_t *)((p) + (o)))

/* One request on queue 0: 512 bytes of data[k] to or from sector s. */
static bool vblk_io(struct vpci *v, struct dma *d, uint64_t pa, uint16_t noff, bool write,
		    uint64_t s, unsigned k)
{
	d->hdr.type = write ? 1 : 0;
	d->hdr.sector = s;
	d->status = 0xff;
	uint64_t data = pa + __builtin_offsetof(struct dma, data) + 512 * k;
	d->desc[0].addr = pa + __builtin_offsetof(struct dma, hdr), d->desc[0].len = 16;
	d->desc[0].flags = 1, d->desc[0].next = 1;
	d->desc[1].addr = data, d->desc[1].len = 512;
	d->desc[1].flags = (uint16_t)(1 | (write ? 0 : 2)), d->desc[1].next = 2;
	d->desc[2].addr = pa + __builtin_offsetof(struct dma, status), d->desc[2].len = 1;
	d->desc[2].flags = 2, d->desc[2].next = 0;
	d->avail.ring[d->avail.idx % QN] = 0;
	uint16_t want = (uint16_t)(d->used.idx + 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	d->avail.idx++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	W16(v->notify, noff * v->notify_mul, 0);
	for (unsigned spin = 0; spin < 1000000; spin++) {
		if (__atomic_load_n(&d->used.idx, __ATOMIC_ACQUIRE) == want)
			return d->status == 0;
		INV0(SYS_YIELD, 0);
	}
	return false;
}

/* Bring the device up with one queue in a DMA page, write sector 1 and read
 * it back.  The device's DMA is not confined yet (no I/O space): this is a
 * trusted device driven by a trusted server, until the SMMU work. */
static void vblk_selftest(unsigned dev, struct vpci *v)
{
	cptr_t frame = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	uint64_t info[5];
	if (!frame || INV3(SYS_AS_MAP, ROOT_ASPACE, frame, DMA_VA, R_READ | R_WRITE) ||
	    inv(SYS_FRAME_INFO, frame, 0, 0, 0, 0, 0, 0, info))
		return;
	struct dma *d = (struct dma *)DMA_VA;
	uint64_t pa = info[2];
	volatile uint8_t *c = v->common;
	W8(c, C_STATUS, 0);
	while (R8(c, C_STATUS))
		;
	W8(c, C_STATUS, 1 | 2); /* ACKNOWLEDGE, DRIVER */
	W32(c, C_DFSEL, 1);
	bool v1 = R32(c, C_DF) & 1;
	W32(c, C_GFSEL, 0), W32(c, C_GF, 0);
	W32(c, C_GFSEL, 1), W32(c, C_GF, 1); /* VERSION_1 only */
	W8(c, C_STATUS, 1 | 2 | 8);
	if (!v1 || !(R8(c, C_STATUS) & 8)) {
		printf("pci: virtio-blk refused VERSION_1\n");
		return;
	}
	W16(c, C_QSEL, 0);
	if (R16(c, C_QSIZE) < QN)
		return;
	W16(c, C_QSIZE, QN);
	W64(c, C_QDESC, pa + __builtin_offsetof(struct dma, desc));
	W64(c, C_QDRIVER, pa + __builtin_offsetof(struct dma, avail));
	W64(c, C_QDEVICE, pa + __builtin_offsetof(struct dma, used));
	uint16_t noff = R16(c, C_QNOFF);
	W16(c, C_QENABLE, 1);
	*cfg(dev, 0x04) |= 4; /* bus mastering: from here the device reads and writes RAM */
	W8(c, C_STATUS, 1 | 2 | 8 | 4); /* DRIVER_OK */
	static const char mark[] = "cairn pci driver wrote this sector";
	for (unsigned i = 0; i < 512; i++)
		d->data[0][i] = (uint8_t)mark[i % (sizeof(mark) - 1)];
	bool ok = vblk_io(v, d, pa, noff, true, 1, 0) && vblk_io(v, d, pa, noff, false, 1, 1) &&
		  !memcmp(d->data[0], d->data[1], 512);
	printf("pci: virtio-blk driver: sector 1 %s\n",
	       ok ? "written and read back through DMA" : "FAILED");
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
		uint64_t placed_from = 0;
		for (unsigned b = 0; b < 6 && !placed_from; b++)
			placed_from = bar[b];
		if (placed_from && !map_bars(placed_from & ~((1ull << FRAME_BITS_2M) - 1))) {
			printf("pci: 00:%02x.0: its registers are not in my window\n", dev);
			continue;
		}
		uint64_t first = 0;
		for (unsigned b = 0; b < 6 && !first; b++)
			first = bar[b];
		printf("pci: 00:%02x.0 %04x:%04x class %06x, memory at 0x%lx\n", dev, id & 0xffff,
		       id >> 16, class, first);
		struct vpci v;
		bool blk = (id & 0xffff) == VIRTIO_VENDOR &&
			   ((id >> 16) == 0x1001 || (id >> 16) == 0x1042);
		if (blk && virtio_caps(dev, bar, &v)) {
			volatile uint32_t *c = (volatile uint32_t *)v.device;
			printf("pci: 00:%02x.0 virtio-blk: %lu sectors\n", dev,
			       c[0] | (uint64_t)c[1] << 32);
			vblk_selftest(dev, &v);
		}
		found++;
	}
	printf("pci: %u devices on bus 0\n", found);
	return 0;
}
