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
void console_write(const char *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
char *strstr(const char *h, const char *n);
