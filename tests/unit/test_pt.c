/* The table-driven walker with two formats of different shape: AArch64-like
 * (type bits in the low bits) and RISC-V-like (PPN shifted by 2, leaves told
 * apart by R/W/X). */
#include <string.h>

#include "host.h"
#include "mm/buddy.h"
#include "mm/pt.h"

static const struct pt_format arm_like = {
	.levels = 4, .block_min_level = 1, .oa_mask = 0x0000fffffffff000ull,
	.table_mask = 3, .table = 3, .valid = 1, .block = 1 | (1 << 10), .page = 3 | (1 << 10),
	.attr_set = { [3] = 0 }, .attr_clear = { [0] = 1 << 7, [1] = 1ull << 54, [3] = 1 << 2 },
};

static const struct pt_format riscv_like = {
	.levels = 4, .block_min_level = 1, .oa_shift = 2, .oa_mask = 0x003ffffffffffc00ull,
	.table_mask = 0xf, .table = 1, .valid = 1, .block = 0xc3, .page = 0xc3,
	.attr_set = { [0] = 4, [1] = 8, [2] = 0x10 },
};

#define RAM_PA 0x40000000ull
#define RAM_PAGES 64
static struct fake_ram ram;
static uint8_t meta[RAM_PAGES];
static struct buddy b;

static err_t alloc_table(void *ctx, paddr_t *pa)
{
	err_t e = buddy_alloc(ctx, 0, pa);
	if (!e)
		memset(buddy_va(ctx, *pa), 0, PAGE_SIZE);
	return e;
}

static void walk_format(const struct pt_format *f)
{
	fake_ram_init(&ram, RAM_PA, RAM_PAGES * PAGE_SIZE);
	buddy_init(&b, pa_make(RAM_PA), RAM_PAGES, meta, ram.dm_offset);
	buddy_add_range(&b, (struct mem_range){ pa_make(RAM_PA), RAM_PAGES * PAGE_SIZE });
	struct pt pt;
	assert_int_equal(pt_init(&pt, f, alloc_table, &b, ram.dm_offset), E_OK);

	/* 2 MiB + 4 KiB at a 2 MiB-aligned VA: one block, one page. */
	uint64_t va = 0x7f0000200000ull;
	assert_int_equal(pt_map(&pt, va, pa_make(0x80200000), 2 * MiB + PAGE_SIZE, PT_W), E_OK);
	assert_int_equal(b.free_pages, RAM_PAGES - 4); /* root, L1, L2 (holds the block), L3 */
	paddr_t pa;
	pte_t leaf;
	assert_true(pt_lookup(&pt, va + 0x1234, &pa, &leaf));
	assert_int_equal(pa.pa, 0x80201234);
	assert_int_not_equal(leaf & f->table_mask, f->table); /* a leaf, not a table */
	assert_true(pt_lookup(&pt, va + 2 * MiB + 8, &pa, &leaf));
	assert_int_equal(pa.pa, 0x80400008);
	assert_false(pt_lookup(&pt, va + 2 * MiB + PAGE_SIZE, &pa, &leaf));
	assert_false(pt_lookup(&pt, 0, &pa, &leaf));

	/* Overlap with the block or with the page is refused. */
	assert_int_equal(pt_map(&pt, va + PAGE_SIZE, pa_make(0x1000), PAGE_SIZE, 0), E_OVERLAP);
	assert_int_equal(pt_map(&pt, va + 2 * MiB, pa_make(0x1000), PAGE_SIZE, 0), E_OVERLAP);
	/* Misaligned arguments are refused. */
	assert_int_equal(pt_map(&pt, va + 1, pa_make(0), PAGE_SIZE, 0), E_INVAL);
	/* Out of table memory is an error, not a crash. */
	paddr_t hog;
	while (buddy_alloc(&b, 0, &hog) == E_OK)
		;
	assert_int_equal(pt_map(&pt, 0x1000000000ull, pa_make(0), PAGE_SIZE, 0), E_NOMEM);
	fake_ram_free(&ram);
}

static void test_arm_like(void **state) { walk_format(&arm_like); }
static void test_riscv_like(void **state) { walk_format(&riscv_like); }

static void test_attributes(void **state)
{
	fake_ram_init(&ram, RAM_PA, RAM_PAGES * PAGE_SIZE);
	buddy_init(&b, pa_make(RAM_PA), RAM_PAGES, meta, ram.dm_offset);
	buddy_add_range(&b, (struct mem_range){ pa_make(RAM_PA), RAM_PAGES * PAGE_SIZE });
	struct pt pt;
	pt_init(&pt, &arm_like, alloc_table, &b, ram.dm_offset);
	pt_map(&pt, 0x1000, pa_make(0x1000), PAGE_SIZE, PT_X);      /* RX */
	pt_map(&pt, 0x2000, pa_make(0x2000), PAGE_SIZE, PT_W);      /* RW, XN */
	pt_map(&pt, 0x3000, pa_make(0x3000), PAGE_SIZE, PT_W | PT_DEVICE);
	paddr_t pa;
	pte_t e;
	pt_lookup(&pt, 0x1000, &pa, &e);
	assert_true((e & (1 << 7)) && !(e & (1ull << 54)) && (e & (1 << 2)));
	pt_lookup(&pt, 0x2000, &pa, &e);
	assert_true(!(e & (1 << 7)) && (e & (1ull << 54)));
	pt_lookup(&pt, 0x3000, &pa, &e);
	assert_true(!(e & (1 << 2))); /* device: attribute index 0 */
	fake_ram_free(&ram);
}

/* Unmapping the last page under a table frees the tables it leaves empty
 * (never the root), and a block can then map where they were; a table that
 * still holds a page stays. */
static void unmap_format(const struct pt_format *f)
{
	fake_ram_init(&ram, RAM_PA, RAM_PAGES * PAGE_SIZE);
	buddy_init(&b, pa_make(RAM_PA), RAM_PAGES, meta, ram.dm_offset);
	buddy_add_range(&b, (struct mem_range){ pa_make(RAM_PA), RAM_PAGES * PAGE_SIZE });
	struct pt pt;
	pt_init(&pt, f, alloc_table, &b, ram.dm_offset);
	uint64_t top = (1ull << 39) - PAGE_SIZE, free_root = b.free_pages;
	paddr_t empty[PT_MAX_LEVELS];
	assert_int_equal(pt_map(&pt, top, pa_make(0x1000), PAGE_SIZE, 0), E_OK);
	assert_int_equal(pt_map(&pt, top - PAGE_SIZE, pa_make(0x2000), PAGE_SIZE, 0), E_OK);
	assert_int_equal(b.free_pages, free_root - 3);
	assert_int_equal(pt_unmap(&pt, top, empty), 0); /* its neighbour keeps the table */
	assert_int_equal(pt_unmap(&pt, top, empty), 0); /* not mapped: nothing */
	assert_int_equal(pt_unmap(&pt, top - PAGE_SIZE, empty), 3);
	for (unsigned i = 0; i < 3; i++)
		buddy_free(&b, empty[i], 0);
	assert_int_equal(b.free_pages, free_root);
	assert_int_equal(pt_map(&pt, (1ull << 39) - 2 * MiB, pa_make(0x200000), 2 * MiB, 0), E_OK);
	assert_int_equal(pt_unmap(&pt, (1ull << 39) - 2 * MiB, empty), 2); /* a block's tables */
	fake_ram_free(&ram);
}

static void test_unmap_arm_like(void **state) { unmap_format(&arm_like); }
static void test_unmap_riscv_like(void **state) { unmap_format(&riscv_like); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arm_like),
		cmocka_unit_test(test_riscv_like),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_unmap_arm_like),
		cmocka_unit_test(test_unmap_riscv_like),
	};
	return RUN_TESTS("pt", tests);
}
