/* Console output and memory helpers for native servers. */
#include "servers/lib/ulib.h"

cptr_t ulib_console;

void console_write(const char *s, size_t n)
{
	while (n && ulib_console) {
		struct sysregs r = { .nr = SYS_DEBUG_WRITE, .cap = ulib_console };
		size_t k = n < 64 ? n : 64;
		for (size_t i = 0; i < k; i++)
			r.mr[i / 8] |= (uint64_t)(unsigned char)s[i] << (8 * (i % 8));
		r.info = k;
		sys(&r);
		s += k, n -= k;
	}
}

static void put(char **p, char *end, char c)
{
	if (*p < end)
		*(*p)++ = c;
}

static void put_num(char **p, char *end, uint64_t v, unsigned base, int width, char pad)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		put(p, end, pad);
	while (n)
		put(p, end, tmp[--n]);
}

int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	if (!len)
		return 0; /* not even room for the NUL */
	char *p = buf, *end = buf + len - 1;
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&p, end, *fmt);
			continue;
		}
		char pad = ' ';
		int width = 0, prec = -1;
		bool left = *++fmt == '-';
		if (left)
			fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + *fmt++ - '0';
		if (*fmt == '.')
			for (prec = 0, fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
				prec = prec * 10 + *fmt - '0';
		bool l = *fmt == 'l';
		if (l)
			fmt++;
		if (!*fmt)
			break; /* the format ends inside a conversion: not past its NUL */
		switch (*fmt) {
		case 'd': {
			int64_t v = l ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (v < 0)
				put(&p, end, '-'), v = -v;
			put_num(&p, end, v, 10, width, pad);
			break;
		}
		case 'u':
			put_num(&p, end, l ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad);
			break;
		case 'x':
			put_num(&p, end, l ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad);
			break;
		case 's': { /* width and precision; '-' pads on the right */
			const char *s = va_arg(ap, const char *);
			int n = (int)strnlen(s, prec < 0 ? ~0ul >> 1 : (size_t)prec);
			for (int i = n; !left && i < width; i++)
				put(&p, end, ' ');
			for (int i = 0; i < n; i++)
				put(&p, end, s[i]);
			for (int i = n; left && i < width; i++)
				put(&p, end, ' ');
			break;
		}
		default:
			put(&p, end, *fmt);
		}
	}
	*p = 0;
	return p - buf;
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_write(buf, n);
	return n;
}

/* memset, memcpy, memcmp, strlen and the rest: hyp/string.c, shared with the
 * kernel (and with libfdt, which the VMM links). */

char *strstr(const char *h, const char *n)
{
	size_t k = strlen(n);
	for (; *h; h++)
		if (!memcmp(h, n, k))
			return (char *)h;
	return NULL;
}
