#include <string.h>

#include "host.h"
#include "mm/buddy.h"

#define RAM_PA 0x40000000ull
#define RAM_PAGES 1024 /* 4 MiB */

static struct fake_ram ram;
static uint8_t meta[RAM_PAGES];
static struct buddy b;

static void setup(uint64_t first, uint64_t npages)
{
	fake_ram_init(&ram, RAM_PA, RAM_PAGES * PAGE_SIZE);
	buddy_init(&b, pa_make(RAM_PA), RAM_PAGES, meta, ram.dm_offset);
	buddy_add_range(&b, (struct mem_range){ pa_make(RAM_PA + first * PAGE_SIZE),
						npages * PAGE_SIZE });
}

static void teardown(void) { fake_ram_free(&ram); }

static paddr_t alloc_ok(unsigned order)
{
	paddr_t pa;
	assert_int_equal(buddy_alloc(&b, order, &pa), E_OK);
	return pa;
}

static void test_whole_range_is_one_block(void **state)
{
	setup(0, RAM_PAGES);
	assert_int_equal(b.free_pages, RAM_PAGES);
	assert_int_equal(b.nfree[10], 1); /* 1024 pages = one order-10 block */
	for (unsigned o = 0; o < BUDDY_ORDERS; o++)
		if (o != 10)
			assert_int_equal(b.nfree[o], 0);
	teardown();
}

static void test_split_and_merge(void **state)
{
	setup(0, RAM_PAGES);
	paddr_t p = alloc_ok(0);
	assert_int_equal(p.pa, RAM_PA); /* lowest half kept on each split */
	for (unsigned o = 0; o < 10; o++)
		assert_int_equal(b.nfree[o], 1); /* one buddy left per order */
	buddy_free(&b, p, 0);
	assert_int_equal(b.nfree[10], 1);
	for (unsigned o = 0; o < 10; o++)
		assert_int_equal(b.nfree[o], 0);
	teardown();
}

static void test_alignment(void **state)
{
	setup(3, RAM_PAGES - 3); /* unaligned start */
	for (unsigned o = 0; o <= 8; o++) {
		paddr_t p = alloc_ok(o);
		assert_true(IS_ALIGNED(p.pa, PAGE_SIZE << o));
		assert_true(p.pa >= RAM_PA + 3 * PAGE_SIZE);
	}
	teardown();
}

static void test_exhaustion_and_full_return(void **state)
{
	setup(1, RAM_PAGES - 1);
	uint64_t initial[BUDDY_ORDERS];
	memcpy(initial, b.nfree, sizeof(initial));
	static paddr_t pages[RAM_PAGES];
	unsigned n = 0;
	paddr_t pa;
	while (buddy_alloc(&b, 0, &pa) == E_OK) {
		for (unsigned i = 0; i < n; i++)
			assert_int_not_equal(pages[i].pa, pa.pa); /* handed out once */
		pages[n++] = pa;
	}
	assert_int_equal(n, RAM_PAGES - 1);
	assert_int_equal(b.free_pages, 0);
	assert_int_equal(buddy_alloc(&b, 0, &pa), E_NOMEM);
	for (unsigned i = 0; i < n; i++)
		buddy_free(&b, pages[i], 0);
	assert_int_equal(b.free_pages, RAM_PAGES - 1);
	assert_memory_equal(initial, b.nfree, sizeof(initial)); /* fully merged */
	teardown();
}

static void test_fragmentation(void **state)
{
	setup(0, 64);
	paddr_t pages[64];
	for (unsigned i = 0; i < 64; i++)
		pages[i] = alloc_ok(0);
	for (unsigned i = 0; i < 64; i += 2) /* free every other page */
		buddy_free(&b, pages[i], 0);
	paddr_t pa;
	assert_int_equal(b.free_pages, 32);
	assert_int_equal(buddy_alloc(&b, 1, &pa), E_NOMEM); /* no two adjacent */
	for (unsigned i = 1; i < 64; i += 2)
		buddy_free(&b, pages[i], 0);
	assert_int_equal(b.nfree[6], 1);
	assert_int_equal(alloc_ok(6).pa, RAM_PA);
	teardown();
}

static void test_too_large_order(void **state)
{
	setup(0, RAM_PAGES);
	paddr_t pa;
	assert_int_equal(buddy_alloc(&b, 11, &pa), E_NOMEM);
	assert_int_equal(buddy_alloc(&b, BUDDY_ORDERS, &pa), E_NOMEM);
	assert_int_equal(b.free_pages, RAM_PAGES);
	teardown();
}

static void test_double_free_asserts(void **state)
{
	setup(0, RAM_PAGES);
	paddr_t p = alloc_ok(3);
	alloc_ok(3); /* keep p's buddy allocated so p stays a free head */
	buddy_free(&b, p, 3);
	expect_assert_failure(buddy_free(&b, p, 3));
	teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_range_is_one_block),
		cmocka_unit_test(test_split_and_merge),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_exhaustion_and_full_return),
		cmocka_unit_test(test_fragmentation),
		cmocka_unit_test(test_too_large_order),
		cmocka_unit_test(test_double_free_asserts),
	};
	return RUN_TESTS("buddy", tests);
}
