#pragma once
#include "hyp/dtb.h"

#define MEMMAP_MAX 48

/* Usable RAM: memory ranges (one NUMA node's, or all) minus every
 * reservation, shrunk to whole pages.  Reservations are widened to whole pages first, so a partly reserved page
 * is never handed out. */
err_t memmap_usable_node(const struct boot_info *bi, unsigned node,
			 struct mem_range *out, unsigned max, unsigned *n);
#define MEMMAP_ALL (~0u) /* every node's */
static inline err_t memmap_usable(const struct boot_info *bi, struct mem_range *out,
				  unsigned max, unsigned *n)
{
	return memmap_usable_node(bi, MEMMAP_ALL, out, max, n);
}
