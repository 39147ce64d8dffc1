/* The PCI server: it owns the PCIe host bridge (its configuration space,
 * ECAM, and its 32-bit memory window, as device frames the root task gave
 * it) and nothing else.  It enumerates bus 0, sizes each device's memory
 * BARs and places them in the window, each device's on 2 MiB frames of its
 * own, turns on memory decoding, finds each INTx line in the DTB, and then
 * serves its protocol (servers/lib/pci.h): the root task finds devices, and
 * each driver, through a capability badged for its one device, reads that
 * device's configuration space and turns on its bus mastering and MSI-X. */
#include <libfdt.h>
#include "servers/lib/pci.h"
#include "servers/root/root.h"

#define ECAM_VA 0x4000000000ull

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
	/* memory decoding only: bus mastering (DMA) is the driver's to ask */
	*cfg(dev, 0x04) |= 2;
}

/* The GIC INTID that INTx pin `pin` (1-4) of device dev raises, from the
 * bridge's interrupt-map (child: 3 address cells and 1 interrupt cell;
 * parent: its own #address-cells and #interrupt-cells); 0 if none. */
static unsigned intx_intid(unsigned dev, unsigned pin)
{
	const void *fdt = (const void *)bootinfo->dtb_vaddr;
	int node = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic"), len, mlen;
	const fdt32_t *map = fdt_getprop(fdt, node, "interrupt-map", &len);
	const fdt32_t *mask = fdt_getprop(fdt, node, "interrupt-map-mask", &mlen);
	if (!map || !mask || mlen != 16 || !pin || pin > 4)
		return 0;
	uint32_t key[4] = { dev << 11, 0, 0, pin };
	for (int i = 0, n = len / 4; i + 5 <= n;) {
		int parent = fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(map[i + 4]));
		const fdt32_t *ac = fdt_getprop(fdt, parent, "#address-cells", NULL);
		const fdt32_t *ic = fdt_getprop(fdt, parent, "#interrupt-cells", NULL);
		if (parent < 0 || !ic)
			return 0;
		int pac = ac ? (int)fdt32_to_cpu(*ac) : 0, pic = (int)fdt32_to_cpu(*ic);
		if (pac > 4 || pic < 2 || pic > 4 || i + 5 + pac + pic > n)
			return 0;
		bool match = true;
		for (int k = 0; k < 4; k++)
			match &= (fdt32_to_cpu(map[i + k]) & fdt32_to_cpu(mask[k])) ==
				 (key[k] & fdt32_to_cpu(mask[k]));
		const fdt32_t *spec = &map[i + 5 + pac]; /* GIC: type, number, flags */
		if (match)
			return fdt32_to_cpu(spec[1]) + (fdt32_to_cpu(spec[0]) ? 16 : 32);
		i += 5 + pac + pic;
	}
	return 0;
}

/* What enumeration found: each device, and the frames its BARs lie in. */
struct pdev {
	unsigned dev;
	uint32_t id, class;
	uint64_t lo, hi;  /* its BARs' 2 MiB frames */
	unsigned intid;
};
static struct pdev devs[32];
static unsigned ndevs;

static void enumerate(void)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		uint32_t id = *cfg(dev, 0);
		if ((id & 0xffff) == 0xffff)
			continue;
		uint64_t bar[6] = { 0 }, lo = ~0ull, hi = 0;
		if (*cfg(dev, 0x08) >> 24 != 3) /* a display's: the kernel's console may draw there */
			place_bars(dev, bar);
		for (unsigned b = 0; b < 6; b++)
			if (bar[b])
				lo = bar[b] < lo ? bar[b] : lo, hi = win_next;
		struct pdev *d = &devs[ndevs++];
		*d = (struct pdev){ .dev = dev, .id = id, .class = *cfg(dev, 0x08),
				    .intid = intx_intid(dev, *cfg(dev, 0x3c) >> 8 & 0xff) };
		if (hi) {
			d->lo = lo & ~((1ull << FRAME_BITS_2M) - 1);
			d->hi = (hi + (1ull << FRAME_BITS_2M) - 1) & ~((1ull << FRAME_BITS_2M) - 1);
		}
		printf("pci: 00:%02x.0 %04x:%04x class %06x, memory at 0x%lx, INTID %u\n", dev,
		       id & 0xffff, id >> 16, d->class >> 8, hi ? lo : 0, d->intid);
	}
	printf("pci: %u devices on bus 0\n", ndevs);
}

/* Offset of device dev's capability `id` in configuration space, 0 if none. */
static unsigned find_cap(unsigned dev, unsigned id)
{
	unsigned at = *cfg(dev, 0x04) >> 16 & 0x10 ? *cfg(dev, 0x34) & 0xfc : 0;
	for (unsigned n = 0; at && n < 48; n++) { /* 48: a looped list ends */
		uint32_t w0 = *cfg(dev, at);
		if ((w0 & 0xff) == id)
			return at;
		at = w0 >> 8 & 0xfc;
	}
	return 0;
}

/* MSI-X on for device dev: message control (the capability's upper half)
 * bit 15 enable, bit 14 function mask cleared.  The table's entries are the
 * driver's to program, in its own BAR frames. */
static err_t msix_enable(unsigned dev)
{
	unsigned at = find_cap(dev, PCI_CAP_MSIX);
	if (!at)
		return E_NOENT;
	volatile uint32_t *w0 = cfg(dev, at);
	*w0 = (*w0 & ~(1u << 30)) | 1u << 31;
	return E_OK;
}

/* One call.  The badge says whose: 0 the manager's, k + 1 device k's
 * driver's. */
static void serve(struct sysregs *r, uint64_t badge)
{
	unsigned label = msginfo_label(r->info);
	uint64_t a0 = r->mr[0], a1 = r->mr[1];
	for (unsigned i = 0; i < MSG_WORDS; i++)
		r->mr[i] = 0;
	r->mr[0] = E_INVAL;
	if (!badge && label == PCI_FIND) {
		r->mr[0] = E_NOENT;
		for (unsigned k = 0; k < ndevs; k++)
			if ((!a0 || devs[k].id == a0) && !a1--) {
				uint64_t v[7] = { E_OK, k, devs[k].lo, devs[k].hi - devs[k].lo,
						  devs[k].intid, devs[k].class, devs[k].dev << 3 };
				memcpy(r->mr, v, sizeof(v));
				break;
			}
	} else if (badge && badge <= ndevs && label == PCI_CFG_READ) {
		if (a0 < 4096 && !(a0 & 3))
			r->mr[0] = E_OK, r->mr[1] = *cfg(devs[badge - 1].dev, (unsigned)a0);
	} else if (badge && badge <= ndevs && label == PCI_ENABLE) {
		*cfg(devs[badge - 1].dev, 0x04) |= 2 | 4;
		r->mr[0] = E_OK;
	} else if (badge && badge <= ndevs && label == PCI_MSIX) {
		r->mr[0] = msix_enable(devs[badge - 1].dev);
	}
}

int main(const struct bootinfo *bi)
{
	bootinfo = bi;
	ulib_console = ROOT_CONSOLE;
	slots_init(bi->first_free_slot);
	uint64_t ecam_pa, off;
	if (!find_bridge(&ecam_pa) || !map_device(ecam_pa, ECAM_VA, &off)) {
		/* still serving: the root task's calls find no device, not a
		 * server that is gone */
		printf("pci: no host bridge I can reach: no devices\n");
	} else {
		ecam = (volatile uint8_t *)(ECAM_VA + off);
		printf("pci: a server of its own: ECAM at 0x%lx, 32-bit window 0x%lx-0x%lx\n",
		       ecam_pa, win_base, win_base + win_size - 1);
		enumerate();
	}
	struct sysregs r = { .nr = SYS_RECV, .cap = PCI_SLOT_EP };
	for (err_t e = sys(&r);; e = sys(&r)) {
		if (e) {
			printf("pci: receive failed (%u)\n", e);
			return 1;
		}
		serve(&r, r.cap);
		r.nr = SYS_REPLY_RECV, r.cap = PCI_SLOT_EP, r.info = msginfo(0, 7, 0);
	}
}
