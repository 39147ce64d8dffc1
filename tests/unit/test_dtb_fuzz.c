/* The DTB is input: mutated trees must give an error or a consistent boot
 * info, never a crash (ASan and UBSan watch every access).  Deterministic:
 * a fixed seed, so a failure reproduces. */
#include <libfdt.h>
#include <string.h>

#include "dtb_tree.h"
#include "host.h"
#include "hyp/dtb.h"
#include "mm/memmap.h"

#define ITERATIONS 20000

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) /* xorshift64 */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void build_tree(char *buf, size_t size)
{
	const struct tree t = {
		.mem = { { 0x40000000, 0x20000000 }, { 0x80000000, 0x1000000 } },
		.nmem = 2,
		.resv_node = { { 0x48000000, 0x100000 } }, .nresv_node = 1,
		.memreserve = { 0x40000000, 0x1000 },
		.bootargs = "cairn.test=mm console=ttyAMA0",
		.initrd = { 0x48000000, 0x100000 },
		.psci_method = "smc",
	};
	tree_build(buf, size, &t);
}

/* What a successful parse promises the rest of the kernel. */
static void check_consistent(const struct boot_info *bi)
{
	assert_true(bi->nmem >= 1 && bi->nmem <= BOOT_MAX_MEM);
	assert_true(bi->ncpus >= 1 && bi->ncpus <= MAX_CPUS);
	assert_true(bi->nresv <= BOOT_MAX_RESV);
	for (unsigned i = 0; i < bi->nmem; i++) {
		assert_true(range_end(bi->mem[i]) >= bi->mem[i].base.pa);
		for (unsigned j = 0; j < i; j++)
			assert_true(range_end(bi->mem[i]) <= bi->mem[j].base.pa ||
				    range_end(bi->mem[j]) <= bi->mem[i].base.pa);
	}
	assert_non_null(bi->bootargs);
	(void)strlen(bi->bootargs); /* terminated inside the blob */
	struct mem_range use[MEMMAP_MAX];
	unsigned n;
	if (memmap_usable(bi, use, MEMMAP_MAX, &n) == E_OK)
		for (unsigned i = 0; i < n; i++)
			assert_true(use[i].size > 0 && IS_ALIGNED(use[i].base.pa, PAGE_SIZE));
}

static void test_mutated_trees(void **state)
{
	/* The blob sits at the start of DTB_MAX_SIZE bytes of readable memory,
	 * as it does in RAM; ASan catches any read beyond that. */
	static char pristine[4096];
	char *blob = malloc(DTB_MAX_SIZE);
	assert_non_null(blob);
	memset(blob, 0, DTB_MAX_SIZE);
	build_tree(pristine, sizeof(pristine));
	size_t size = fdt_totalsize(pristine);
	unsigned ok = 0;
	for (unsigned it = 0; it < ITERATIONS; it++) {
		memcpy(blob, pristine, sizeof(pristine));
		unsigned flips = 1 + rnd() % 8;
		for (unsigned f = 0; f < flips; f++) {
			size_t at = rnd() % size;
			blob[at] = (rnd() & 1) ? (char)rnd() : (char)(blob[at] ^ (1 << (rnd() % 8)));
		}
		struct boot_info bi;
		if (dtb_parse(blob, &bi) == E_OK) {
			check_consistent(&bi);
			ok++;
		} else {
			assert_non_null(bi.why);
		}
	}
	/* Most single-bit flips land in values, not structure: both outcomes
	 * must be common, or the mutator is not exercising anything. */
	free(blob);
	print_message("dtb fuzz: %u of %u mutated trees parsed\n", ok, ITERATIONS);
	assert_true(ok > ITERATIONS / 20 && ok < ITERATIONS - ITERATIONS / 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutated_trees),
	};
	return RUN_TESTS("dtb-fuzz", tests);
}
