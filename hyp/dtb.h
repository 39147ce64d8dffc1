/* What the kernel learns from the flattened device tree. */
#pragma once
#include "hyp/types.h"

#define BOOT_MAX_MEM 16
#define BOOT_MAX_RESV 32
#define MAX_CPUS 16
#define MAX_NODES 8 /* NUMA nodes (ids 0-7) */
/* The arm64 and RISC-V boot protocols cap a DTB at 2 MiB.  libfdt bounds
 * every read by the header's totalsize, so this cap is what keeps a corrupt
 * header from sending it past the blob. */
#define DTB_MAX_SIZE (2 * MiB)

enum psci_conduit { PSCI_NONE, PSCI_SMC, PSCI_HVC };

struct resv_range {
	struct mem_range r;
	const char *name;
};

/* What the kernel knows about the machine at boot, whichever firmware
 * described it: filled from the DTB by dtb_parse, or by the architecture
 * from UEFI or multiboot2 tables. */
struct boot_info {
	const char *source;              /* "DTB", "UEFI", "multiboot2" */
	const void *fdt;                 /* NULL without a DTB */
	paddr_t acpi_rsdp;               /* 0 without ACPI */
	struct mem_range mem[BOOT_MAX_MEM];
	unsigned nmem;
	uint8_t mem_node[BOOT_MAX_MEM];  /* NUMA node of mem[i] (0 without NUMA) */
	struct resv_range resv[BOOT_MAX_RESV];
	unsigned nresv;
	const char *bootargs;            /* "" when absent */
	struct mem_range initrd;         /* size 0 when absent */
	uint64_t cpu_hwid[MAX_CPUS];     /* MPIDR / hart id / APIC id */
	unsigned ncpus;
	uint8_t cpu_node[MAX_CPUS];      /* NUMA node of cpu_hwid[i] */
	unsigned nnodes;                 /* 1 + the highest node id; 0 or 1: no NUMA */
	uint8_t distance[MAX_NODES][MAX_NODES]; /* from node i to j, 10 local; 0 unknown */
	enum psci_conduit psci;          /* Arm only */
	const char *why;                 /* what was wrong, on error */
};

/* Parse memory, reservations, /chosen, cpus and psci; memory and cpu nodes'
 * numa-node-id (ids of MAX_NODES and up are refused) and /distance-map.  Rejects a bad header
 * or one claiming more than DTB_MAX_SIZE, no memory, overlapping or wrapping
 * memory ranges (bi->why says which).  Reads at most DTB_MAX_SIZE bytes. */
err_t dtb_parse(const void *fdt, struct boot_info *bi);
/* reg entry `idx` of `node`, using the parent's #address-cells/#size-cells.
 * Addresses are taken as physical: parent `ranges` translation is not done
 * (every node the kernel reads on QEMU virt sits under a 1:1 bus). */
err_t dtb_reg(const void *fdt, int node, int idx, struct mem_range *out);
/* A PCI host bridge's window `idx` ("ranges": 3 address cells for the
 * bus, the parent's for the CPU, the node's size cells): where the CPU sees
 * it, and its space (1 I/O, 2 32-bit memory, 3 64-bit memory). */
#define PCI_SPACE_IO 1
#define PCI_SPACE_MEM32 2
#define PCI_SPACE_MEM64 3
err_t dtb_pci_window(const void *fdt, int node, int idx, struct mem_range *out,
		     unsigned *space);
/* A node without "status", or with "okay"/"ok", is in use. */
bool dtb_node_enabled(const void *fdt, int node);
/* Record a reserved range (kernel image, DTB, metadata, ...). */
err_t boot_reserve(struct boot_info *bi, struct mem_range r, const char *name);
/* True if bootargs contain the word `word` ("cairn.test=fault"). */
bool boot_arg(const struct boot_info *bi, const char *word);
