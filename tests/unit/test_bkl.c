/* The big lock shared and held whole (hyp/bkl.h): a whole holder never
 * runs beside a CPU that shares, and a CPU whose fast paths are closed
 * does not share.  Host threads play the CPUs. */
#include <pthread.h>
#include <string.h>

#include "host.h"
#include "hyp/bkl.h"

struct sched scheds[MAX_CPUS];
unsigned ncpus_online = 2;
spinlock_t bkl;

static void reset(void)
{
	memset(scheds, 0, sizeof(scheds));
	bkl.held = 0;
}

/* The word's flags close the fast paths: a share fails, and takes no
 * part of the word (a yield may go on with the timer armed, and only so). */
static void test_closed_flags(void **state)
{
	struct sched *s = &scheds[0];
	reset();
	assert_true(bkl_share(s) && bkl_sharing(s));
	assert_false(bkl_share_yield(s)); /* it shares already */
	bkl_unshare(s);
	s->resched = true;
	assert_false(bkl_share(s) || bkl_share_yield(s));
	s->resched = false;
	s->fastpath_off = true;
	assert_false(bkl_share(s) || bkl_share_yield(s));
	s->fastpath_off = false;
	s->timer_armed = true;
	assert_false(bkl_share(s));
	assert_true(bkl_share_yield(s) && bkl_sharing(s) && s->timer_armed);
	bkl_unshare(s);
	assert_true(s->share == (uint64_t)1 << 56); /* timer_armed alone: nothing else left */
	s->timer_armed = false;
	assert_true(sched_closed(s) == false);
}

/* A whole holder gates every CPU until it unlocks. */
static void test_gate(void **state)
{
	reset();
	bkl_lock();
	assert_int_equal(scheds[0].gated, 1);
	assert_int_equal(scheds[1].gated, 1);
	assert_false(bkl_share(&scheds[0]) || bkl_share_yield(&scheds[1]));
	bkl_unlock();
	assert_int_equal(scheds[0].share | scheds[1].share, 0);
	assert_true(bkl_share(&scheds[1]));
	bkl_unshare(&scheds[1]);
}

/* Two CPUs share and unshare, a third takes the lock whole, each a
 * million times: the whole holder must never see a sharer inside, nor a
 * sharer see the whole holder inside. */
enum { ROUNDS = 1000000 };
static volatile int whole_inside, shared_inside[2];
static _Atomic unsigned long overlaps, shares;

static void *sharer(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < ROUNDS; i++) {
		if (!bkl_share(&scheds[me]))
			continue;
		shared_inside[me] = 1;
		if (whole_inside)
			overlaps++;
		shares++;
		shared_inside[me] = 0;
		bkl_unshare(&scheds[me]);
	}
	return NULL;
}

static void *whole(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < ROUNDS / 10; i++) {
		bkl_lock();
		whole_inside = 1;
		if (shared_inside[0] || shared_inside[1])
			overlaps++;
		whole_inside = 0;
		bkl_unlock();
	}
	return NULL;
}

static void test_exclusion(void **state)
{
	pthread_t a, b, w;
	reset();
	pthread_create(&a, NULL, sharer, (void *)0);
	pthread_create(&b, NULL, sharer, (void *)1);
	pthread_create(&w, NULL, whole, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_join(w, NULL);
	assert_int_equal(overlaps, 0);
	assert_true(shares > 0);
	assert_int_equal(scheds[0].share | scheds[1].share, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_flags),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_exclusion),
	};
	return RUN_TESTS("bkl", tests);
}
