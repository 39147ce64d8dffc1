/* The AArch64 UEFI loader's reservations (arch/aarch64/efi/ranges.c): the
 * UEFI map's kept ranges, sorted, joined, and cut down to what the kernel
 * takes without ever leaving a byte of them unreserved. */
#include "host.h"
#include "arch/aarch64/efi/ranges.h"

static void test_sorted_and_joined(void **state)
{
	struct range r[8];
	size_t n = 0;
	range_insert(r, &n, 5 * MiB, 6 * MiB);
	range_insert(r, &n, 1 * MiB, 2 * MiB);
	range_insert(r, &n, 2 * MiB, 3 * MiB);         /* touches the one before */
	range_insert(r, &n, 5 * MiB + 4096, 7 * MiB);  /* overlaps */
	range_insert(r, &n, 9 * MiB, 10 * MiB);
	range_merge(r, &n, 16);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].base, 1 * MiB);
	assert_int_equal(r[0].end, 3 * MiB);
	assert_int_equal(r[1].base, 5 * MiB);
	assert_int_equal(r[1].end, 7 * MiB);
	assert_int_equal(r[2].base, 9 * MiB);
	assert_int_equal(r[2].end, 10 * MiB);
}

/* Over the budget, the smallest gap goes first: here the 4 KiB one. */
static void test_closest_merged_first(void **state)
{
	struct range r[8];
	size_t n = 0;
	range_insert(r, &n, 0, 4096);
	range_insert(r, &n, 1 * MiB, 1 * MiB + 4096);
	range_insert(r, &n, 1 * MiB + 8192, 1 * MiB + 12288);
	range_insert(r, &n, 8 * MiB, 9 * MiB);
	range_merge(r, &n, 3);
	assert_int_equal(n, 3);
	assert_int_equal(r[1].base, 1 * MiB);
	assert_int_equal(r[1].end, 1 * MiB + 12288);
	range_merge(r, &n, 1);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].base, 0);
	assert_int_equal(r[0].end, 9 * MiB);
}

/* A long, shuffled map: every input byte stays covered, the result is
 * sorted, disjoint and within the budget. */
static void test_random_maps_stay_covered(void **state)
{
	enum { N = 200, MAX = 16 };
	struct range in[N], r[N + 1];
	srand(15);
	for (int round = 0; round < 200; round++) {
		size_t n = 0, count = 1 + (size_t)rand() % N;
		for (size_t i = 0; i < count; i++) {
			uint64_t base = (uint64_t)(rand() % 4096) * 4096;
			in[i] = (struct range){ base, base + (uint64_t)(1 + rand() % 64) * 4096 };
			range_insert(r, &n, in[i].base, in[i].end);
		}
		range_merge(r, &n, MAX);
		assert_true(n >= 1 && n <= MAX);
		for (size_t i = 1; i < n; i++)
			assert_true(r[i - 1].end < r[i].base);
		for (size_t i = 0; i < count; i++) {
			size_t k = 0;
			while (k < n && r[k].end <= in[i].base)
				k++;
			assert_true(k < n && r[k].base <= in[i].base && in[i].end <= r[k].end);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_and_joined),
		cmocka_unit_test(test_closest_merged_first),
		cmocka_unit_test(test_random_maps_stay_covered),
	};
	return RUN_TESTS("efi_ranges", tests);
}
