/* The environment Debian's libfdt sources expect, for the freestanding
 * kernel build (host tests use the packaged libfdt and its own header).
 * Every Cairn target is little-endian, and the DTB is big-endian. */
#ifndef LIBFDT_ENV_H
#define LIBFDT_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hyp/string.h"

#define INT_MAX __INT_MAX__
#define UINT_MAX (__INT_MAX__ * 2u + 1u)

typedef uint16_t fdt16_t;
typedef uint32_t fdt32_t;
typedef uint64_t fdt64_t;

/* Written out rather than __builtin_bswap*: RISC-V without Zbb would call
 * libgcc for those, and the kernel links no libgcc.  Compilers still turn
 * these into one instruction where the ISA has one (rev on AArch64). */
static inline uint16_t bswap16_(uint16_t x) { return (uint16_t)(x >> 8 | x << 8); }
static inline uint32_t bswap32_(uint32_t x)
{
	return x >> 24 | (x >> 8 & 0xff00) | (x << 8 & 0xff0000) | x << 24;
}
static inline uint64_t bswap64_(uint64_t x)
{
	return (uint64_t)bswap32_((uint32_t)x) << 32 | bswap32_((uint32_t)(x >> 32));
}
static inline uint16_t fdt16_to_cpu(fdt16_t x) { return bswap16_(x); }
static inline fdt16_t cpu_to_fdt16(uint16_t x) { return bswap16_(x); }
static inline uint32_t fdt32_to_cpu(fdt32_t x) { return bswap32_(x); }
static inline fdt32_t cpu_to_fdt32(uint32_t x) { return bswap32_(x); }
static inline uint64_t fdt64_to_cpu(fdt64_t x) { return bswap64_(x); }
static inline fdt64_t cpu_to_fdt64(uint64_t x) { return bswap64_(x); }

#endif
