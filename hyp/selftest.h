#pragma once
#include "hyp/dtb.h"
#include "mm/buddy.h"

/* Take every free page out of `b`, check that none lies outside RAM or in a
 * reserved range, then return them all and check the totals.  Run at boot
 * with "cairn.test=mm"; prints one line, returns false on any violation. */
bool mm_selftest(struct buddy *b, const struct boot_info *bi);
