/* NUMA: numa-node-id in a DTB's memory and cpu nodes, and the buddy pool
 * per node (mm/pmem.c) that the kernel builds from them. */
#include <libfdt.h>
#include <string.h>

#include "host.h"
#include "hyp/dtb.h"
#include "mm/pmem.h"
#include "mm/slab.h"

#include "dtb_tree.h"

#define RAM 0x40000000ull
#define NODE_SIZE (8ull << 20)
#define RESV (RAM + NODE_SIZE + 0x100000) /* a /memreserve/ in node 1 */

static char fdt[16384];
static struct boot_info bi;
static struct pmem pm;
static struct fake_ram ram;
static unsigned local_is;

static unsigned local(void) { return local_is; }

/* Two memory nodes, node 1's first as QEMU writes them, and CPU 0 on node
 * 1, CPU 1 on node 0, so that no id is right by accident.  `bad_id` on the
 * second CPU when nonzero. */
static void build(uint32_t bad_id)
{
	tree_begin_root(fdt, sizeof(fdt), (struct rng){ RESV, 0x2000 });
	static const struct { const char *name; uint64_t base; uint32_t id; } mem[] = {
		{ "memory@40800000", RAM + NODE_SIZE, 1 }, { "memory@40000000", RAM, 0 },
	};
	for (unsigned i = 0; i < 2; i++) {
		struct rng r = { mem[i].base, NODE_SIZE };
		fdt_begin_node(fdt, mem[i].name);
		fdt_property_string(fdt, "device_type", "memory");
		tree_prop_reg(fdt, &r, 1);
		fdt_property_u32(fdt, "numa-node-id", mem[i].id);
		fdt_end_node(fdt);
	}
	fdt_begin_node(fdt, "cpus");
	fdt_property_u32(fdt, "#address-cells", 1);
	fdt_property_u32(fdt, "#size-cells", 0);
	for (unsigned i = 0; i < 2; i++) {
		fdt_begin_node(fdt, i ? "cpu@1" : "cpu@0");
		fdt_property_string(fdt, "device_type", "cpu");
		fdt_property_u32(fdt, "reg", i);
		fdt_property_u32(fdt, "numa-node-id", i ? (bad_id ? bad_id : 0) : 1);
		fdt_end_node(fdt);
	}
	fdt_end_node(fdt);
	fdt_end_node(fdt);
	assert_int_equal(fdt_finish(fdt), 0);
}

static bool in_node(uint64_t pa, unsigned node)
{
	uint64_t lo = RAM + node * NODE_SIZE;
	return pa >= lo && pa < lo + NODE_SIZE;
}

static int setup(void **state)
{
	fake_ram_init(&ram, RAM, 2 * NODE_SIZE);
	build(0);
	assert_int_equal(dtb_parse(fdt, &bi), E_OK);
	assert_int_equal(pmem_init(&pm, &bi, ram.dm_offset), E_OK);
	pm.local = local;
	local_is = 0;
	return 0;
}

static int teardown(void **state)
{
	fake_ram_free(&ram);
	return 0;
}

static void test_dtb_node_ids(void **state)
{
	assert_int_equal(bi.nnodes, 2);
	assert_int_equal(bi.nmem, 2);
	assert_int_equal(bi.mem[0].base.pa, RAM + NODE_SIZE);
	assert_int_equal(bi.mem_node[0], 1);
	assert_int_equal(bi.mem_node[1], 0);
	assert_int_equal(bi.ncpus, 2);
	assert_int_equal(bi.cpu_node[0], 1);
	assert_int_equal(bi.cpu_node[1], 0);
}

static void test_dtb_without_numa_is_one_node(void **state)
{
	struct tree t = { .mem = { { RAM, NODE_SIZE }, { RAM + NODE_SIZE, NODE_SIZE } },
			  .nmem = 2, .split_memory_nodes = true };
	tree_build(fdt, sizeof(fdt), &t);
	struct boot_info one;
	assert_int_equal(dtb_parse(fdt, &one), E_OK);
	assert_int_equal(one.nnodes, 1);
	assert_int_equal(one.mem_node[0] | one.mem_node[1], 0);
	assert_int_equal(one.cpu_node[0] | one.cpu_node[1], 0);
	static struct pmem p;
	assert_int_equal(pmem_init(&p, &one, ram.dm_offset), E_OK);
	assert_int_equal(p.nnodes, 1);
	assert_int_equal(p.node[0].free_pages, 2 * NODE_SIZE / PAGE_SIZE - 1); /* metadata */
}

static void test_dtb_node_id_too_large(void **state)
{
	build(MAX_NODES);
	struct boot_info b2;
	assert_int_equal(dtb_parse(fdt, &b2), E_RANGE);
	assert_string_equal(b2.why, "numa-node-id beyond the kernel's 8 nodes");
}

/* Each node's pool holds exactly its own RAM less reservations, and its
 * metadata lies in its own RAM. */
static void test_pool_per_node(void **state)
{
	assert_int_equal(pm.nnodes, 2);
	unsigned metas = 0;
	for (unsigned i = 0; i < bi.nresv; i++)
		if (!strcmp(bi.resv[i].name, "page metadata")) {
			assert_true(in_node(bi.resv[i].r.base.pa, metas));
			metas++;
		}
	assert_int_equal(metas, 2);
	uint64_t pages = NODE_SIZE / PAGE_SIZE;
	assert_int_equal(pm.node[0].managed_pages, pages - 1);
	assert_int_equal(pm.node[1].managed_pages, pages - 1 - 2); /* and the memreserve */
	assert_int_equal(pmem_free_pages(&pm), 2 * pages - 4);
	assert_int_equal(pmem_node_of(&pm, pa_make(RAM + NODE_SIZE)), 1);
	assert_int_equal(pmem_node_of(&pm, pa_make(RAM + NODE_SIZE - 1)), 0);
}

/* A node's pages come from that node only, until it is empty, whatever
 * the other has; freed, each goes back to its own pool. */
static void test_node_allocation_is_strict(void **state)
{
	static paddr_t got[2048];
	unsigned n = 0;
	uint64_t free0 = pm.node[0].free_pages, free1 = pm.node[1].free_pages;
	while (pmem_alloc(&pm, 1, 0, &got[n]) == E_OK) {
		assert_true(in_node(got[n].pa, 1));
		assert_false(got[n].pa >= RESV && got[n].pa < RESV + 0x2000);
		n++;
	}
	assert_int_equal(n, free1);
	assert_int_equal(pm.node[0].free_pages, free0);
	assert_int_equal(pmem_alloc(&pm, 2, 0, &got[n]), E_NOMEM); /* no node 2 */
	for (unsigned i = 0; i < n; i++)
		pmem_free(&pm, got[i], 0);
	assert_int_equal(pm.node[1].free_pages, free1);
	assert_int_equal(pm.node[0].free_pages, free0);
}

/* Any node: the local one first, then the others once it is empty. */
static void test_local_node_first(void **state)
{
	static paddr_t got[2048];
	paddr_t pa;
	local_is = 1;
	assert_int_equal(pmem_alloc(&pm, PMEM_ANY_NODE, 0, &pa), E_OK);
	assert_true(in_node(pa.pa, 1));
	pmem_free(&pm, pa, 0);
	local_is = 0;
	unsigned n = 0;
	while (pm.node[0].free_pages) {
		assert_int_equal(pmem_alloc(&pm, PMEM_ANY_NODE, 0, &got[n]), E_OK);
		assert_true(in_node(got[n++].pa, 0));
	}
	assert_int_equal(pmem_alloc(&pm, PMEM_ANY_NODE, 9, &pa), E_OK);
	assert_true(in_node(pa.pa, 1));
	assert_int_equal(pa.pa & ((PAGE_SIZE << 9) - 1), 0);
	assert_int_equal(pmem_alloc(&pm, 0, 0, &got[n]), E_NOMEM);
	pmem_free(&pm, pa, 9);
	while (n)
		pmem_free(&pm, got[--n], 0);
	assert_int_equal(pmem_free_pages(&pm), 2 * NODE_SIZE / PAGE_SIZE - 4);
}

/* A slab on node 1 takes its pages there and gives them back there. */
static void test_slab_on_node(void **state)
{
	static struct slab s;
	slab_init(&s, &pm, 1);
	uint64_t free0 = pm.node[0].free_pages, free1 = pm.node[1].free_pages;
	void *o[300];
	for (unsigned i = 0; i < 300; i++) {
		o[i] = slab_alloc(&s, 64);
		assert_non_null(o[i]);
		assert_true(in_node((uintptr_t)o[i] - ram.dm_offset, 1));
	}
	assert_int_equal(pm.node[0].free_pages, free0);
	assert_true(pm.node[1].free_pages < free1);
	for (unsigned i = 0; i < 300; i++)
		slab_free(&s, o[i]);
	assert_int_equal(pm.node[1].free_pages, free1);
}

/* Three nodes of 4 MiB and a distance-map: from node 0, node 2 (20) is
 * nearer than node 1 (40); node 1 has no distances, so the others follow
 * it by id; entries naming no node, or distances past 255, are ignored. */
static void build3(void)
{
	tree_begin_root(fdt, sizeof(fdt), (struct rng){ 0, 0 });
	for (uint32_t i = 0; i < 3; i++) {
		char name[32];
		struct rng r = { RAM + i * (4 << 20), 4 << 20 };
		snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)r.base);
		fdt_begin_node(fdt, name);
		fdt_property_string(fdt, "device_type", "memory");
		tree_prop_reg(fdt, &r, 1);
		fdt_property_u32(fdt, "numa-node-id", i);
		fdt_end_node(fdt);
	}
	static const uint32_t matrix[] = { 0, 0, 10, 0, 1, 40, 0, 2, 20, 2, 0, 20, 2, 1, 30,
					   2, 2, 10, 3, 0, 5, 0, 1, 300 };
	fdt32_t cells[sizeof(matrix) / 4];
	for (unsigned i = 0; i < sizeof(matrix) / 4; i++)
		cells[i] = cpu_to_fdt32(matrix[i]);
	fdt_begin_node(fdt, "distance-map");
	fdt_property_string(fdt, "compatible", "numa-distance-map-v1");
	fdt_property(fdt, "distance-matrix", cells, sizeof(cells));
	fdt_end_node(fdt);
	fdt_begin_node(fdt, "cpus");
	fdt_property_u32(fdt, "#address-cells", 1);
	fdt_property_u32(fdt, "#size-cells", 0);
	fdt_begin_node(fdt, "cpu@0");
	fdt_property_string(fdt, "device_type", "cpu");
	fdt_property_u32(fdt, "reg", 0);
	fdt_end_node(fdt);
	fdt_end_node(fdt);
	fdt_end_node(fdt);
	assert_int_equal(fdt_finish(fdt), 0);
}

static void test_nearest_node_next(void **state)
{
	build3();
	static struct boot_info b3;
	assert_int_equal(dtb_parse(fdt, &b3), E_OK);
	assert_int_equal(b3.nnodes, 3);
	assert_int_equal(b3.distance[0][1], 40);
	assert_int_equal(b3.distance[0][2], 20);
	static struct pmem p;
	assert_int_equal(pmem_init(&p, &b3, ram.dm_offset), E_OK);
	static const uint8_t want[3][3] = { { 0, 2, 1 }, { 1, 0, 2 }, { 2, 0, 1 } };
	for (unsigned n = 0; n < 3; n++)
		assert_memory_equal(p.near[n], want[n], 3);
	p.local = local;
	local_is = 0;
	static paddr_t got[1024];
	unsigned n = 0;
	while (pmem_alloc(&p, 0, 0, &got[n]) == E_OK)
		n++;
	paddr_t pa;
	assert_int_equal(pmem_alloc(&p, PMEM_ANY_NODE, 0, &pa), E_OK);
	assert_int_equal(pmem_node_of(&p, pa), 2);
	assert_true(pa.pa >= RAM + (8 << 20) && pa.pa < RAM + (12 << 20));
	pmem_free(&p, pa, 0);
	while (n)
		pmem_free(&p, got[--n], 0);
	assert_int_equal(pmem_free_pages(&p), 3 * 1024 - 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dtb_node_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dtb_without_numa_is_one_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dtb_node_id_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_per_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_allocation_is_strict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_node_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slab_on_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nearest_node_next, setup, teardown),
	};
	return RUN_TESTS("numa", tests);
}
