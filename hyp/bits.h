/* Bit scans written out rather than __builtin_clzll/ctzll, which need
 * libgcc on RISC-V without Zbb (the kernel links none).  Compilers still
 * emit one instruction where the ISA has one. */
#pragma once
#include <stdint.h>

/* Index of the highest set bit of w != 0. */
static inline unsigned bit_highest(uint64_t w)
{
	unsigned n = 0;
	for (unsigned s = 32; s; s >>= 1)
		if (w >> s) {
			w >>= s;
			n += s;
		}
	return n;
}

/* Index of the lowest set bit of w != 0. */
static inline unsigned bit_lowest(uint64_t w) { return bit_highest(w & -w); }
