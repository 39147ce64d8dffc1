/* The SPSC ring of servers/lib: order, full and empty, wrap-around, the
 * empty-to-non-empty wake-up rule, and a real producer/consumer pair. */
#include <pthread.h>

#include "host.h"
#include "servers/lib/ring.h"

static uint64_t mem[8 + 8 + 1 + 16];

static void test_fifo_full_empty(void **state)
{
	struct ring *r = ring_init(mem, 4);
	uint64_t v;
	bool wake;
	assert_false(ring_pop(r, &v));
	for (uint64_t i = 0; i < 16; i++) {
		assert_true(ring_push(r, i, &wake));
		assert_int_equal(wake, i == 0);  /* only the first needs a wake-up */
	}
	assert_false(ring_push(r, 99, &wake)); /* full */
	assert_int_equal(ring_count(r), 16);
	for (uint64_t i = 0; i < 16; i++) {
		assert_true(ring_pop(r, &v));
		assert_int_equal(v, i);
	}
	assert_false(ring_pop(r, &v));
}

static void test_wraps_many_times(void **state)
{
	struct ring *r = ring_init(mem, 4);
	uint64_t v, next = 0;
	bool wake;
	for (uint64_t i = 0; i < 100000; i++) {
		assert_true(ring_push(r, i, &wake));
		if (i % 3 == 2)
			while (ring_pop(r, &v))
				assert_int_equal(v, next++);
	}
	while (ring_pop(r, &v))
		assert_int_equal(v, next++);
	assert_int_equal(next, 100000);
}

static void *producer(void *arg)
{
	struct ring *r = arg;
	bool wake;
	for (uint64_t i = 1; i <= 1000000; i++)
		while (!ring_push(r, i, &wake))
			;
	return NULL;
}

static void test_two_threads(void **state)
{
	static uint64_t big[16 + 1 + 1024];
	struct ring *r = ring_init(big, 10);
	pthread_t p;
	pthread_create(&p, NULL, producer, r);
	uint64_t v, expect = 1;
	while (expect <= 1000000)
		if (ring_pop(r, &v))
			assert_int_equal(v, expect++);
	pthread_join(p, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_full_empty),
		cmocka_unit_test(test_wraps_many_times),
		cmocka_unit_test(test_two_threads),
	};
	return RUN_TESTS("ring", tests);
}
