/* printf-style formatting for the console: %c %s %d %i %u %x %p %%, with
 * the l/ll/z length modifiers, a field width, '0' padding and '-'. */
#include <stdint.h>

#include "hyp/arch.h"
#include "hyp/console.h"
#include "hyp/printk.h"
#include "hyp/spinlock.h"
#include "hyp/string.h"

struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width,
		       char pad, bool left)
{
	int fill = width > (int)n ? width - (int)n : 0;
	if (!left)
		while (fill-- > 0)
			put(o, pad);
	while (n--)
		put(o, *s++);
	while (fill-- > 0)
		put(o, ' ');
}

static size_t fmt_unsigned(char *tmp, uint64_t v, unsigned base)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	for (size_t i = 0; i < n / 2; i++) { /* reverse in place */
		char t = tmp[i];
		tmp[i] = tmp[n - 1 - i];
		tmp[n - 1 - i] = t;
	}
	return n;
}

int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = { buf, len, 0 };
	char tmp[24];

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		bool left = *++fmt == '-';
		fmt += left;
		char pad = *fmt == '0' ? '0' : ' ';
		int width = 0, lng = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z')
			lng++, fmt++;

		uint64_t v;
		size_t n;
		switch (*fmt) {
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			put_padded(&o, tmp, 1, width, ' ', left);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			s = s ? s : "(null)";
			put_padded(&o, s, strlen(s), width, ' ', left);
			break;
		}
		case 'd':
		case 'i': {
			int64_t s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			n = 0;
			if (s < 0)
				tmp[n++] = '-';
			n += fmt_unsigned(tmp + n, s < 0 ? -(uint64_t)s : (uint64_t)s, 10);
			put_padded(&o, tmp, n, width, pad, left);
			break;
		}
		case 'u':
		case 'x':
			v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			n = fmt_unsigned(tmp, v, *fmt == 'x' ? 16 : 10);
			put_padded(&o, tmp, n, width, pad, left);
			break;
		case 'p':
			tmp[0] = '0', tmp[1] = 'x';
			n = 2 + fmt_unsigned(tmp + 2, (uintptr_t)va_arg(ap, void *), 16);
			put_padded(&o, tmp, n, width, pad, left);
			break;
		case '%':
			put(&o, '%');
			break;
		default: /* unknown conversion: show it rather than guess */
			put(&o, '%');
			if (!*fmt)
				goto done;
			put(&o, *fmt);
		}
	}
done:
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = 0;
	return (int)o.pos;
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

static spinlock_t printk_lock = SPINLOCK_INIT;

/* Lines are formatted into a buffer first so that one CPU's line is never
 * interleaved with another's, and the lock is held only while emitting. */
void vprintk(const char *fmt, va_list ap)
{
	char line[256];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;

	bool locked = arch_mmu_enabled(); /* exclusives need cacheable memory */
	if (locked)
		spin_lock(&printk_lock);
	console_write(line, (size_t)n);
	if (locked)
		spin_unlock(&printk_lock);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}
