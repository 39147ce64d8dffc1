/* The atomic operations generic code needs that the compiler's builtins
 * make longer than they must be (hyp/arch.h lists them): on x86 the
 * builtins are what the hardware has. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Set *w from 0 to v, with acquire order; false if it was not 0. */
static inline __attribute__((always_inline)) bool arch_cas0_acquire(uint64_t *w, uint64_t v)
{
	uint64_t free = 0;
	return __atomic_compare_exchange_n(w, &free, v, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
