#pragma once
#include "hyp/dtb.h"
#include "mm/buddy.h"

/* Take every free page out of `b`, node `node`'s pool, check that none lies
 * outside that node's RAM or in a reserved range, then return them all and check the totals.  Run at boot
 * with "cairn.test=mm"; prints one line, returns false on any violation. */
bool mm_selftest(struct buddy *b, unsigned node, const struct boot_info *bi);
