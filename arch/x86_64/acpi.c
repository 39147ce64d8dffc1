/* ACPI tables: the MADT for CPUs (local APIC ids), the local APIC and
 * IOAPIC, the SRAT for NUMA nodes, the FADT plus DSDT for powering off
 * (S5), and the MCFG for PCI configuration space.  Firmware tables
 * are checked (signature, length, checksum) before they are believed. */
#include "arch/x86_64/x86.h"
#include <libfdt.h>
#include "hyp/arch.h"
#include "hyp/dtb.h"
#include "hyp/fbcon.h"
#include "hyp/printk.h"
#include "hyp/string.h"

struct acpi_info acpi = { .lapic_pa = 0xfee00000 };

struct sdt {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem[6], oem_table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));
_Static_assert(sizeof(struct sdt) == 36, "ACPI header");

/* Tables are read through the boot direct map, which covers 4 GiB. */
#define ACPI_LIMIT (4 * GiB)

static const void *table_at(uint64_t pa, const char *sig)
{
	if (pa == 0 || pa + sizeof(struct sdt) > ACPI_LIMIT)
		return NULL;
	const struct sdt *t = phys_to_virt(pa);
	if ((sig && memcmp(t->sig, sig, 4) != 0) || t->length < sizeof(*t) ||
	    pa + t->length > ACPI_LIMIT)
		return NULL;
	uint8_t sum = 0;
	for (uint32_t i = 0; i < t->length; i++)
		sum += ((const uint8_t *)t)[i];
	return sum == 0 ? t : NULL;
}

static uint64_t read_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* The XSDT (64-bit entries) where the RSDP has one, else the RSDT. */
static const struct sdt *root_table(const uint8_t *rsdp, unsigned *width)
{
	const struct sdt *x = rsdp[15] >= 2 ? table_at(read_le(rsdp + 24, 8), "XSDT") : NULL;
	*width = x ? 8 : 4;
	return x ? x : table_at(read_le(rsdp + 16, 4), "RSDT");
}

static const void *find_table(const uint8_t *rsdp, const char *sig)
{
	unsigned w;
	const struct sdt *root = root_table(rsdp, &w);
	const uint8_t *e = (const uint8_t *)(root + 1);
	for (uint32_t i = 0; root && i + w <= root->length - sizeof(*root); i += w) {
		const void *t = table_at(read_le(e + i, w), sig);
		if (t)
			return t;
	}
	return NULL;
}

static void add_cpu(struct boot_info *bi, uint32_t apic_id, uint32_t flags)
{
	if ((flags & 1) && bi->ncpus < MAX_CPUS) /* enabled */
		bi->cpu_hwid[bi->ncpus++] = apic_id;
}

static void parse_madt(const struct sdt *m, struct boot_info *bi)
{
	const uint8_t *p = (const uint8_t *)m;
	acpi.lapic_pa = read_le(p + 36, 4);
	for (uint32_t off = 44; off + 2 <= m->length;) {
		uint8_t type = p[off], len = p[off + 1];
		if (len < 2 || off + len > m->length)
			break;
		const uint8_t *e = p + off;
		if (type == 0 && len >= 8)
			add_cpu(bi, e[3], (uint32_t)read_le(e + 4, 4));
		else if (type == 9 && len >= 16)
			add_cpu(bi, (uint32_t)read_le(e + 4, 4), (uint32_t)read_le(e + 8, 4));
		else if (type == 1 && len >= 12 && !acpi.ioapic_pa) {
			acpi.ioapic_pa = read_le(e + 4, 4);
			acpi.ioapic_gsi_base = (unsigned)read_le(e + 8, 4);
		} else if (type == 5 && len >= 12)
			acpi.lapic_pa = read_le(e + 4, 8);
		off += len;
	}
}

/* \_S5 in the DSDT: NameOp "_S5_" PackageOp PkgLength NumElements, then
 * SLP_TYPa as a byte constant, Zero or One.  The usual small AML scan. */
static void find_s5(const struct sdt *dsdt)
{
	const uint8_t *p = (const uint8_t *)dsdt;
	for (uint32_t i = sizeof(*dsdt); i + 10 < dsdt->length; i++) {
		if (memcmp(p + i, "_S5_", 4) != 0 || p[i + 4] != 0x12)
			continue;
		const uint8_t *q = p + i + 5;
		q += ((*q >> 6) & 3) + 1; /* PkgLength */
		q++;                      /* NumElements */
		acpi.slp_typ_s5 = *q == 0x0a ? q[1] : *q == 0x01 ? 1 : 0;
		acpi.has_s5 = true;
		return;
	}
}

static void parse_fadt(const struct sdt *f)
{
	const uint8_t *p = (const uint8_t *)f;
	if (f->length < 68)
		return;
	acpi.pm1a_cnt = (uint16_t)read_le(p + 64, 4);
	uint64_t dsdt = f->length >= 148 ? read_le(p + 140, 8) : 0;
	const struct sdt *d = table_at(dsdt ? dsdt : read_le(p + 40, 4), "DSDT");
	if (d)
		find_s5(d);
}

/* NUMA from the SRAT: proximity domains become nodes 0, 1, ... in the
 * order they first appear (as Linux numbers them); past MAX_NODES of them
 * the table is ignored and everything stays node 0. */
static uint32_t pxm[MAX_NODES]; /* node n's proximity domain */

static int srat_node(struct boot_info *bi, uint32_t domain)
{
	for (unsigned n = 0; n < bi->nnodes; n++)
		if (pxm[n] == domain)
			return (int)n;
	if (bi->nnodes == MAX_NODES)
		return -1;
	pxm[bi->nnodes] = domain;
	return (int)bi->nnodes++;
}

/* Split the RAM range that holds `at` inside it in two, both on its node. */
static bool split_ram(struct boot_info *bi, uint64_t at)
{
	for (unsigned i = 0; i < bi->nmem; i++) {
		struct mem_range m = bi->mem[i];
		if (at <= m.base.pa || at >= range_end(m))
			continue;
		if (bi->nmem == BOOT_MAX_MEM)
			return false;
		memmove(&bi->mem[i + 1], &bi->mem[i], (bi->nmem - i) * sizeof(m));
		memmove(&bi->mem_node[i + 1], &bi->mem_node[i], bi->nmem - i);
		bi->nmem++;
		bi->mem[i].size = at - m.base.pa;
		bi->mem[i + 1] = (struct mem_range){ pa_make(at), range_end(m) - at };
		return true;
	}
	return true;
}

/* An enabled SRAT memory range: the RAM inside it is on `node`. */
static bool srat_memory(struct boot_info *bi, uint64_t base, uint64_t len, int node)
{
	if (base + len < base || !split_ram(bi, base) || !split_ram(bi, base + len))
		return false;
	for (unsigned i = 0; i < bi->nmem; i++)
		if (bi->mem[i].base.pa >= base && range_end(bi->mem[i]) <= base + len)
			bi->mem_node[i] = (uint8_t)node;
	return true;
}

static void srat_cpu(struct boot_info *bi, uint32_t apic_id, int node)
{
	for (unsigned i = 0; i < bi->ncpus; i++)
		if (bi->cpu_hwid[i] == apic_id)
			bi->cpu_node[i] = (uint8_t)node;
}

/* Entries: 0 local APIC affinity (domain bits 0-7 at 2, 8-31 at 9, APIC
 * id at 3, flags at 4), 1 memory affinity (domain at 2, base at 8, length
 * at 16, flags at 28), 2 x2APIC affinity (domain at 4, id at 8, flags at
 * 12); flags bit 0: enabled. */
static bool parse_srat(const struct sdt *t, struct boot_info *bi)
{
	const uint8_t *p = (const uint8_t *)t;
	for (uint32_t off = 48; off + 2 <= t->length;) {
		const uint8_t *e = p + off;
		uint8_t type = e[0], len = e[1];
		if (len < 2 || off + len > t->length)
			return false;
		off += len;
		bool on = (type == 0 && len >= 16 && (e[4] & 1)) || (type == 1 && len >= 40 &&
			  (e[28] & 1)) || (type == 2 && len >= 24 && (e[12] & 1));
		if (!on)
			continue;
		uint32_t domain = type == 0 ? (uint32_t)(e[2] | read_le(e + 9, 3) << 8) :
			(uint32_t)read_le(e + (type == 1 ? 2 : 4), 4);
		int node = srat_node(bi, domain);
		if (node < 0 || (type == 1 && !srat_memory(bi, read_le(e + 8, 8),
							   read_le(e + 16, 8), node)))
			return false;
		if (type != 1)
			srat_cpu(bi, type == 0 ? e[3] : (uint32_t)read_le(e + 8, 4), node);
	}
	return true;
}

/* The SLIT: at 36 the number of localities N, then N x N distances by
 * proximity domain; the nodes' fallback order follows them (mm/pmem.c). */
static void parse_slit(const struct sdt *t, struct boot_info *bi)
{
	const uint8_t *p = (const uint8_t *)t;
	uint64_t n = t->length >= 44 ? read_le(p + 36, 8) : 0;
	if (n > 255 || 44 + n * n > t->length)
		return;
	for (unsigned a = 0; a < bi->nnodes; a++)
		for (unsigned b = 0; b < bi->nnodes; b++)
			if (pxm[a] < n && pxm[b] < n)
				bi->distance[a][b] = p[44 + pxm[a] * n + pxm[b]];
}

/* The MCFG's entry for PCI segment 0: where its buses' ECAM lies. */
static void parse_mcfg(const struct sdt *t)
{
	const uint8_t *p = (const uint8_t *)t;
	for (uint32_t off = 44; off + 16 <= t->length; off += 16)
		if (read_le(p + off + 8, 2) == 0 && p[off + 10] <= p[off + 11]) {
			acpi.ecam_pa = read_le(p + off, 8) + ((uint64_t)p[off + 10] << 20);
			acpi.bus_first = p[off + 10], acpi.bus_last = p[off + 11];
			return;
		}
}

/* The PCs' 32-bit PCI memory window, where firmware puts the BARs: from the
 * ECAM's end (q35: 0xb0000000 + 256 MiB) to the IOAPIC at 0xfec00000, past
 * which lie the kernel's APICs and HPET.  The DSDT's _CRS would say it
 * exactly, but reading it needs an AML interpreter. */
#define PCI_HOLE_END 0xfec00000ull

/* A property of n 32-bit cells. */
static int fdt_cells(void *fdt, const char *name, const uint32_t *v, int n)
{
	fdt32_t c[8];
	for (int i = 0; i < n; i++)
		c[i] = cpu_to_fdt32(v[i]);
	return fdt_property(fdt, name, c, 4 * n);
}

#define HI(x) (uint32_t)((x) >> 32)
#define LO(x) (uint32_t)(x)

/* The devices as a DTB, for the root task (hyp/root.c gives the device
 * frames of a DTB's nodes, servers/pci drives a pci-host-ecam-generic
 * bridge): the ECAM bridge and its 32-bit memory window, nothing else.
 * The window leaves out the framebuffer the kernel draws on (hyp/fbcon.c),
 * so that no BAR is placed over it. */
const void *arch_device_tree(void)
{
	static uint64_t dtb[128];
	uint64_t size = (uint64_t)(acpi.bus_last - acpi.bus_first + 1) << 20;
	uint64_t win = acpi.ecam_pa + size, end = PCI_HOLE_END;
	struct mem_range fb = fbcon_region(); /* a BAR: the window is the larger side */
	if (fb.size && fb.base.pa >= win && fb.base.pa < end) {
		uint64_t above = ALIGN_UP(range_end(fb), 2 * MiB), below = ALIGN_DOWN(fb.base.pa, 2 * MiB);
		if (end > above && end - above > (below > win ? below - win : 0))
			win = above;
		else
			end = below;
	}
	uint64_t wsize = end - win;
	const uint32_t reg[4] = { HI(acpi.ecam_pa), LO(acpi.ecam_pa), HI(size), LO(size) };
	const uint32_t bus[2] = { acpi.bus_first, acpi.bus_last };
	const uint32_t ranges[7] = { 0x02000000, HI(win), LO(win), HI(win), LO(win), HI(wsize), LO(wsize) };
	if (!acpi.ecam_pa || win >= end || fdt_create(dtb, sizeof(dtb)) ||
	    fdt_finish_reservemap(dtb) || fdt_begin_node(dtb, "") ||
	    fdt_property_u32(dtb, "#address-cells", 2) || fdt_property_u32(dtb, "#size-cells", 2) ||
	    fdt_begin_node(dtb, "pcie") ||
	    fdt_property_string(dtb, "compatible", "pci-host-ecam-generic") ||
	    fdt_property_string(dtb, "device_type", "pci") ||
	    fdt_property_u32(dtb, "#address-cells", 3) || fdt_property_u32(dtb, "#size-cells", 2) ||
	    fdt_cells(dtb, "reg", reg, 4) || fdt_cells(dtb, "bus-range", bus, 2) ||
	    fdt_cells(dtb, "ranges", ranges, 7) || fdt_end_node(dtb) || fdt_end_node(dtb) ||
	    fdt_finish(dtb))
		return NULL;
	return dtb;
}

err_t acpi_parse(struct boot_info *bi)
{
	if (!pa_addr(bi->acpi_rsdp))
		return E_NOENT;
	const uint8_t *rsdp = phys_to_virt(pa_addr(bi->acpi_rsdp));
	if (memcmp(rsdp, "RSD PTR ", 8) != 0)
		return E_BADFMT;
	const struct sdt *madt = find_table(rsdp, "APIC");
	const struct sdt *fadt = find_table(rsdp, "FACP");
	if (fadt)
		parse_fadt(fadt);
	if (!madt)
		return E_NOENT;
	parse_madt(madt, bi);
	const struct sdt *srat = find_table(rsdp, "SRAT");
	if (srat && !parse_srat(srat, bi)) {
		printk("acpi: SRAT not used: malformed, or more than %u nodes\n", MAX_NODES);
		bi->nnodes = 0;
		memset(bi->mem_node, 0, sizeof(bi->mem_node));
		memset(bi->cpu_node, 0, sizeof(bi->cpu_node));
	}
	const struct sdt *mcfg = find_table(rsdp, "MCFG");
	if (mcfg)
		parse_mcfg(mcfg);
	const struct sdt *slit = find_table(rsdp, "SLIT");
	if (srat && slit && bi->nnodes > 1)
		parse_slit(slit, bi);
	return bi->ncpus ? E_OK : E_NOENT;
}

_Noreturn void arch_poweroff(void)
{
	if (acpi.pm1a_cnt && acpi.has_s5)
		outw(acpi.pm1a_cnt, (uint16_t)(acpi.slp_typ_s5 << 10 | 1 << 13));
	for (const char *s = "Shutdown"; *s; s++) /* Bochs' shutdown port */
		outb(0x8900, (uint8_t)*s);
	arch_halt();
}
