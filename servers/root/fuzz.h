/* What the single-task fuzzer (fuzz.c) shares with the multi-CPU one
 * (fuzz_smp.c): the random caller, its slots and its page of results. */
#pragma once
#include "servers/root/check.h"

#define FUZZ_QUOTA (256 * 1024)

struct fuzz_page {
	volatile uint64_t calls;
	volatile uint64_t results[E_COUNT + 1]; /* [E_COUNT]: not an error code */
};

/* The fuzzer's slots (its CNode has 16). */
enum { F_MEMORY = 1, F_CNODE, F_ENDPOINT, F_NOTIFICATION, F_THREAD, F_ASPACE, F_FRAME,
       F_IRQ_CONTROL, F_VCPU, F_GIVEN };

/* Sources of what a fuzzer gets: root-side copies, so revoking each takes
 * back everything the fuzzer made from it, cycles included. */
struct gifts {
	cptr_t src[F_GIVEN];
};

/* Child code: random system calls for ever, counted in the page at
 * CHILD_SHARED_VA. */
void fuzzer(uint64_t seed);
/* Give the child (in `slot`) a root-side copy of `from`, kept in g. */
bool fuzz_give(struct child *c, struct gifts *g, unsigned slot, cptr_t from);
/* Revoke and delete the gifts, then the child. */
void fuzz_teardown(struct child *c, struct gifts *g, cptr_t copy);
uint64_t root_caps_digest(void);
uint64_t fuzz_seed(const char *key);
