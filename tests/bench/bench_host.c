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

static void bench_frame_alloc_free(void)
{
	void *ram = aligned_alloc(BUDDY_BASE_ALIGN, RAM_PAGES * PAGE_SIZE);
	uint8_t *meta = calloc(1, buddy_meta_size(RAM_PAGES));
	struct buddy b;
	paddr_t base = pa_make(BUDDY_BASE_ALIGN);
	buddy_init(&b, base, RAM_PAGES, meta, (uint64_t)(uintptr_t)ram - base.pa);
	buddy_add_range(&b, (struct mem_range){ base, RAM_PAGES * PAGE_SIZE });
	struct memory m;
	memory_init(&m, RAM_PAGES * PAGE_SIZE, PMEM_ANY_NODE);
	/* a pool that is not pristine: every other page of the first 4 MiB taken */
	paddr_t held[512];
	for (unsigned i = 0; i < 1024; i++) {
		paddr_t p;
		if (buddy_alloc(&b, 0, &p))
			abort();
		if (i % 2)
			buddy_free(&b, p, 0);
		else
			held[i / 2] = p;
	}
	double t0 = now_ns();
	for (uint32_t n = 0; n < FRAME_ROUNDS; n++) {
		uint8_t order;
		uint64_t size = memory_alloc_size(PAGE_SIZE, &order);
		paddr_t p;
		if (memory_charge(&m, size) || buddy_alloc(&b, order, &p))
			abort();
		memset(buddy_va(&b, p), 0, PAGE_SIZE);
		buddy_free(&b, p, order);
		memory_refund(&m, size);
	}
	double t1 = now_ns();
	for (unsigned i = 0; i < 512; i++)
		buddy_free(&b, held[i], 0);
	if (b.free_pages != RAM_PAGES || m.used)
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
