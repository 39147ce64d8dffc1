/* The freestanding C library subset the kernel and libfdt need. */
#include <stddef.h>
#include <stdint.h>

#include "hyp/string.h"

/* Word at a time where the pointers allow (frames are zeroed with this:
 * a byte loop took a second for a guest's 256 MiB under QEMU).  The
 * attribute keeps GCC from turning these loops into calls to themselves. */
#define NO_LOOP_CALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LOOP_CALLS void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	uint64_t w = 0x0101010101010101ull * (unsigned char)c;
	for (; n && ((uintptr_t)p & 7); n--)
		*p++ = (unsigned char)c;
	for (; n >= 8; n -= 8, p += 8)
		*(uint64_t *)p = w;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

/* Word at a time whatever the alignment (a network frame's payload lies
 * anywhere in a page).  A source out of step with the destination is read
 * in aligned words shifted together (little-endian, as every port is):
 * each word read holds a byte of the source, so none crosses into a page
 * the source does not touch.  In step, eight words a turn: under QEMU
 * each access costs a TLB lookup and the rest of a word loop as much again
 * (the block server copies a guest's every write: PERF.md). */
NO_LOOP_CALLS void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	for (; n && ((uintptr_t)dp & 7); n--)
		*dp++ = *sp++;
	size_t words = n / 8;
	uint64_t *wd = (uint64_t *)dp;
	unsigned sh = ((uintptr_t)sp & 7) * 8;
	const uint64_t *ws = (const uint64_t *)(sp - sh / 8);
	for (; !sh && words >= 8; words -= 8, wd += 8, ws += 8) { /* in step: by pairs */
		uint64_t a = ws[0], b = ws[1], c = ws[2], e = ws[3], f = ws[4], g = ws[5];
		uint64_t h = ws[6], i = ws[7];
		wd[0] = a, wd[1] = b, wd[2] = c, wd[3] = e, wd[4] = f, wd[5] = g, wd[6] = h, wd[7] = i;
	}
	for (uint64_t lo = words && sh ? *ws++ : 0; words; words--, ws++) {
		uint64_t hi = *ws;
		*wd++ = sh ? lo >> sh | hi << (64 - sh) : hi;
		lo = hi;
	}
	for (dp += n & ~(size_t)7, sp += n & ~(size_t)7, n &= 7; n--;)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	if (dp <= sp || dp >= sp + n)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	for (; n; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)p;
	return NULL;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

size_t strlen(const char *s) { return strnlen(s, SIZE_MAX); }

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++)
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;
	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

unsigned long strtoul(const char *s, char **end, int base)
{
	unsigned long v = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] | 32) == 'x') {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = s[0] == '0' ? 8 : 10;
	}
	for (int d; (d = digit_value(*s)) < base; s++)
		v = v * base + d;
	if (end)
		*end = (char *)s;
	return v;
}
