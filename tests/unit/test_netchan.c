/* The network channel's rings (servers/lib/netchan.h), which a switch and
 * a driver share and neither trusts: order, full and empty, entries out of
 * range refused, a peer's lying indices never read beyond the ring, and a
 * real producer/consumer pair. */
#include <pthread.h>

#include "host.h"
#include "servers/lib/netchan.h"

static struct netchan chan;

static void test_fifo_full_empty(void **state)
{
	volatile struct netring *r = &chan.tx;
	uint64_t v;
	r->head = r->tail = 0;
	assert_false(netring_pop(r, &v));
	for (uint64_t i = 0; i < NETCHAN_BUFS; i++)
		assert_true(netring_push(r, i | 100 << 16));
	assert_false(netring_push(r, 99)); /* full */
	for (uint64_t i = 0; i < NETCHAN_BUFS; i++) {
		unsigned buf, len;
		assert_true(netring_pop(r, &v));
		assert_true(netring_entry(v, &buf, &len));
		assert_int_equal(buf, i);
		assert_int_equal(len, 100);
	}
	assert_false(netring_pop(r, &v));
}

static void test_entries_checked(void **state)
{
	unsigned buf, len;
	assert_false(netring_entry(NETCHAN_BUFS, &buf, &len));
	assert_false(netring_entry(0xffff, &buf, &len));
	assert_false(netring_entry((uint64_t)(NETCHAN_BUF_BYTES + 1) << 16, &buf, &len));
	assert_false(netring_entry(~0ull, &buf, &len));
	assert_true(netring_entry((NETCHAN_BUFS - 1) | (uint64_t)NETCHAN_BUF_BYTES << 16, &buf, &len));
}

/* A producer that claims more than the ring holds, or an index that went
 * backwards: the consumer sees an empty ring, and reads only inside it. */
static void test_lying_indices(void **state)
{
	volatile struct netring *r = &chan.rx;
	uint64_t v;
	r->tail = 5;
	r->head = 5 + NETCHAN_BUFS + 1;
	assert_false(netring_pop(r, &v));
	r->head = 4; /* behind the tail: a huge difference */
	assert_false(netring_pop(r, &v));
	r->head = ~0ull, r->tail = ~0ull - 3; /* near the wrap: still fine */
	assert_true(netring_pop(r, &v));
	/* a consumer that lies about its tail cannot make the producer write
	 * outside the ring: it only sees the ring full */
	r->head = 10, r->tail = 100;
	assert_false(netring_push(r, 1));
}

static void *producer(void *arg)
{
	volatile struct netring *r = arg;
	for (uint64_t i = 0; i < 1000000;)
		if (netring_push(r, i % NETCHAN_BUFS | (i % 1500) << 16))
			i++;
	return NULL;
}

static void test_two_threads(void **state)
{
	volatile struct netring *r = &chan.txdone;
	r->head = r->tail = 0;
	pthread_t p;
	pthread_create(&p, NULL, producer, (void *)r);
	for (uint64_t i = 0; i < 1000000;) {
		uint64_t v;
		unsigned buf, len;
		if (!netring_pop(r, &v))
			continue;
		assert_true(netring_entry(v, &buf, &len));
		assert_int_equal(buf, i % NETCHAN_BUFS);
		assert_int_equal(len, i % 1500);
		i++;
	}
	pthread_join(p, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_full_empty),
		cmocka_unit_test(test_entries_checked),
		cmocka_unit_test(test_lying_indices),
		cmocka_unit_test(test_two_threads),
	};
	return RUN_TESTS("netchan", tests);
}
