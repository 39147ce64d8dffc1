/* CSpace lookup and the capability operations on the derivation tree:
 * install (copy/mint/retype), move, delete, revoke of deep and wide trees. */
#include <string.h>

#include "host.h"
#include "cap/cap.h"

/* The object layer, faked: references are counted, nothing is freed. */
static unsigned puts_to_zero;
void obj_put(struct obj *o)
{
	assert_true(o->refs > 0);
	if (--o->refs == 0)
		puts_to_zero++;
}
void aspace_unmap_frame(struct cap *c) { c->map_as = NULL; }

static struct obj thing = { .type = OBJ_ENDPOINT };

static struct cnode *cnode_new(unsigned bits)
{
	struct cnode *cn = calloc(1, sizeof(struct cap) << bits);
	cn->o.type = OBJ_CNODE;
	cn->bits = bits;
	return cn;
}

static struct cap cnode_cap(struct cnode *cn, unsigned guard_bits, uint64_t guard)
{
	return (struct cap){ .obj = &cn->o, .type = OBJ_CNODE, .rights = R_ALL,
			     .guard_bits = guard_bits, .guard = guard };
}

static void put_thing(struct cap *slot, struct cap *parent)
{
	struct cap v = { .obj = &thing, .type = OBJ_ENDPOINT, .rights = R_ALL };
	thing.refs++;
	cap_install(slot, &v, parent);
}

static void test_lookup_one_level(void **state)
{
	struct cnode *cn = cnode_new(8);
	struct cap root = cnode_cap(cn, 56, 0), *s;
	put_thing(&cnode_slots(cn)[5], NULL);
	assert_int_equal(cspace_lookup_cap(&root, 5, &s), E_OK);
	assert_ptr_equal(s, &cnode_slots(cn)[5]);
	assert_int_equal(cspace_lookup_cap(&root, 6, &s), E_BADCAP);  /* empty */
	assert_int_equal(cspace_lookup_cap(&root, 0, &s), E_BADCAP);  /* null */
	assert_int_equal(cspace_lookup_cap(&root, 1ull << 60, &s), E_BADCAP); /* guard */
	assert_int_equal(cspace_lookup(&root, 5, 65, &s), E_BADCAP);
	struct cap notcnode = { .obj = &thing, .type = OBJ_ENDPOINT };
	assert_int_equal(cspace_lookup_cap(&notcnode, 5, &s), E_BADCAP);
	free(cn);
}

static void test_lookup_three_levels(void **state)
{
	struct cnode *a = cnode_new(4), *b = cnode_new(4), *c = cnode_new(8);
	struct cap root = cnode_cap(a, 32, 0), *s;
	/* a[3] -> b (guard 4 bits 0xa), b[7] -> c, c[200] holds the thing:
	 * address = 0 (32) | 3 (4) | a (4) | 7 (4) | 200 (8) | rest of c's guard */
	struct cap vb = cnode_cap(b, 4, 0xa), vc = cnode_cap(c, 8, 0);
	b->o.refs++, c->o.refs++;
	cap_install(&cnode_slots(a)[3], &vb, NULL);
	cap_install(&cnode_slots(b)[7], &vc, NULL);
	put_thing(&cnode_slots(c)[200], NULL);
	uint64_t addr = 3ull << 28 | 0xaull << 24 | 7ull << 20 | 0ull << 12 | 200ull << 4;
	/* c's guard is 8 bits, its radix 8, leaving 4 bits: depth 64 - 4 = 60 */
	assert_int_equal(cspace_lookup(&root, addr >> 4, 60, &s), E_OK);
	assert_ptr_equal(s, &cnode_slots(c)[200]);
	/* a wrong guard at the middle level fails */
	assert_int_equal(cspace_lookup(&root, (addr ^ (1ull << 25)) >> 4, 60, &s), E_BADCAP);
	/* a shorter depth stops at the CNode capability in a */
	assert_int_equal(cspace_lookup(&root, 3, 36, &s), E_OK);
	assert_ptr_equal(s, &cnode_slots(a)[3]);
	free(a), free(b), free(c);
}

/* The inline one-CNode lookup gives the general walk's answer for every
 * address: random ones, and ones built to hit or just miss the guard. */
static void test_lookup_shortcut_agrees(void **state)
{
	struct cnode *cn = cnode_new(6), *inner = cnode_new(4);
	for (unsigned i = 1; i < 64; i += 3)
		put_thing(&cnode_slots(cn)[i], NULL);
	cnode_slots(cn)[5] = cnode_cap(inner, 0, 0);
	for (unsigned guard_bits = 50; guard_bits <= 58; guard_bits += 4) {
		uint64_t guard = 0x2a5 & (~0ull >> (64 - guard_bits));
		struct cap root = cnode_cap(cn, guard_bits, guard);
		uint64_t x = 88172645463325252ull;
		for (unsigned n = 0; n < 200000; n++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			uint64_t idx = x & 63, cptr;
			switch (n % 3) {
			case 0: cptr = x; break;
			case 1: cptr = guard << 6 | idx; break;
			default: cptr = (guard ^ (1ull << (x >> 58) % guard_bits)) << 6 | idx;
			}
			struct cap *a = NULL, *b = NULL;
			err_t ea = cspace_lookup_cap(&root, cptr, &a);
			err_t eb = cspace_lookup(&root, cptr, 64, &b);
			if (eb == E_OK && cap_empty(b))
				eb = E_BADCAP;
			assert_int_equal(ea, eb);
			if (ea == E_OK)
				assert_ptr_equal(a, b);
		}
	}
	free(inner);
	free(cn);
}

static void test_copy_delete_move(void **state)
{
	struct cnode *cn = cnode_new(4);
	struct cap *sl = cnode_slots(cn);
	thing.refs = 0;
	put_thing(&sl[1], NULL);
	put_thing(&sl[2], &sl[1]);
	put_thing(&sl[3], &sl[2]);
	assert_ptr_equal(sl[3].parent, &sl[2]);
	cap_move(&sl[4], &sl[2]);                /* children follow the move */
	assert_true(cap_empty(&sl[2]));
	assert_ptr_equal(sl[3].parent, &sl[4]);
	assert_ptr_equal(sl[1].first_child, &sl[4]);
	cap_delete(&sl[4]);                      /* its child moves up */
	assert_ptr_equal(sl[3].parent, &sl[1]);
	assert_int_equal(thing.refs, 2);
	cap_delete(&sl[1]);
	assert_null(sl[3].parent);               /* now a root of the tree */
	cap_delete(&sl[3]);
	assert_int_equal(thing.refs, 0);
	free(cn);
}

static void test_revoke_deep_chain(void **state)
{
	enum { N = 10000 };
	struct cap *sl = calloc(N, sizeof(struct cap));
	thing.refs = 0;
	put_thing(&sl[0], NULL);
	for (unsigned i = 1; i < N; i++)
		put_thing(&sl[i], &sl[i - 1]);
	cap_revoke(&sl[0]);                      /* iterative: no deep recursion */
	for (unsigned i = 1; i < N; i++)
		assert_true(cap_empty(&sl[i]));
	assert_false(cap_empty(&sl[0]));
	assert_null(sl[0].first_child);
	assert_int_equal(thing.refs, 1);
	free(sl);
}

static void test_revoke_wide_and_bushy(void **state)
{
	enum { N = 4000 };
	struct cap *sl = calloc(N + 1, sizeof(struct cap)), other = { 0 };
	thing.refs = 0;
	put_thing(&other, NULL);                 /* not derived: survives */
	put_thing(&sl[0], NULL);
	for (unsigned i = 1; i <= N; i++)        /* a tree: parent of i is i/2 */
		put_thing(&sl[i], &sl[i / 2]);
	cap_revoke(&sl[2]);                      /* half the tree */
	for (unsigned i = 1; i <= N; i++) {
		unsigned k = i;
		while (k > 2)
			k /= 2;
		assert_int_equal(cap_empty(&sl[i]), k == 2 && i != 2);
	}
	cap_revoke(&sl[0]);
	for (unsigned i = 1; i <= N; i++)
		assert_true(cap_empty(&sl[i]));
	assert_false(cap_empty(&other));
	assert_int_equal(thing.refs, 2);
	free(sl);
}

static void test_delete_unmaps_frame(void **state)
{
	struct cap f = { 0 };
	struct obj fo = { .type = OBJ_FRAME };
	struct cap v = { .obj = &fo, .type = OBJ_FRAME, .rights = R_ALL };
	fo.refs = 1;
	cap_install(&f, &v, NULL);
	f.map_as = (struct aspace *)&f; /* any non-NULL: "mapped" */
	cap_delete(&f);
	assert_true(cap_empty(&f));
	assert_int_equal(fo.refs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_one_level),
		cmocka_unit_test(test_lookup_three_levels),
		cmocka_unit_test(test_lookup_shortcut_agrees),
		cmocka_unit_test(test_copy_delete_move),
		cmocka_unit_test(test_revoke_deep_chain),
		cmocka_unit_test(test_revoke_wide_and_bushy),
		cmocka_unit_test(test_delete_unmaps_frame),
	};
	return RUN_TESTS("cap", tests);
}
