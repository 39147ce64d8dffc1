#pragma once
#include "hyp/dtb.h"

#define MEMMAP_MAX 48

/* Usable RAM: memory ranges minus every reservation, shrunk to whole pages.
 * Reservations are widened to whole pages first, so a partly reserved page
 * is never handed out. */
err_t memmap_usable(const struct boot_info *bi, struct mem_range *out,
		    unsigned max, unsigned *n);
