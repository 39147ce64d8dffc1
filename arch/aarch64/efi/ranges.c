/* See ranges.h. */
#include "arch/aarch64/efi/ranges.h"

void range_insert(struct range *r, size_t *n, uint64_t base, uint64_t end)
{
	size_t j = (*n)++;
	for (; j && r[j - 1].base > base; j--)
		r[j] = r[j - 1];
	r[j] = (struct range){ base, end };
}

static void merge_into_previous(struct range *r, size_t *n, size_t i)
{
	if (r[i].end > r[i - 1].end)
		r[i - 1].end = r[i].end;
	for (size_t j = i + 1; j < *n; j++)
		r[j - 1] = r[j];
	(*n)--;
}

static uint64_t gap(const struct range *r, size_t i)
{
	return r[i].base - r[i - 1].end;
}

void range_merge(struct range *r, size_t *n, size_t max)
{
	for (size_t i = 1; i < *n;)
		if (r[i].base <= r[i - 1].end)
			merge_into_previous(r, n, i);
		else
			i++;
	while (*n > max && *n > 1) {
		size_t best = 1;
		for (size_t i = 2; i < *n; i++)
			if (gap(r, i) < gap(r, best))
				best = i;
		merge_into_previous(r, n, best);
	}
}
