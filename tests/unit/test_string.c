/* hyp/string.c's memcpy, memset and memmove (the kernel's and every
 * server's): every alignment of source and destination and every length
 * up to twenty words (memcpy's in-step loop twice and a tail), against a
 * byte at a time, with guard bytes either side that must stay untouched.
 * The file is compiled here under other names, beside the host's own C
 * library. */
#include <string.h>

#include "host.h"

#define memset k_memset
#define memcpy k_memcpy
#define memmove k_memmove
#define memcmp k_memcmp
#define memchr k_memchr
#define strlen k_strlen
#define strnlen k_strnlen
#define strcmp k_strcmp
#define strncmp k_strncmp
#define strchr k_strchr
#define strrchr k_strrchr
#define strtoul k_strtoul
#include "hyp/string.c"
#undef memset
#undef memcpy
#undef memmove

enum { SPAN = 160, BUF = 192 };
static unsigned char src[BUF], dst[BUF], want[BUF];

static void fill(void)
{
	for (unsigned i = 0; i < BUF; i++)
		src[i] = (unsigned char)(i * 7 + 1), dst[i] = want[i] = 0xee;
}

static void test_memcpy_every_alignment(void **state)
{
	for (unsigned so = 0; so < 16; so++)
		for (unsigned d0 = 0; d0 < 16; d0++)
			for (unsigned n = 0; n <= SPAN; n++) {
				fill();
				for (unsigned i = 0; i < n; i++)
					want[d0 + i] = src[so + i];
				assert_ptr_equal(k_memcpy(dst + d0, src + so, n), dst + d0);
				assert_memory_equal(dst, want, BUF);
			}
}

static void test_memset_every_alignment(void **state)
{
	for (unsigned d0 = 0; d0 < 16; d0++)
		for (unsigned n = 0; n <= SPAN; n++) {
			fill();
			for (unsigned i = 0; i < n; i++)
				want[d0 + i] = 0x5a;
			assert_ptr_equal(k_memset(dst + d0, 0x5a, n), dst + d0);
			assert_memory_equal(dst, want, BUF);
		}
}

/* Overlapping both ways: forwards through memcpy, backwards by bytes. */
static void test_memmove_overlapping(void **state)
{
	for (unsigned a = 0; a < 16; a++)
		for (unsigned b = 0; b < 16; b++)
			for (unsigned n = 0; n <= SPAN; n += 5) {
				fill();
				memcpy(dst, src, BUF);
				memmove(want, src, BUF);
				memmove(want + b, want + a, n);
				k_memmove(dst + b, dst + a, n);
				assert_memory_equal(dst, want, BUF);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcpy_every_alignment),
		cmocka_unit_test(test_memset_every_alignment),
		cmocka_unit_test(test_memmove_overlapping),
	};
	return RUN_TESTS("string", tests);
}
