/* The DTB is input: mutated trees must give an error or a consistent boot
 * info, never a crash (ASan and UBSan watch every access).  Deterministic:
 * a fixed seed, so a failure reproduces. */
#include <libfdt.h>
#include <string.h>

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
	assert_int_equal(fdt_create(buf, size), 0);
	fdt_add_reservemap_entry(buf, 0x40000000, 0x1000);
	fdt_finish_reservemap(buf);
	fdt_begin_node(buf, "");
	fdt_property_u32(buf, "#address-cells", 2);
	fdt_property_u32(buf, "#size-cells", 2);
	fdt_begin_node(buf, "memory@40000000");
	fdt_property_string(buf, "device_type", "memory");
	fdt64_t reg[4] = { cpu_to_fdt64(0x40000000), cpu_to_fdt64(0x20000000),
			   cpu_to_fdt64(0x80000000), cpu_to_fdt64(0x1000000) };
	fdt_property(buf, "reg", reg, sizeof(reg));
	fdt_end_node(buf);
	fdt_begin_node(buf, "reserved-memory");
	fdt_property_u32(buf, "#address-cells", 2);
	fdt_property_u32(buf, "#size-cells", 2);
	fdt_begin_node(buf, "fw@48000000");
	fdt_property(buf, "reg", reg, 16);
	fdt_end_node(buf);
	fdt_end_node(buf);
	fdt_begin_node(buf, "chosen");
	fdt_property_string(buf, "bootargs", "cairn.test=mm console=ttyAMA0");
	fdt_property_u64(buf, "linux,initrd-start", 0x48000000);
	fdt_property_u64(buf, "linux,initrd-end", 0x48100000);
	fdt_end_node(buf);
	fdt_begin_node(buf, "psci");
	fdt_property_string(buf, "compatible", "arm,psci-1.0");
	fdt_property_string(buf, "method", "smc");
	fdt_end_node(buf);
	fdt_begin_node(buf, "cpus");
	fdt_property_u32(buf, "#address-cells", 1);
	fdt_property_u32(buf, "#size-cells", 0);
	fdt_begin_node(buf, "cpu@0");
	fdt_property_string(buf, "device_type", "cpu");
	fdt_property_u32(buf, "reg", 0);
	fdt_end_node(buf);
	fdt_end_node(buf);
	fdt_end_node(buf);
	assert_int_equal(fdt_finish(buf), 0);
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
