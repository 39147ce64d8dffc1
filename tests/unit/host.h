/* Shared set-up for host unit tests of the arch-neutral kernel code. */
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hyp/types.h"

/* Memory that plays the part of physical RAM at `pa_base`: the allocator
 * under test reaches it through dm_offset = host address - pa_base. */
struct fake_ram {
	void *host;
	uint64_t pa_base, size, dm_offset;
};

void fake_ram_init(struct fake_ram *r, uint64_t pa_base, uint64_t size);
void fake_ram_free(struct fake_ram *r);

/* Run a cmocka group and print the closing "N passed, N failed" line. */
#define RUN_TESTS(name, tests)                                                  \
	({                                                                      \
		int failed_ = cmocka_run_group_tests_name(name, tests, NULL, NULL); \
		printf("%s: %zu passed, %d failed\n", name,                     \
		       sizeof(tests) / sizeof(tests[0]) - failed_, failed_);   \
		failed_ ? 1 : 0;                                                \
	})
