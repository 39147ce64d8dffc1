/* Checks for the root task's test programmes (suite, stress, fuzz): a
 * failed check prints where and makes the enclosing test return false. */
#pragma once
#include "servers/root/root.h"

#define CHECK(c) do { if (!(c)) { \
	printf("root: FAIL %s:%d: %s\n", __func__, __LINE__, #c); return false; } } while (0)
#define CHECK_ERR(call, err) do { err_t e_ = (call); if (e_ != (err)) { \
	printf("root: FAIL %s:%d: %s gave %u, wanted %u\n", __func__, __LINE__, #call, \
	       e_, (unsigned)(err)); return false; } } while (0)

/* A test of the user-level suite registered from its own file: it runs
 * after the table in tests.c, in link order. */
struct root_test {
	const char *name;
	bool (*fn)(void);
	uint64_t needs; /* BOOT_HAS_* / UARCH_HAS_* (cairn/abi.h): skipped loudly without */
};
#define ROOT_TEST_NEEDS(name_, fn_, needs_) \
	static const struct root_test root_test_##fn_ \
		__attribute__((used, section("root_tests"), aligned(8))) = { name_, fn_, needs_ }
#define ROOT_TEST(name_, fn_) ROOT_TEST_NEEDS(name_, fn_, 0)

/* A thread's FP/SIMD registers (arch/<arch>/user/fp_regs.S): filled from
 * a seed, checked against it, all zero (a new thread's). */
void fp_fill(uint64_t seed);
bool fp_check(uint64_t seed);
bool fp_all_zero(void);

/* What the root Memory has handed out, and the kernel's own view: free
 * pages in its allocator and live objects.  A test that creates and
 * deletes must leave all three where they were. */
struct accounts {
	uint64_t mem_used, free_pages, live_objects;
};

static inline struct accounts accounts_read(void)
{
	uint64_t m[5], k[5];
	inv(SYS_MEM_INFO, ROOT_MEMORY, 0, 0, 0, 0, 0, 0, m);
	inv(SYS_DEBUG_STATS, ROOT_CONSOLE, 0, 0, 0, 0, 0, 0, k);
	return (struct accounts){ m[1], k[0], k[1] };
}

static inline bool accounts_equal(struct accounts a, struct accounts b)
{
	if (a.mem_used == b.mem_used && a.free_pages == b.free_pages &&
	    a.live_objects == b.live_objects)
		return true;
	printf("root: accounts differ: used %lu/%lu, free pages %lu/%lu, objects %lu/%lu\n",
	       a.mem_used, b.mem_used, a.free_pages, b.free_pages, a.live_objects,
	       b.live_objects);
	return false;
}
