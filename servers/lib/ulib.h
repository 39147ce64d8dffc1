/* The little C library native servers use: console output, memory
 * helpers, and the start-up code's contract (main gets the boot info). */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include "servers/lib/sys.h"

extern cptr_t ulib_console; /* where printf writes; 0: nowhere */

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
int snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void console_write(const char *s, size_t n);
char *strstr(const char *h, const char *n);
#include "hyp/string.h" /* memset, memcpy, strcmp...: shared with the kernel */
