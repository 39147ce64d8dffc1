#include <string.h>

#include "host.h"
#include "hyp/panic.h"

/* Kernel assertions become test failures rather than aborts. */
_Noreturn void panic_at(const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mock_assert(0, msg, file, line);
	abort();
}

void fake_ram_init(struct fake_ram *r, uint64_t pa_base, uint64_t size)
{
	r->host = aligned_alloc(PAGE_SIZE, size);
	assert_non_null(r->host);
	memset(r->host, 0xa5, size); /* no test may rely on zeroed RAM */
	r->pa_base = pa_base;
	r->size = size;
	r->dm_offset = (uint64_t)(uintptr_t)r->host - pa_base;
}

void fake_ram_free(struct fake_ram *r) { free(r->host); }
