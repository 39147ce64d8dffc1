/* The DTB memory-map logic on hand-built trees (libfdt sequential write). */
#include <libfdt.h>
#include <string.h>

#include "host.h"
#include "hyp/dtb.h"
#include "mm/memmap.h"
#include "mm/pmem.h"

#include "dtb_tree.h"

static char fdt[16384];

static void build(const struct tree *t) { tree_build(fdt, sizeof(fdt), t); }

static struct boot_info bi;

static void test_basic_tree(void **state)
{
	struct tree t = { .mem = { { 0x40000000, 0x20000000 } }, .nmem = 1,
			  .bootargs = "console=x cairn.test=mm" };
	build(&t);
	assert_int_equal(dtb_parse(fdt, &bi), E_OK);
	assert_int_equal(bi.nmem, 1);
	assert_int_equal(bi.mem[0].base.pa, 0x40000000);
	assert_int_equal(bi.mem[0].size, 0x20000000);
	assert_int_equal(bi.ncpus, 2);
	assert_int_equal(bi.cpu_hwid[1], 1);
	assert_int_equal(bi.psci, PSCI_HVC);
	assert_string_equal(bi.bootargs, "console=x cairn.test=mm");
	assert_true(boot_arg(&bi, "cairn.test=mm"));
	assert_false(boot_arg(&bi, "cairn.test"));
	assert_false(boot_arg(&bi, "test=mm"));
	assert_int_equal(bi.nresv, 0);
}

static void test_reservations_are_cut_out(void **state)
{
	struct tree t = {
		.mem = { { 0x40000000, 0x10000000 }, { 0x80000000, 0x1000000 } },
		.nmem = 2, .split_memory_nodes = true,
		.resv_node = { { 0x48000000, 0x100000 }, { 0x4ffff800, 0x10000 } },
		.nresv_node = 2,
		.memreserve = { 0x40000100, 0x10 },
		.initrd = { 0x80800000, 0x1234 },
	};
	build(&t);
	assert_int_equal(dtb_parse(fdt, &bi), E_OK);
	assert_int_equal(bi.nmem, 2);
	assert_int_equal(bi.nresv, 4); /* memreserve, 2 nodes, initrd */
	assert_string_equal(bi.resv[1].name, "firmware@0");
	assert_int_equal(bi.initrd.base.pa, 0x80800000);
	assert_int_equal(bi.initrd.size, 0x1234);

	struct mem_range u[MEMMAP_MAX];
	unsigned n;
	assert_int_equal(memmap_usable(&bi, u, MEMMAP_MAX, &n), E_OK);
	const struct rng want[] = {
		{ 0x40001000, 0x48000000 }, /* partly reserved page 0x40000000 gone */
		{ 0x48100000, 0x4ffff000 }, /* secure@1 begins mid-page */
		{ 0x80000000, 0x80800000 },
		{ 0x80802000, 0x81000000 }, /* initrd rounded out to pages */
	};
	assert_int_equal(n, 4);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(u[i].base.pa, want[i].base);
		assert_int_equal(range_end(u[i]), want[i].size);
	}
}

static void test_no_memory_node(void **state)
{
	struct tree t = { .nmem = 0 };
	build(&t);
	assert_int_equal(dtb_parse(fdt, &bi), E_NOENT);
	assert_string_equal(bi.why, "no memory node");
}

static void test_overlapping_memory(void **state)
{
	struct tree t = { .mem = { { 0x40000000, 0x10000000 }, { 0x4f000000, 0x2000000 } },
			  .nmem = 2, .split_memory_nodes = true };
	build(&t);
	assert_int_equal(dtb_parse(fdt, &bi), E_OVERLAP);
	assert_string_equal(bi.why, "memory ranges overlap");
}

static void test_wrapping_memory(void **state)
{
	struct tree t = { .mem = { { 0xfffffffffffff000ull, 0x2000 } }, .nmem = 1 };
	build(&t);
	assert_int_equal(dtb_parse(fdt, &bi), E_RANGE);
}

static void test_bad_header(void **state)
{
	struct tree t = { .mem = { { 0x40000000, 0x1000000 } }, .nmem = 1 };
	build(&t);
	((uint32_t *)fdt)[0] ^= 1; /* magic */
	assert_int_equal(dtb_parse(fdt, &bi), E_BADFMT);
	assert_string_equal(bi.why, "bad DTB header");
	memset(fdt, 0, sizeof(fdt));
	assert_int_equal(dtb_parse(fdt, &bi), E_BADFMT);
	build(&t);
	fdt_set_totalsize(fdt, DTB_MAX_SIZE + 8); /* consistent, but too large */
	assert_int_equal(dtb_parse(fdt, &bi), E_BADFMT);
	assert_string_equal(bi.why, "DTB larger than 2 MiB");
}

static void test_truncated_reg(void **state)
{
	tree_begin_root(fdt, sizeof(fdt), (struct rng){ 0, 0 });
	fdt_begin_node(fdt, "memory@0");
	fdt_property_string(fdt, "device_type", "memory");
	fdt_property_u64(fdt, "reg", 0x40000000); /* address without size */
	fdt_end_node(fdt);
	fdt_end_node(fdt);
	fdt_finish(fdt);
	assert_int_equal(dtb_parse(fdt, &bi), E_NOENT); /* no usable range */
}

/* QEMU virt's PCIe host bridge: I/O, 32-bit and 64-bit windows; then a
 * truncated and an overflowing entry. */
static void test_pci_windows(void **state)
{
	static const uint32_t cells[] = {
		0x01000000, 0, 0, 0, 0x3eff0000, 0, 0x10000,
		0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x2eff0000,
		0x03000000, 0x80, 0, 0x80, 0, 0x80, 0,
		0x02000000, 0, 0, 0xffffffff, 0xffff0000, 1, 0,
		0x02000000, 0, 0, 0,
	};
	fdt32_t ranges[sizeof(cells) / 4];
	for (unsigned i = 0; i < sizeof(cells) / 4; i++)
		ranges[i] = cpu_to_fdt32(cells[i]);
	tree_begin_root(fdt, sizeof(fdt), (struct rng){ 0, 0 });
	tree_memory_node(fdt, "memory@40000000", &(struct rng){ 0x40000000, 0x10000000 }, 1);
	fdt_begin_node(fdt, "pcie@10000000");
	fdt_property_string(fdt, "device_type", "pci");
	fdt_property_u32(fdt, "#address-cells", 3);
	fdt_property_u32(fdt, "#size-cells", 2);
	fdt_property(fdt, "ranges", ranges, sizeof(ranges));
	fdt_end_node(fdt);
	fdt_end_node(fdt);
	fdt_finish(fdt);
	int node = fdt_path_offset(fdt, "/pcie@10000000");
	struct mem_range r;
	unsigned space;
	assert_int_equal(dtb_pci_window(fdt, node, 0, &r, &space), E_OK);
	assert_int_equal(space, 1);
	assert_int_equal(r.base.pa, 0x3eff0000);
	assert_int_equal(r.size, 0x10000);
	assert_int_equal(dtb_pci_window(fdt, node, 1, &r, &space), E_OK);
	assert_int_equal(space, 2);
	assert_int_equal(r.base.pa, 0x10000000);
	assert_int_equal(r.size, 0x2eff0000);
	assert_int_equal(dtb_pci_window(fdt, node, 2, &r, &space), E_OK);
	assert_int_equal(space, 3);
	assert_int_equal(r.base.pa, 0x8000000000ull);
	assert_int_equal(r.size, 0x8000000000ull);
	assert_int_equal(dtb_pci_window(fdt, node, 3, &r, &space), E_RANGE); /* wraps */
	assert_int_equal(dtb_pci_window(fdt, node, 4, &r, &space), E_NOENT); /* truncated */
	int root = fdt_path_offset(fdt, "/");
	assert_int_equal(dtb_pci_window(fdt, root, 0, &r, &space), E_BADFMT); /* 2 cells */
}

static void test_too_many_memory_ranges(void **state)
{
	struct rng many[BOOT_MAX_MEM + 1];
	for (unsigned i = 0; i <= BOOT_MAX_MEM; i++)
		many[i] = (struct rng){ 0x40000000 + i * 0x2000ull, 0x1000 };
	tree_begin_root(fdt, sizeof(fdt), (struct rng){ 0, 0 });
	/* 16 in one node, one more in another */
	tree_memory_node(fdt, "memory@0", many, BOOT_MAX_MEM);
	tree_memory_node(fdt, "memory@1", &many[BOOT_MAX_MEM], 1);
	fdt_end_node(fdt);
	fdt_finish(fdt);
	assert_int_equal(dtb_parse(fdt, &bi), E_FULL);
	assert_string_equal(bi.why, "too many memory ranges");
}

static void test_initrd_backwards(void **state)
{
	struct tree t = { .mem = { { 0x40000000, 0x1000000 } }, .nmem = 1 };
	build(&t);
	char copy[sizeof(fdt)];
	memcpy(copy, fdt, sizeof(fdt));
	assert_int_equal(fdt_open_into(copy, fdt, sizeof(fdt)), 0);
	int chosen = fdt_path_offset(fdt, "/chosen");
	fdt_setprop_u64(fdt, chosen, "linux,initrd-start", 0x40800000);
	fdt_setprop_u64(fdt, chosen, "linux,initrd-end", 0x40700000);
	assert_int_equal(dtb_parse(fdt, &bi), E_RANGE);
	assert_string_equal(bi.why, "initrd ends before it starts");
}

/* pmem_init: the allocator over a DTB's RAM never hands out a reserved page
 * and carves its own metadata out of RAM. */
static void test_pmem_respects_reservations(void **state)
{
	struct fake_ram ram;
	const uint64_t base = 0x40000000, size = 8 << 20;
	fake_ram_init(&ram, base, size);
	struct tree t = { .mem = { { base, size } }, .nmem = 1,
			  .resv_node = { { base + 0x100000, 0x3000 } }, .nresv_node = 1 };
	build(&t);
	assert_int_equal(dtb_parse(fdt, &bi), E_OK);
	static struct pmem p;
	assert_int_equal(pmem_init(&p, &bi, ram.dm_offset), E_OK);
	assert_int_equal(p.nnodes, 1);
	struct buddy *b = &p.node[0];
	assert_string_equal(bi.resv[bi.nresv - 1].name, "page metadata");
	uint64_t pages = size / PAGE_SIZE - 3 - 1; /* reserved, metadata page */
	assert_int_equal(b->free_pages, pages);
	paddr_t pa;
	for (uint64_t i = 0; i < pages; i++) {
		assert_int_equal(buddy_alloc(b, 0, &pa), E_OK);
		assert_true(pa.pa >= base && pa.pa < base + size);
		assert_false(pa.pa >= base + 0x100000 && pa.pa < base + 0x103000);
		assert_true(pa.pa < range_end(bi.resv[bi.nresv - 1].r) - PAGE_SIZE ||
			    pa.pa >= range_end(bi.resv[bi.nresv - 1].r));
	}
	assert_int_equal(buddy_alloc(b, 0, &pa), E_NOMEM);
	fake_ram_free(&ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_tree),
		cmocka_unit_test(test_reservations_are_cut_out),
		cmocka_unit_test(test_no_memory_node),
		cmocka_unit_test(test_overlapping_memory),
		cmocka_unit_test(test_wrapping_memory),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_truncated_reg),
		cmocka_unit_test(test_too_many_memory_ranges),
		cmocka_unit_test(test_pci_windows),
		cmocka_unit_test(test_initrd_backwards),
		cmocka_unit_test(test_pmem_respects_reservations),
	};
	return RUN_TESTS("dtb", tests);
}
