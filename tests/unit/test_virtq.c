/* Split virtqueues (servers/lib/virtq.c) against drivers that lie: sizes,
 * alignments and rings outside RAM, descriptor loops, addresses and lengths
 * that overflow, indices that run ahead, and 100,000 random rings whose
 * every accepted buffer must lie inside guest RAM. */
#include <string.h>

#include "host.h"
#include "servers/lib/virtq.h"

#define RAM_IPA 0x40000000ull
#define RAM_SIZE 0x10000ull
#define QSIZE 8
#define DESC (RAM_IPA + 0x1000)
#define AVAIL (RAM_IPA + 0x2000)
#define USED (RAM_IPA + 0x3000)

static _Alignas(4096) uint8_t ram[RAM_SIZE];
static const struct gmem gm = { .ipa = RAM_IPA, .size = RAM_SIZE, .va = ram };

static struct vq_desc *desc(void) { return (struct vq_desc *)(ram + (DESC - RAM_IPA)); }
static struct vq_avail *avail(void) { return (struct vq_avail *)(ram + (AVAIL - RAM_IPA)); }
static struct vq_used *used(void) { return (struct vq_used *)(ram + (USED - RAM_IPA)); }

static void fresh(struct virtq *q)
{
	memset(ram, 0, sizeof(ram));
	assert_true(virtq_init(q, &gm, QSIZE, DESC, AVAIL, USED));
}

static void offer(uint16_t head)
{
	avail()->ring[avail()->idx % QSIZE] = head;
	avail()->idx++;
}

static void test_init_checks(void **state)
{
	struct virtq q;
	assert_false(virtq_init(&q, &gm, 0, DESC, AVAIL, USED));
	assert_false(virtq_init(&q, &gm, 6, DESC, AVAIL, USED));       /* not a power of two */
	assert_false(virtq_init(&q, &gm, 65536, DESC, AVAIL, USED));
	assert_false(virtq_init(&q, &gm, 1ull << 32 | 8, DESC, AVAIL, USED)); /* checked whole */
	assert_false(virtq_init(&q, &gm, QSIZE, DESC + 8, AVAIL, USED)); /* alignment */
	assert_false(virtq_init(&q, &gm, QSIZE, DESC, AVAIL + 1, USED));
	assert_false(virtq_init(&q, &gm, QSIZE, DESC, AVAIL, USED + 2));
	assert_false(virtq_init(&q, &gm, QSIZE, RAM_IPA - 16, AVAIL, USED)); /* below RAM */
	assert_false(virtq_init(&q, &gm, QSIZE, RAM_IPA + RAM_SIZE - 64, AVAIL, USED)); /* straddles */
	assert_false(virtq_init(&q, &gm, QSIZE, DESC, AVAIL, ~0ull - 3)); /* wraps */
	assert_false(virtq_init(&q, &gm, 4096, DESC, AVAIL, USED + 0x8000)); /* too big for RAM */
	assert_int_equal(q.size, 0);
	assert_true(virtq_init(&q, &gm, QSIZE, DESC, AVAIL, USED));
}

static void test_chain_and_push(void **state)
{
	struct virtq q;
	struct vq_buf b[4];
	fresh(&q);
	desc()[3] = (struct vq_desc){ RAM_IPA + 0x4000, 16, VQ_DESC_F_NEXT, 5 };
	desc()[5] = (struct vq_desc){ RAM_IPA + 0x5000, 512, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 1 };
	desc()[1] = (struct vq_desc){ RAM_IPA + 0x6000, 1, VQ_DESC_F_WRITE, 0 };
	assert_int_equal(virtq_next(&q), VQ_EMPTY);
	offer(3);
	assert_int_equal(virtq_next(&q), 3);
	assert_int_equal(virtq_next(&q), VQ_EMPTY);
	assert_int_equal(virtq_chain(&q, &gm, 3, b, 4), 3);
	assert_ptr_equal(b[0].va, ram + 0x4000);
	assert_int_equal(b[0].len, 16);
	assert_false(b[0].write);
	assert_ptr_equal(b[1].va, ram + 0x5000);
	assert_true(b[1].write && b[2].write);
	assert_int_equal(virtq_chain(&q, &gm, 3, b, 2), VQ_BROKEN); /* longer than the caller takes */
	virtq_push(&q, 3, 513);
	assert_int_equal(used()->idx, 1);
	assert_int_equal(used()->ring[0].id, 3);
	assert_int_equal(used()->ring[0].len, 513);
}

static void test_broken_chains(void **state)
{
	struct virtq q;
	struct vq_buf b[QSIZE + 1];
	fresh(&q);
	desc()[0] = (struct vq_desc){ RAM_IPA, 8, VQ_DESC_F_NEXT, 1 };
	desc()[1] = (struct vq_desc){ RAM_IPA, 8, VQ_DESC_F_NEXT, 0 }; /* a loop */
	assert_int_equal(virtq_chain(&q, &gm, 0, b, QSIZE + 1), VQ_BROKEN);
	desc()[1] = (struct vq_desc){ RAM_IPA, 8, VQ_DESC_F_NEXT, QSIZE }; /* next off the table */
	assert_int_equal(virtq_chain(&q, &gm, 0, b, QSIZE + 1), VQ_BROKEN);
	desc()[0] = (struct vq_desc){ RAM_IPA + RAM_SIZE - 4, 8, 0, 0 }; /* runs off RAM's end */
	assert_int_equal(virtq_chain(&q, &gm, 0, b, 4), VQ_BROKEN);
	desc()[0] = (struct vq_desc){ RAM_IPA, 0xffffffffu, 0, 0 };      /* huge */
	assert_int_equal(virtq_chain(&q, &gm, 0, b, 4), VQ_BROKEN);
	desc()[0] = (struct vq_desc){ ~0ull - 2, 8, 0, 0 };               /* wraps */
	assert_int_equal(virtq_chain(&q, &gm, 0, b, 4), VQ_BROKEN);
	desc()[0] = (struct vq_desc){ 0x1000, 8, 0, 0 };                  /* below RAM */
	assert_int_equal(virtq_chain(&q, &gm, 0, b, 4), VQ_BROKEN);
	desc()[0] = (struct vq_desc){ RAM_IPA, 16, VQ_DESC_F_INDIRECT, 0 };
	assert_int_equal(virtq_chain(&q, &gm, 0, b, 4), VQ_BROKEN);
	desc()[0] = (struct vq_desc){ RAM_IPA, 8, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 1 };
	desc()[1] = (struct vq_desc){ RAM_IPA, 8, 0, 0 };                 /* read after write */
	assert_int_equal(virtq_chain(&q, &gm, 0, b, 4), VQ_BROKEN);
	desc()[0] = (struct vq_desc){ RAM_IPA + RAM_SIZE, 0, 0, 0 };      /* empty, at the end: fine */
	assert_int_equal(virtq_chain(&q, &gm, 0, b, 4), 1);
}

static void test_avail_runs_ahead(void **state)
{
	struct virtq q;
	fresh(&q);
	avail()->idx = QSIZE + 1; /* more new entries than the queue holds */
	assert_int_equal(virtq_next(&q), VQ_BROKEN);
	fresh(&q);
	offer(QSIZE); /* a head off the table */
	assert_int_equal(virtq_next(&q), VQ_BROKEN);
}

static void test_indices_wrap(void **state)
{
	struct virtq q;
	struct vq_buf b[1];
	fresh(&q);
	desc()[2] = (struct vq_desc){ RAM_IPA + 0x8000, 64, VQ_DESC_F_WRITE, 0 };
	for (unsigned i = 0; i < 70000; i++) { /* past 65535: 16-bit indices wrap */
		offer(2);
		assert_int_equal(virtq_next(&q), 2);
		assert_int_equal(virtq_chain(&q, &gm, 2, b, 1), 1);
		virtq_push(&q, 2, 64);
		assert_int_equal(used()->idx, (uint16_t)(i + 1));
	}
	assert_int_equal(virtq_next(&q), VQ_EMPTY);
}

/* Random rings: whatever is accepted lies inside guest RAM. */
static void test_random_rings(void **state)
{
	struct virtq q;
	struct vq_buf b[QSIZE];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned accepted = 0;
	for (unsigned round = 0; round < 100000; round++) {
		fresh(&q);
		for (unsigned i = 0; i < QSIZE; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			uint64_t addr = x & 1 ? RAM_IPA + (x >> 8) % (RAM_SIZE + 64) : x;
			desc()[i] = (struct vq_desc){ addr, (uint32_t)(x >> 20) % (x & 2 ? 0x400 : ~0u),
						      (uint16_t)(x >> 40) & 7, (uint16_t)(x >> 48) % 12 };
		}
		avail()->idx = (uint16_t)(x >> 24) % 12;
		for (unsigned i = 0; i < QSIZE; i++)
			avail()->ring[i] = (uint16_t)(x >> (i * 4)) % 10;
		int head;
		while ((head = virtq_next(&q)) >= 0) {
			int n = virtq_chain(&q, &gm, (uint16_t)head, b, QSIZE);
			for (int k = 0; k < n; k++) {
				assert_true(b[k].va >= ram && b[k].va + b[k].len <= ram + RAM_SIZE);
				accepted++;
			}
			virtq_push(&q, (uint16_t)head, 0);
		}
	}
	assert_true(accepted > 1000); /* the fuzzer does reach the accepting side */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_checks),
		cmocka_unit_test(test_chain_and_push),
		cmocka_unit_test(test_broken_chains),
		cmocka_unit_test(test_avail_runs_ahead),
		cmocka_unit_test(test_indices_wrap),
		cmocka_unit_test(test_random_rings),
	};
	return RUN_TESTS("virtq", tests);
}
