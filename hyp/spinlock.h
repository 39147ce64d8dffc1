/* Spinlock: test and test-and-set.
 *
 * Not a ticket lock, on purpose.  A ticket lock hands the lock to the next
 * waiter in line, so when the host deschedules that waiter's vCPU (Cairn as
 * a guest of KVM or of QEMU's threads on a busy host) every CPU behind it
 * stalls until it runs again.  Here whichever CPU is running when the lock
 * comes free takes it; a descheduled waiter simply is not one of them.
 * Waiters spin on a plain load, so they share the line until it changes.
 * The price is fairness: a CPU can in principle lose every race, but the
 * kernel holds the lock for microseconds and every holder drops it before
 * user mode, so the others are never held off for long in practice (the
 * SMP stress and fuzz scenarios run beside CPU hogs; docs/PERF.md). */
#pragma once
#include <stdint.h>

typedef struct {
	uint32_t held;
} spinlock_t;

#define SPINLOCK_INIT { 0 }

/* Always inline: the big lock is on every kernel entry. */
static inline __attribute__((always_inline)) void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->held, __ATOMIC_RELAXED))
			;
}

static inline __attribute__((always_inline)) void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->held, 0, __ATOMIC_RELEASE);
}
