/* panic() and assert().  Assertions state kernel invariants; they never check
 * user or guest input (that gets an error code). */
#pragma once
#include <stdbool.h>

_Noreturn void panic_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set once a CPU has panicked: the others halt as they leave the kernel. */
extern bool panicked;
void panic_stop_others(void);

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define assert(c)                                                         \
	do {                                                              \
		if (__builtin_expect(!(c), 0))                            \
			panic_at(__FILE__, __LINE__, "assert(%s)", #c);   \
	} while (0)
