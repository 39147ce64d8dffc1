/* Physical memory: one buddy pool per NUMA node.
 *
 * Each node's pool spans its own RAM (its metadata array carved from that
 * RAM, so a node's bookkeeping is local to it).  Without NUMA information
 * there is one node, 0, holding all RAM.  An allocation names a node (that
 * node only) or PMEM_ANY_NODE: the calling CPU's node first (`local`), then
 * the others, nearest first (the firmware's distances; by id without). */
#pragma once
#include "hyp/dtb.h"
#include "mm/buddy.h"

#define PMEM_ANY_NODE 0xffu

struct pmem {
	struct buddy node[MAX_NODES];
	unsigned nnodes;
	uint8_t near[MAX_NODES][MAX_NODES]; /* from node i: the nodes, nearest first */
	uint64_t dm_offset;
	struct { uint64_t lo, hi; uint8_t node; } span[BOOT_MAX_MEM]; /* RAM by node */
	unsigned nspans;
	unsigned (*local)(void);   /* the calling CPU's node; NULL: node 0 */
};

/* Set `p` up over all usable RAM in `bi`, a pool per node of bi->nnodes.
 * The metadata arrays are recorded in bi as reservations. */
err_t pmem_init(struct pmem *p, struct boot_info *bi, uint64_t dm_offset);
err_t pmem_alloc(struct pmem *p, unsigned node, unsigned order, paddr_t *out);
void pmem_free(struct pmem *p, paddr_t pa, unsigned order);
/* The node whose RAM holds pa (0 where no node's RAM does). */
unsigned pmem_node_of(const struct pmem *p, paddr_t pa);
uint64_t pmem_free_pages(const struct pmem *p);

static inline void *pmem_va(const struct pmem *p, paddr_t pa)
{
	return (void *)(uintptr_t)(pa.pa + p->dm_offset);
}
