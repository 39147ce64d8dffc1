#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rng { uint64_t base, size; };

/* A tree like QEMU virt's: 2 CPUs, psci, memory ranges, a disabled
 * secure-memory node, optional extras. */
struct tree {
	struct rng mem[4];
	unsigned nmem;
	bool split_memory_nodes;  /* one node per range instead of one node */
	struct rng resv_node[2];  /* /reserved-memory children */
	unsigned nresv_node;
	struct rng memreserve;
	const char *bootargs;
	struct rng initrd;
	const char *psci_method;  /* "hvc" when NULL */
};

void tree_build(char *fdt, size_t size, const struct tree *t);
/* The pieces, for trees tree_build cannot describe: the root node with
 * 2/2 cells open, a "reg" of 64-bit pairs, and a memory node. */
void tree_begin_root(char *fdt, size_t size, struct rng memreserve);
void tree_prop_reg(char *fdt, const struct rng *r, unsigned n);
void tree_memory_node(char *fdt, const char *name, const struct rng *r, unsigned n);
