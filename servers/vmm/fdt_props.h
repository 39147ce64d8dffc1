/* Properties of several cells, for the ISAs' guest DTBs (guest_fdt.c). */
#pragma once
#include <libfdt.h>
#include <stdint.h>

static inline int prop_u64s(void *f, const char *name, const uint64_t *v, unsigned n)
{
	fdt64_t be[8];
	for (unsigned i = 0; i < n && i < 8; i++)
		be[i] = cpu_to_fdt64(v[i]);
	return n > 8 ? -FDT_ERR_NOSPACE : fdt_property(f, name, be, (int)n * 8);
}

static inline int prop_u32s(void *f, const char *name, const uint32_t *v, unsigned n)
{
	fdt32_t be[16];
	for (unsigned i = 0; i < n && i < 16; i++)
		be[i] = cpu_to_fdt32(v[i]);
	return n > 16 ? -FDT_ERR_NOSPACE : fdt_property(f, name, be, (int)n * 4);
}
