/* Basic kernel types.  Host-physical, guest-physical and kernel-virtual
 * addresses are distinct structs (as Hafnium does) so that mixing them is a
 * compile error rather than a bug found on hardware. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every kernel symbol lives in the one image.  Declaring them hidden (as
 * -fvisibility=hidden already makes the definitions) lets the
 * position-independent kernel reach other files' globals PC-relative
 * instead of through the GOT.  Not in hosted builds (the unit tests), whose
 * C library is not part of the image. */
#if !__STDC_HOSTED__
#pragma GCC visibility push(hidden)
#endif

typedef struct { uint64_t pa; } paddr_t;   /* host-physical */
typedef struct { uint64_t ipa; } ipaddr_t; /* guest-physical (stage-2 input) */

static inline paddr_t pa_make(uint64_t pa) { return (paddr_t){ pa }; }
static inline uint64_t pa_addr(paddr_t p) { return p.pa; }
static inline paddr_t pa_add(paddr_t p, uint64_t off) { return (paddr_t){ p.pa + off }; }

/* A half-open physical range [base, base + size). */
struct mem_range {
	paddr_t base;
	uint64_t size;
};

static inline uint64_t range_end(struct mem_range r) { return r.base.pa + r.size; }

#define PAGE_SHIFT 12
#define PAGE_SIZE ((uint64_t)1 << PAGE_SHIFT)
#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((uint64_t)(a) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#include "cairn/error.h" /* err_t: one error enum for kernel and user */

const char *err_str(err_t e);
