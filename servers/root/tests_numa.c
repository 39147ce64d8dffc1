/* NUMA (issue 13): the nodes the kernel found in the firmware's tables (boot
 * info: each RAM range's node, each node's CPUs; DEBUG_STATS: each node's
 * pages), Memory objects tied to a node, whose objects lie in that node's
 * RAM and nowhere else, and untied memory placed on the calling CPU's node
 * first.  `numa.nodes=N` says how many nodes the machine has (1 without it),
 * so a kernel that misses the firmware's description fails. */
#include "servers/root/check.h"

#define NODE_RETYPE(mem, node, quota, slot) \
	inv(SYS_MEM_RETYPE, mem, OBJ_MEMORY, quota, ROOT_CNODE, slot, node, 0, 0)

/* The node whose RAM holds [pa, pa + size), ~0 if none does. */
static uint64_t node_at(uint64_t pa, uint64_t size)
{
	for (unsigned i = 0; i < bootinfo->nmem; i++)
		if (pa >= bootinfo->mem[i].base &&
		    pa + size <= bootinfo->mem[i].base + bootinfo->mem[i].size)
			return bootinfo->mem_node[i];
	return ~0ull;
}

static bool on_node(uint64_t pa, uint64_t size, uint64_t node)
{
	if (node_at(pa, size) == node)
		return true;
	printf("root: 0x%lx (+0x%lx) is not on node %lu\n", pa, size, node);
	return false;
}

/* DEBUG_STATS for `node`: [2] its free pages, [3] all its pages. */
static uint64_t node_stat(uint64_t node, unsigned what)
{
	uint64_t k[5];
	return inv(SYS_DEBUG_STATS, ROOT_CONSOLE, node, 0, 0, 0, 0, 0, k) ? ~0ull : k[what];
}

static uint64_t frame_pa(cptr_t f)
{
	uint64_t r[5];
	return inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, r) ? ~0ull : r[2];
}

static uint64_t mem_node(cptr_t m)
{
	uint64_t r[5];
	return inv(SYS_MEM_INFO, m, 0, 0, 0, 0, 0, 0, r) ? ~1ull : r[2];
}

static bool t_numa_nodes(void)
{
	uint64_t n = bootinfo->nnodes, cpus = 0;
	CHECK(n == bootarg_u64("numa.nodes=", 1) && n <= BOOTINFO_NODES);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t ram = 0;
		for (unsigned m = 0; m < bootinfo->nmem; m++)
			ram += bootinfo->mem_node[m] == i ? bootinfo->mem[m].size : 0;
		uint64_t pages = node_stat(i, 3);
		printf("root: numa node %lu: %lu MiB RAM, %lu pages, cpus 0x%lx\n", i,
		       ram >> 20, pages, bootinfo->node_cpus[i]);
		/* reservations (kernel, DTB, metadata) take far less than 1/8 */
		CHECK(pages <= ram / PAGE_SIZE_U && pages >= ram / PAGE_SIZE_U / 8 * 7);
		CHECK((cpus & bootinfo->node_cpus[i]) == 0);
		cpus |= bootinfo->node_cpus[i];
	}
	CHECK(cpus == (1ull << bootinfo->ncpus) - 1);
	CHECK_ERR(INV1(SYS_DEBUG_STATS, ROOT_CONSOLE, n), E_RANGE);
	CHECK_ERR(INV1(SYS_DEBUG_STATS, ROOT_CONSOLE, 1ull << 32), E_RANGE);
	CHECK(mem_node(ROOT_MEMORY) == MEM_NODE_ANY);
	cptr_t s = slot_alloc();
	CHECK_ERR(NODE_RETYPE(ROOT_MEMORY, MEM_NODE(n), 65536, s), E_INVAL);
	CHECK_ERR(NODE_RETYPE(ROOT_MEMORY, MEM_NODE(0) | 1ull << 32, 65536, s), E_INVAL);
	CHECK_ERR(NODE_RETYPE(ROOT_MEMORY, ~0ull, 65536, s), E_INVAL);
	slot_free(s);
	return true;
}

/* Objects paid from a Memory tied to node `node` take that node's pages. */
static bool objects_on(uint64_t node, cptr_t sub)
{
	uint64_t free[BOOTINFO_NODES];
	for (uint64_t i = 0; i < bootinfo->nnodes; i++)
		free[i] = node_stat(i, 2);
	cptr_t f4 = slot_alloc(), f2 = slot_alloc(), cn = slot_alloc();
	CHECK_ERR(retype(sub, OBJ_FRAME, FRAME_BITS_4K, ROOT_CNODE, f4), E_OK);
	CHECK_ERR(retype(sub, OBJ_FRAME, FRAME_BITS_2M, ROOT_CNODE, f2), E_OK);
	CHECK_ERR(retype(sub, OBJ_CNODE, 12, ROOT_CNODE, cn), E_OK); /* 64 pages */
	CHECK(on_node(frame_pa(f4), 4096, node) && on_node(frame_pa(f2), 2 << 20, node));
	for (uint64_t i = 0; i < bootinfo->nnodes; i++)
		if (i == node)
			CHECK(free[i] - node_stat(i, 2) >= 1 + 512 + 64);
		else
			CHECK(node_stat(i, 2) == free[i]);
	slot_free(f4), slot_free(f2), slot_free(cn);
	return true;
}

static bool t_numa_memory_on_node(void)
{
	struct accounts before = accounts_read();
	for (uint64_t node = 0; node < bootinfo->nnodes; node++) {
		uint64_t free = node_stat(node, 2);
		cptr_t sub = slot_alloc(), child = slot_alloc();
		CHECK_ERR(NODE_RETYPE(ROOT_MEMORY, MEM_NODE(node), 8 << 20, sub), E_OK);
		CHECK(mem_node(sub) == node);
		CHECK(objects_on(node, sub));
		/* a sub-quota keeps its parent's node, and cannot leave it */
		CHECK_ERR(NODE_RETYPE(sub, 0, 4 << 20, child), E_OK);
		CHECK(mem_node(child) == node && objects_on(node, child));
		slot_free(child);
		CHECK_ERR(NODE_RETYPE(sub, MEM_NODE(node), 4 << 20, child), E_OK);
		slot_free(child);
		if (bootinfo->nnodes > 1)
			CHECK_ERR(NODE_RETYPE(sub, MEM_NODE((node + 1) % bootinfo->nnodes),
					      4 << 20, child), E_INVAL);
		slot_free(child), slot_free(sub);
		CHECK(node_stat(node, 2) == free);
	}
	CHECK(accounts_equal(accounts_read(), before));
	return true;
}

/* With `node` out of 2 MiB blocks, an untied 2 MiB frame made on one of
 * its CPUs comes from the node the firmware puts nearest, numa.next=N
 * (without it, from any other). */
static bool nearest_next(uint64_t node)
{
	uint64_t next = bootarg_u64("numa.next=", ~0ull), cpu = 0;
	while (!(bootinfo->node_cpus[node] >> cpu & 1))
		CHECK(++cpu < bootinfo->ncpus);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, ROOT_THREAD, cpu), E_OK);
	cptr_t f = new_obj(OBJ_FRAME, FRAME_BITS_2M);
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, ROOT_THREAD, 0), E_OK);
	CHECK(f);
	uint64_t at = node_at(frame_pa(f), 2 << 20);
	slot_free(f);
	printf("root: numa: node %lu full, its CPU %lu got node %lu\n", node, cpu, at);
	CHECK(at != node && at < bootinfo->nnodes && (next == ~0ull || at == next));
	return true;
}

/* A Memory tied to the last node, with a quota larger than that node, is
 * refused once the node has no 2 MiB block left, though other nodes have
 * plenty and the quota has room: every frame it got lies on its node, and
 * deleting them all gives every page back. */
static bool t_numa_node_full(void)
{
	uint64_t node = bootinfo->nnodes - 1, n = 0;
	uint64_t quota = node_stat(node, 3) * PAGE_SIZE_U + (16 << 20);
	unsigned max = (unsigned)(quota >> 21) + 1;
	if (node == 0) { /* the only node: its quota would be all memory */
		printf("root: numa: one node, none to fill\n");
		return true;
	}
	struct accounts before = accounts_read();
	uint64_t free = node_stat(node, 2);
	cptr_t sub = slot_alloc(), first = slot_alloc_range(max);
	CHECK(sub && first);
	CHECK_ERR(NODE_RETYPE(ROOT_MEMORY, MEM_NODE(node), quota, sub), E_OK);
	err_t e;
	while ((e = retype(sub, OBJ_FRAME, FRAME_BITS_2M, ROOT_CNODE, first + n)) == E_OK) {
		CHECK(on_node(frame_pa(first + n), 2 << 20, node));
		CHECK(++n < max);
	}
	CHECK_ERR(e, E_NOMEM);
	uint64_t r[5];
	CHECK_ERR(inv(SYS_MEM_INFO, sub, 0, 0, 0, 0, 0, 0, r), E_OK);
	CHECK(r[1] + (2 << 20) <= r[0]); /* refused by the node, not the quota */
	printf("root: numa: node %lu gave %lu 2 MiB frames, then none (%lu pages left)\n",
	       node, n, node_stat(node, 2));
	CHECK(n * 512 > free / 2);
	CHECK(nearest_next(node));
	CHECK_ERR(INV1(SYS_CNODE_REVOKE, ROOT_CNODE, sub), E_OK);
	for (unsigned i = 0; i < max; i++)
		slot_free(first + i);
	slot_free(sub);
	CHECK(node_stat(node, 2) == free);
	CHECK(accounts_equal(accounts_read(), before));
	return true;
}

/* Untied memory (the root's) comes from the calling CPU's node first. */
static bool t_numa_local_first(void)
{
	struct accounts before = accounts_read();
	for (uint64_t cpu = 0; cpu < bootinfo->ncpus; cpu++) {
		uint64_t node = 0;
		while (!(bootinfo->node_cpus[node] >> cpu & 1))
			node++;
		CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, ROOT_THREAD, cpu), E_OK);
		cptr_t f = new_obj(OBJ_FRAME, FRAME_BITS_4K);
		CHECK(f && on_node(frame_pa(f), 4096, node));
		slot_free(f);
	}
	CHECK_ERR(INV1(SYS_THREAD_SET_AFFINITY, ROOT_THREAD, 0), E_OK);
	CHECK(accounts_equal(accounts_read(), before));
	return true;
}

/* One test, so that root.only=numa runs it all (the scenarios do). */
static bool t_numa(void)
{
	return t_numa_nodes() && t_numa_memory_on_node() && t_numa_node_full() &&
	       t_numa_local_first();
}
ROOT_TEST("numa", t_numa);
