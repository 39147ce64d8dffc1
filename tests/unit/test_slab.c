#include <string.h>

#include "host.h"
#include "mm/slab.h"

#define RAM_PA 0x80000000ull
#define RAM_PAGES 256

static struct fake_ram ram;
static uint8_t meta[RAM_PAGES];
static struct pmem pm; /* one node */
static struct buddy *const b = &pm.node[0];
static struct slab s;

static int setup(void **state)
{
	fake_ram_init(&ram, RAM_PA, RAM_PAGES * PAGE_SIZE);
	pm = (struct pmem){ .nnodes = 1, .dm_offset = ram.dm_offset };
	buddy_init(b, pa_make(RAM_PA), RAM_PAGES, meta, ram.dm_offset);
	buddy_add_range(b, (struct mem_range){ pa_make(RAM_PA), RAM_PAGES * PAGE_SIZE });
	slab_init(&s, &pm, PMEM_ANY_NODE);
	return 0;
}

static int teardown(void **state)
{
	fake_ram_free(&ram);
	return 0;
}

static void test_size_classes(void **state)
{
	assert_int_equal(slab_class_size(1), 16);
	assert_int_equal(slab_class_size(16), 16);
	assert_int_equal(slab_class_size(17), 32);
	assert_int_equal(slab_class_size(1024), 1024);
	assert_int_equal(slab_class_size(1025), 0);
	assert_null(slab_alloc(&s, 2048));
	for (size_t size = 1; size <= 1024; size = size * 2 + 1) {
		uint8_t *p = slab_alloc(&s, size);
		assert_non_null(p);
		assert_true(IS_ALIGNED((uintptr_t)p, MIN(slab_class_size(size), 64)));
		memset(p, 0x5a, size); /* ASan checks the object is really ours */
		slab_free(&s, p);
	}
}

static void test_objects_distinct_and_reused(void **state)
{
	assert_true(slab_needs_page(&s, 40));
	void *a = slab_alloc(&s, 40), *c = slab_alloc(&s, 40);
	assert_false(slab_needs_page(&s, 40));
	assert_ptr_not_equal(a, c);
	assert_true((uintptr_t)c - (uintptr_t)a >= 64 || (uintptr_t)a - (uintptr_t)c >= 64);
	slab_free(&s, a);
	assert_ptr_equal(slab_alloc(&s, 33), a); /* same class: reused first */
	assert_false(slab_free(&s, a));
	assert_true(slab_free(&s, c)); /* the last one: its page goes back */
	assert_true(slab_needs_page(&s, 40));
}

static void test_no_leak_over_many_pages(void **state)
{
	uint64_t free_before = b->free_pages;
	enum { N = 800 }; /* about 400 KiB: fits the 1 MiB of RAM */
	static void *objs[N];
	for (unsigned i = 0; i < N; i++) {
		objs[i] = slab_alloc(&s, 16u << (i % SLAB_CLASSES));
		assert_non_null(objs[i]);
	}
	assert_true(b->free_pages < free_before);
	for (unsigned i = 0; i < N; i += 2) /* free in two interleaved passes */
		slab_free(&s, objs[i]);
	for (unsigned i = 1; i < N; i += 2)
		slab_free(&s, objs[i]);
	assert_int_equal(b->free_pages, free_before);
	for (unsigned c = 0; c < SLAB_CLASSES; c++) {
		assert_int_equal(s.cls[c].objects, 0);
		assert_int_equal(s.cls[c].pages, 0);
		assert_null(s.cls[c].partial);
	}
}

static void test_exhaustion_returns_null(void **state)
{
	unsigned n = 0;
	void *p, *first = NULL;
	while ((p = slab_alloc(&s, 1024))) {
		*(void **)p = first; /* chain them to free later */
		first = p;
		n++;
	}
	assert_int_equal(n, RAM_PAGES * s.cls[SLAB_CLASSES - 1].per_page);
	assert_int_equal(b->free_pages, 0);
	while (first) {
		void *next = *(void **)first;
		slab_free(&s, first);
		first = next;
	}
	assert_int_equal(b->free_pages, RAM_PAGES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_size_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_objects_distinct_and_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_leak_over_many_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion_returns_null, setup, teardown),
	};
	return RUN_TESTS("slab", tests);
}
