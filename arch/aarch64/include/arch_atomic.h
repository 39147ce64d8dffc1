/* The atomic operations generic code needs that the compiler's builtins
 * make longer than they must be (hyp/arch.h lists them). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Set *w from 0 to v, with acquire order; false if it was not 0.  GCC's
 * compare-and-swap tests the loaded value twice (once in its loop, once
 * after it); this is the loop alone, 5 instructions with v's constant. */
static inline __attribute__((always_inline)) bool arch_cas0_acquire(uint64_t *w, uint64_t v)
{
	uint64_t tmp;
	__asm__ volatile goto("1:	ldaxr	%0, [%1]\n"
		     "	cbnz	%0, %l[taken]\n"
		     "	stxr	%w0, %2, [%1]\n"
		     "	cbnz	%w0, 1b"
		     : "=&r"(tmp) : "r"(w), "r"(v) : "memory" : taken);
	return true;
taken:
	return false;
}
