/* The SPSC ring of servers/lib: order, full and empty, wrap-around, the
 * empty-to-non-empty wake-up rule, and a real producer/consumer pair. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

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

/* The wake-up rule across threads: a consumer that sleeps (here on a
 * semaphore) only when ring_idle says so, and a producer that posts only
 * when ring_push says the consumer had taken everything, never leave the
 * consumer asleep beside a full ring.  A lost wake-up shows as a wait of
 * two seconds; a small ring makes the race frequent. */
#define WAKE_ITEMS 300000
static sem_t wake_sem;
static uint64_t wake_posts;

static void *waking_producer(void *arg)
{
	struct ring *r = arg;
	bool wake;
	for (uint64_t i = 1; i <= WAKE_ITEMS; i++) {
		while (!ring_push(r, i, &wake))
			;
		if (wake)
			wake_posts++, sem_post(&wake_sem);
	}
	return NULL;
}

static void test_no_lost_wakeup(void **state)
{
	static uint64_t small[16 + 1 + 4];
	struct ring *r = ring_init(small, 2);
	pthread_t p;
	uint64_t v, expect = 1, sleeps = 0;
	assert_int_equal(sem_init(&wake_sem, 0, 0), 0);
	pthread_create(&p, NULL, waking_producer, r);
	while (expect <= WAKE_ITEMS) {
		if (ring_pop(r, &v)) {
			assert_int_equal(v, expect++);
		} else if (ring_idle(r)) {
			struct timespec t;
			clock_gettime(CLOCK_REALTIME, &t);
			t.tv_sec += 2;
			int rc;
			while ((rc = sem_timedwait(&wake_sem, &t)) && errno == EINTR)
				;
			if (rc)
				fail_msg("consumer asleep beside %lu words: a lost wake-up",
					 (unsigned long)ring_count(r));
			sleeps++;
		}
	}
	pthread_join(p, NULL);
	assert_true(sleeps <= wake_posts);
	sem_destroy(&wake_sem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_full_empty),
		cmocka_unit_test(test_wraps_many_times),
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test(test_no_lost_wakeup),
	};
	return RUN_TESTS("ring", tests);
}
