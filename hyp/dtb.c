/* Device-tree parsing with libfdt.  Every value read from the DTB is input:
 * malformed trees produce an error and a message, never a fault. */
#include <libfdt.h>

#include "hyp/dtb.h"
#include "hyp/string.h"

static uint64_t read_cells(const fdt32_t *p, int cells)
{
	uint64_t v = 0;
	while (cells--)
		v = (v << 32) | fdt32_to_cpu(*p++);
	return v;
}

/* reg entry idx of a node whose parent is `parent`. */
static err_t reg_of(const void *fdt, int parent, int node, int idx,
		    struct mem_range *out)
{
	int ac = fdt_address_cells(fdt, parent), sc = fdt_size_cells(fdt, parent);
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
	if (ac < 1 || ac > 2 || sc < 0 || sc > 2)
		return E_BADFMT;
	int stride = (ac + sc) * 4;
	if (!reg || len < (idx + 1) * stride)
		return E_NOENT;
	reg += idx * (ac + sc);
	out->base = pa_make(read_cells(reg, ac));
	out->size = read_cells(reg + ac, sc);
	if (out->base.pa + out->size < out->base.pa)
		return E_RANGE;
	return E_OK;
}

err_t dtb_pci_window(const void *fdt, int node, int idx, struct mem_range *out,
		     unsigned *space)
{
	int parent = fdt_parent_offset(fdt, node), len;
	if (parent < 0)
		return E_BADFMT;
	int cac = fdt_address_cells(fdt, node), pac = fdt_address_cells(fdt, parent);
	int sc = fdt_size_cells(fdt, node);
	const fdt32_t *r = fdt_getprop(fdt, node, "ranges", &len);
	if (cac != 3 || pac < 1 || pac > 2 || sc < 1 || sc > 2)
		return E_BADFMT;
	int cells = cac + pac + sc;
	if (!r || len < (idx + 1) * cells * 4)
		return E_NOENT;
	r += idx * cells;
	*space = (fdt32_to_cpu(r[0]) >> 24) & 3;
	out->base = pa_make(read_cells(r + cac, pac));
	out->size = read_cells(r + cac + pac, sc);
	if (out->base.pa + out->size < out->base.pa)
		return E_RANGE;
	return E_OK;
}

err_t dtb_reg(const void *fdt, int node, int idx, struct mem_range *out)
{
	int parent = fdt_parent_offset(fdt, node);
	return parent < 0 ? E_BADFMT : reg_of(fdt, parent, node, idx, out);
}

err_t boot_reserve(struct boot_info *bi, struct mem_range r, const char *name)
{
	if (r.size == 0)
		return E_OK;
	if (bi->nresv == BOOT_MAX_RESV)
		return E_FULL;
	bi->resv[bi->nresv++] = (struct resv_range){ r, name };
	return E_OK;
}

static bool overlaps(struct mem_range a, struct mem_range b)
{
	return a.base.pa < range_end(b) && b.base.pa < range_end(a);
}

static err_t fail(struct boot_info *bi, err_t e, const char *why)
{
	bi->why = why;
	return e;
}

static err_t add_memory(struct boot_info *bi, struct mem_range r, uint8_t node)
{
	if (r.size == 0)
		return E_OK;
	if (bi->nmem == BOOT_MAX_MEM)
		return fail(bi, E_FULL, "too many memory ranges");
	for (unsigned i = 0; i < bi->nmem; i++)
		if (overlaps(bi->mem[i], r))
			return fail(bi, E_OVERLAP, "memory ranges overlap");
	bi->mem_node[bi->nmem] = node;
	bi->mem[bi->nmem++] = r;
	return E_OK;
}

/* A node without "status", or with "okay"/"ok", is in use (DT spec 2.3.4). */
bool dtb_node_enabled(const void *fdt, int node)
{
	const char *s = fdt_getprop(fdt, node, "status", NULL);
	return !s || strcmp(s, "okay") == 0 || strcmp(s, "ok") == 0;
}

static uint64_t prop_u64(const void *fdt, int node, const char *name, bool *ok)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);
	*ok = p && (len == 4 || len == 8);
	return *ok ? read_cells(p, len / 4) : 0;
}

/* A memory or cpu node's NUMA node (bindings/numa.txt): 0 without one. */
static err_t numa_id(const void *fdt, int node, struct boot_info *bi, uint8_t *id)
{
	bool ok;
	uint64_t v = prop_u64(fdt, node, "numa-node-id", &ok);
	if (v >= MAX_NODES)
		return fail(bi, E_RANGE, "numa-node-id beyond the kernel's 8 nodes");
	*id = (uint8_t)v;
	bi->nnodes = MAX(bi->nnodes, *id + 1u);
	return E_OK;
}

static err_t parse_memory(const void *fdt, struct boot_info *bi)
{
	int node = -1;
	while ((node = fdt_node_offset_by_prop_value(fdt, node, "device_type",
						     "memory", 7)) >= 0) {
		if (!dtb_node_enabled(fdt, node))
			continue; /* e.g. secure-only RAM */
		struct mem_range r;
		uint8_t id;
		err_t e = numa_id(fdt, node, bi, &id);
		if (e)
			return e;
		for (int i = 0; (e = dtb_reg(fdt, node, i, &r)) == E_OK; i++)
			if ((e = add_memory(bi, r, id)) != E_OK)
				return e;
		if (e == E_RANGE)
			return fail(bi, e, "memory range wraps around");
		if (e == E_BADFMT)
			return fail(bi, e, "bad #address-cells/#size-cells");
	}
	if (bi->nmem == 0)
		return fail(bi, E_NOENT, "no memory node");
	return E_OK;
}

static err_t parse_reserved(const void *fdt, struct boot_info *bi)
{
	int n = fdt_num_mem_rsv(fdt);
	for (int i = 0; i < n; i++) {
		uint64_t base, size;
		fdt_get_mem_rsv(fdt, i, &base, &size);
		if (base + size < base)
			return fail(bi, E_RANGE, "/memreserve/ wraps around");
		struct mem_range r = { pa_make(base), size };
		if (boot_reserve(bi, r, "memreserve") != E_OK)
			return fail(bi, E_FULL, "too many reserved ranges");
	}
	int parent = fdt_path_offset(fdt, "/reserved-memory");
	if (parent < 0)
		return E_OK;
	int node;
	fdt_for_each_subnode(node, fdt, parent) {
		struct mem_range r;
		err_t e;
		for (int i = 0; (e = reg_of(fdt, parent, node, i, &r)) == E_OK; i++)
			if (boot_reserve(bi, r, fdt_get_name(fdt, node, NULL)) != E_OK)
				return fail(bi, E_FULL, "too many reserved ranges");
		if (e != E_NOENT) /* entries without reg are dynamic: ignored */
			return fail(bi, e, "bad /reserved-memory entry");
	}
	return E_OK;
}

static err_t parse_chosen(const void *fdt, struct boot_info *bi)
{
	bi->bootargs = "";
	int node = fdt_path_offset(fdt, "/chosen");
	if (node < 0)
		return E_OK;
	const char *args = fdt_getprop(fdt, node, "bootargs", NULL);
	if (args)
		bi->bootargs = args;
	bool ok_start, ok_end;
	uint64_t s = prop_u64(fdt, node, "linux,initrd-start", &ok_start);
	uint64_t e = prop_u64(fdt, node, "linux,initrd-end", &ok_end);
	if (ok_start && ok_end) {
		if (e < s)
			return fail(bi, E_RANGE, "initrd ends before it starts");
		bi->initrd = (struct mem_range){ pa_make(s), e - s };
	}
	return E_OK;
}

static err_t parse_cpus(const void *fdt, struct boot_info *bi)
{
	int cpus = fdt_path_offset(fdt, "/cpus"), node;
	if (cpus < 0)
		return fail(bi, E_NOENT, "no /cpus node");
	int ac = fdt_address_cells(fdt, cpus);
	if (ac < 1 || ac > 2)
		return fail(bi, E_BADFMT, "bad /cpus #address-cells");
	fdt_for_each_subnode(node, fdt, cpus) {
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);
		int len;
		const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
		if (!type || strcmp(type, "cpu") != 0 || !dtb_node_enabled(fdt, node))
			continue;
		if (!reg || len < ac * 4)
			return fail(bi, E_BADFMT, "cpu node without reg");
		if (bi->ncpus == MAX_CPUS)
			break; /* more CPUs than the kernel supports: use the first */
		err_t e = numa_id(fdt, node, bi, &bi->cpu_node[bi->ncpus]);
		if (e)
			return e;
		bi->cpu_hwid[bi->ncpus++] = read_cells(reg, ac);
	}
	if (bi->ncpus == 0)
		return fail(bi, E_NOENT, "no cpu nodes");
	return E_OK;
}

/* /distance-map's "distance-matrix": <from to distance> triplets
 * (bindings/numa.txt).  Entries naming nodes past the ones found, or
 * distances past 255, are left out: allocation then falls back by id. */
static void parse_distances(const void *fdt, struct boot_info *bi)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "numa-distance-map-v1"), len;
	const fdt32_t *m = node < 0 ? NULL : fdt_getprop(fdt, node, "distance-matrix", &len);
	for (int i = 0; m && i + 12 <= len; i += 12, m += 3) {
		uint32_t from = fdt32_to_cpu(m[0]), to = fdt32_to_cpu(m[1]), d = fdt32_to_cpu(m[2]);
		if (from < bi->nnodes && to < bi->nnodes && d <= 255)
			bi->distance[from][to] = (uint8_t)d;
	}
}

static void parse_psci(const void *fdt, struct boot_info *bi)
{
	static const char *const compat[] = { "arm,psci-1.0", "arm,psci-0.2" };
	for (unsigned i = 0; i < ARRAY_SIZE(compat); i++) {
		int node = fdt_node_offset_by_compatible(fdt, -1, compat[i]);
		const char *m = node < 0 ? NULL : fdt_getprop(fdt, node, "method", NULL);
		if (m) {
			bi->psci = strcmp(m, "hvc") == 0 ? PSCI_HVC :
				   strcmp(m, "smc") == 0 ? PSCI_SMC : PSCI_NONE;
			return;
		}
	}
}

err_t dtb_parse(const void *fdt, struct boot_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->fdt = fdt;
	bi->bootargs = "";
	if (fdt_check_header(fdt) != 0)
		return fail(bi, E_BADFMT, "bad DTB header");
	if (fdt_totalsize(fdt) > DTB_MAX_SIZE)
		return fail(bi, E_BADFMT, "DTB larger than 2 MiB");
	err_t e;
	if ((e = parse_memory(fdt, bi)) || (e = parse_reserved(fdt, bi)) ||
	    (e = parse_chosen(fdt, bi)) || (e = parse_cpus(fdt, bi)))
		return e;
	parse_psci(fdt, bi);
	parse_distances(fdt, bi);
	if (boot_reserve(bi, bi->initrd, "initrd") != E_OK)
		return fail(bi, E_FULL, "too many reserved ranges");
	return E_OK;
}

bool boot_arg(const struct boot_info *bi, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = bi->bootargs; *p;) {
		while (*p == ' ')
			p++;
		size_t len = 0;
		while (p[len] && p[len] != ' ')
			len++;
		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
	}
	return false;
}
