/* Host benchmarks of kernel code, compiled from the kernel's own sources
 * (cap/cspace.c, mm/buddy.c, mm/slab.c, mm/memory.c) with the kernel's -O2.
 * Wall-clock time over many repetitions; prints "BENCH <name> <ns> ns".
 *
 *   cap_lookup_ns        resolving a capability address through a
 *                        two-level CSpace (guard + 8 + 8 bits), as every
 *                        system call does, over 65,536 distinct addresses;
 *   frame_alloc_free_ns  what retype and delete do for a 4 KiB frame:
 *                        charge the quota, take a page from the buddy
 *                        allocator, zero it, then give both back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cap/cap.h"
#include "mm/buddy.h"
#include "mm/memory.h"

_Noreturn void panic_at(const char *file, int line, const char *fmt, ...)
{
	fprintf(stderr, "%s:%d: kernel assertion failed (%s)\n", file, line, fmt);
	abort();
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static struct cnode *cnode_new(unsigned bits)
{
	struct cnode *cn = calloc(1, sizeof(struct cap) << bits);
	cn->o.type = OBJ_CNODE;
	cn->bits = bits;
	return cn;
}

#define LOOKUPS (1u << 24)

static void bench_cap_lookup(void)
{
	static struct obj ep = { .type = OBJ_ENDPOINT };
	struct cnode *top = cnode_new(8);
	struct cap root = { .obj = &top->o, .type = OBJ_CNODE, .rights = R_ALL, .guard_bits = 48 };
	for (unsigned i = 1; i < 256; i++) {
		struct cnode *leaf = cnode_new(8);
		cnode_slots(top)[i] = (struct cap){ .obj = &leaf->o, .type = OBJ_CNODE,
						    .rights = R_ALL };
		for (unsigned j = 1; j < 256; j++)
			cnode_slots(leaf)[j] = (struct cap){ .obj = &ep, .type = OBJ_ENDPOINT,
							     .rights = R_ALL };
	}
	uint64_t sum = 0;
	double t0 = now_ns();
	for (uint32_t n = 0; n < LOOKUPS; n++) {
		/* a scrambled walk over the 255 x 255 valid addresses */
		uint32_t h = n * 2654435761u;
		cptr_t cptr = ((h >> 8) % 255 + 1) << 8 | ((h >> 20) % 255 + 1);
		struct cap *c;
		if (cspace_lookup_cap(&root, cptr, &c) != E_OK)
			abort();
		sum += c->rights;
	}
	double t1 = now_ns();
	if (sum != (uint64_t)LOOKUPS * R_ALL)
		abort();
	printf("BENCH cap_lookup_ns %.1f ns\n", (t1 - t0) / LOOKUPS);
}

#define RAM_PAGES 16384 /* 64 MiB */
#define FRAME_ROUNDS (1u << 22)

struct pmem kmem; /* mm/memory.c's slabs draw from it (unused here) */

static unsigned node_of_cpu(void) { return 0; }

/* Two NUMA nodes of half the RAM each, as the kernel's pools are built:
 * the path an untied Memory's frame takes (local node first, freed to the
 * node whose RAM holds it). */
static void two_nodes(struct pmem *p, void *ram, uint8_t *meta)
{
	paddr_t base = pa_make(BUDDY_BASE_ALIGN);
	uint64_t half = RAM_PAGES / 2 * PAGE_SIZE;
	*p = (struct pmem){ .nnodes = 2, .nspans = 2, .local = node_of_cpu,
			    .dm_offset = (uint64_t)(uintptr_t)ram - base.pa };
	for (unsigned n = 0; n < 2; n++) {
		buddy_init(&p->node[n], base, RAM_PAGES, meta + n * RAM_PAGES, p->dm_offset);
		buddy_add_range(&p->node[n], (struct mem_range){ pa_add(base, n * half), half });
		p->span[n].lo = base.pa + n * half;
		p->span[n].hi = base.pa + (n + 1) * half;
		p->span[n].node = (uint8_t)n;
		p->near[n][0] = (uint8_t)n, p->near[n][1] = (uint8_t)!n;
	}
}

static void bench_frame_alloc_free(void)
{
	void *ram = aligned_alloc(BUDDY_BASE_ALIGN, RAM_PAGES * PAGE_SIZE);
	uint8_t *meta = calloc(2, buddy_meta_size(RAM_PAGES));
	static struct pmem pm;
	two_nodes(&pm, ram, meta);
	struct memory m = { 0 }; /* the kernel's come zeroed */
	memory_init(&m, RAM_PAGES * PAGE_SIZE, PMEM_ANY_NODE);
	/* a pool that is not pristine: every other page of the first 4 MiB taken */
	paddr_t held[512];
	for (unsigned i = 0; i < 1024; i++) {
		paddr_t p;
		if (pmem_alloc(&pm, PMEM_ANY_NODE, 0, &p))
			abort();
		if (i % 2)
			pmem_free(&pm, p, 0);
		else
			held[i / 2] = p;
	}
	double t0 = now_ns();
	for (uint32_t n = 0; n < FRAME_ROUNDS; n++) {
		uint8_t order;
		uint64_t size = memory_alloc_size(PAGE_SIZE, &order);
		paddr_t p;
		if (memory_charge(&m, size) || pmem_alloc(&pm, PMEM_ANY_NODE, order, &p))
			abort();
		memset(pmem_va(&pm, p), 0, PAGE_SIZE);
		pmem_free(&pm, p, order);
		memory_refund(&m, size);
	}
	double t1 = now_ns();
	for (unsigned i = 0; i < 512; i++)
		pmem_free(&pm, held[i], 0);
	if (pmem_free_pages(&pm) != RAM_PAGES || m.used)
		abort();
	printf("BENCH frame_alloc_free_ns %.1f ns\n", (t1 - t0) / FRAME_ROUNDS);
	free(meta);
	free(ram);
}

int main(void)
{
	bench_cap_lookup();
	bench_frame_alloc_free();
	return 0;
}
