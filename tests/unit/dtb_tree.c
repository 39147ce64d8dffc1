/* Hand-built device trees for the DTB tests (libfdt sequential write). */
#include <libfdt.h>
#include <string.h>

#include "dtb_tree.h"
#include "host.h"
#include "hyp/dtb.h"

void tree_prop_reg(char *fdt, const struct rng *r, unsigned n)
{
	fdt64_t cells[2 * BOOT_MAX_MEM];
	for (unsigned i = 0; i < n; i++) {
		cells[2 * i] = cpu_to_fdt64(r[i].base);
		cells[2 * i + 1] = cpu_to_fdt64(r[i].size);
	}
	assert_int_equal(fdt_property(fdt, "reg", cells, n * 16), 0);
}

void tree_memory_node(char *fdt, const char *name, const struct rng *r, unsigned n)
{
	fdt_begin_node(fdt, "secure-memory@0"); /* QEMU virt,secure=on has one */
	fdt_property_string(fdt, "device_type", "memory");
	fdt_property_string(fdt, "status", "disabled");
	struct rng secure = { 0x0e000000, 0x1000000 };
	tree_prop_reg(fdt, &secure, 1);
	fdt_end_node(fdt);
	fdt_begin_node(fdt, name);
	fdt_property_string(fdt, "device_type", "memory");
	tree_prop_reg(fdt, r, n);
	fdt_end_node(fdt);
}


void tree_begin_root(char *fdt, size_t size, struct rng memreserve)
{
	assert_int_equal(fdt_create(fdt, (int)size), 0);
	if (memreserve.size)
		fdt_add_reservemap_entry(fdt, memreserve.base, memreserve.size);
	fdt_finish_reservemap(fdt);
	fdt_begin_node(fdt, "");
	fdt_property_u32(fdt, "#address-cells", 2);
	fdt_property_u32(fdt, "#size-cells", 2);
}

void tree_build(char *fdt, size_t size, const struct tree *t)
{
	tree_begin_root(fdt, size, t->memreserve);
	if (t->split_memory_nodes) {
		char name[32];
		for (unsigned i = 0; i < t->nmem; i++) {
			snprintf(name, sizeof(name), "memory@%llx",
				 (unsigned long long)t->mem[i].base);
			tree_memory_node(fdt, name, &t->mem[i], 1);
		}
	} else if (t->nmem) {
		tree_memory_node(fdt, "memory@0", t->mem, t->nmem);
	}
	if (t->nresv_node) {
		fdt_begin_node(fdt, "reserved-memory");
		fdt_property_u32(fdt, "#address-cells", 2);
		fdt_property_u32(fdt, "#size-cells", 2);
		fdt_property(fdt, "ranges", NULL, 0);
		for (unsigned i = 0; i < t->nresv_node; i++) {
			fdt_begin_node(fdt, i ? "secure@1" : "firmware@0");
			tree_prop_reg(fdt, &t->resv_node[i], 1);
			fdt_property(fdt, "no-map", NULL, 0);
			fdt_end_node(fdt);
		}
		fdt_begin_node(fdt, "dynamic"); /* size only: ignored */
		fdt_property_u64(fdt, "size", 0x100000);
		fdt_end_node(fdt);
		fdt_end_node(fdt);
	}
	fdt_begin_node(fdt, "chosen");
	if (t->bootargs)
		fdt_property_string(fdt, "bootargs", t->bootargs);
	if (t->initrd.size) {
		fdt_property_u64(fdt, "linux,initrd-start", t->initrd.base);
		fdt_property_u32(fdt, "linux,initrd-end", (uint32_t)(t->initrd.base + t->initrd.size));
	}
	fdt_end_node(fdt);
	fdt_begin_node(fdt, "psci");
	fdt_property_string(fdt, "compatible", "arm,psci-1.0");
	fdt_property_string(fdt, "method", t->psci_method ? t->psci_method : "hvc");
	fdt_end_node(fdt);
	fdt_begin_node(fdt, "cpus");
	fdt_property_u32(fdt, "#address-cells", 1);
	fdt_property_u32(fdt, "#size-cells", 0);
	for (unsigned i = 0; i < 2; i++) {
		fdt_begin_node(fdt, i ? "cpu@1" : "cpu@0");
		fdt_property_string(fdt, "device_type", "cpu");
		fdt_property_u32(fdt, "reg", i);
		fdt_end_node(fdt);
	}
	fdt_end_node(fdt);
	fdt_end_node(fdt);
	assert_int_equal(fdt_finish(fdt), 0);
}
