/* Ticket spinlock.  Fair, so no CPU starves at the console or the big lock. */
#pragma once
#include <stdint.h>

typedef struct {
	uint32_t next, owner; /* 32-bit: every ISA has word atomics */
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

/* Always inline: the big lock is on every kernel entry. */
static inline __attribute__((always_inline)) void spin_lock(spinlock_t *l)
{
	uint32_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		;
}

static inline __attribute__((always_inline)) void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}
