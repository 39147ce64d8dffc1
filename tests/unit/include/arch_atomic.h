/* The host build: the compiler's builtins. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

static inline bool arch_cas0_acquire(uint64_t *w, uint64_t v)
{
	uint64_t free = 0;
	return __atomic_compare_exchange_n(w, &free, v, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
