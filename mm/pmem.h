#pragma once
#include "hyp/dtb.h"
#include "mm/buddy.h"

/* Set `b` up over all usable RAM in `bi`.  The metadata array is carved from
 * usable RAM itself and recorded in bi as a reservation. */
err_t pmem_init(struct buddy *b, struct boot_info *bi, uint64_t dm_offset);
