/* The firmware's reserved memory as the loader hands it to the kernel: a
 * short sorted list of ranges (plain C, so that the host tests it too). */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct range { uint64_t base, end; }; /* [base, end) */

/* Add [base, end) to r[0..*n), keeping it sorted by base (insertion: the
 * UEFI map is short and nearly sorted).  r must have room for one more. */
void range_insert(struct range *r, size_t *n, uint64_t base, uint64_t end);
/* Touching or overlapping ranges become one; then, while there are more
 * than max, the two with the smallest gap between them do (the gap is lost
 * to the kernel: reserving too much is safe, too little is not). */
void range_merge(struct range *r, size_t *n, size_t max);
