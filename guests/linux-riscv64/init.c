/* The riscv64 Linux guest's init: static, no libc (bookworm has no riscv64
 * busybox or libc for a cross build), raw system calls.  It says what it
 * sees, in the markers the tests wait for (the AArch64 guest's words where
 * the meaning is the same), writes and reads back its virtio disk if it has
 * one, then powers off (cairn.test on the kernel command line) or echoes the console. */
typedef unsigned long ulong;
typedef _Bool bool;

enum { SYS_DUP3 = 24, SYS_MOUNT = 40, SYS_OPENAT = 56, SYS_READ = 63, SYS_WRITE = 64,
       SYS_NANOSLEEP = 101, SYS_REBOOT = 142 };
#define AT_FDCWD (-100)
#define O_WRONLY 1
#define O_RDWR 2
#define O_DIRECT 0x4000
#define O_SYNC 0x101000
#define DISK_TEST_BYTES 65536

static long sys(long nr, long a0, long a1, long a2, long a3, long a4)
{
	register long r0 asm("a0") = a0, r1 asm("a1") = a1, r2 asm("a2") = a2;
	register long r3 asm("a3") = a3, r4 asm("a4") = a4, r7 asm("a7") = nr;
	asm volatile("ecall" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r7) : "memory");
	return r0;
}

static ulong len(const char *s)
{
	ulong n = 0;
	while (s[n])
		n++;
	return n;
}

static void put(const char *s)
{
	sys(SYS_WRITE, 1, (long)s, (long)len(s), 0, 0);
}

static void put_num(ulong v)
{
	char b[24], *p = b + sizeof(b);
	*--p = 0;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	put(p);
}

static char buf[16384];

/* The whole of a small file into buf, NUL-terminated; 0 if unreadable. */
static long slurp(const char *path)
{
	long fd = sys(SYS_OPENAT, AT_FDCWD, (long)path, 0, 0, 0), n = 0, r;
	if (fd < 0)
		return 0;
	while (n < (long)sizeof(buf) - 1 && (r = sys(SYS_READ, fd, (long)buf + n,
						   (long)sizeof(buf) - 1 - n, 0, 0)) > 0)
		n += r;
	buf[n] = 0;
	return n;
}

static const char *find(const char *s, const char *w)
{
	for (ulong n = len(w); *s; s++) {
		ulong i = 0;
		while (i < n && s[i] == w[i])
			i++;
		if (i == n)
			return s;
	}
	return 0;
}

static ulong count(const char *s, const char *w)
{
	ulong n = 0;
	for (; (s = find(s, w)); s++)
		n++;
	return n;
}

/* Each line of buf holding w, after the prefix. */
static void put_lines(const char *w, const char *prefix)
{
	for (char *l = buf, *e; *l; l = e) {
		for (e = l; *e && *e != '\n'; e++)
			;
		char c = *e;
		*e = 0;
		if (find(l, w)) {
			put(prefix);
			put(l);
			put("\n");
		}
		*e = c;
		if (c)
			e++;
	}
}

static void sleep_s(long s)
{
	long ts[2] = { s, 0 };
	sys(SYS_NANOSLEEP, (long)ts, 0, 0, 0, 0);
}

/* Linux's number for the interrupt whose line of /proc/interrupts (in
 * buf) names w; 0 for none. */
static ulong irq_number(const char *w)
{
	const char *p = find(buf, w);
	if (!p)
		return 0;
	while (p > buf && p[-1] != '\n')
		p--;
	while (*p == ' ')
		p++;
	ulong n = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (ulong)(*p - '0');
	return n;
}

/* Interrupt irq to CPU 1: the guest's PLIC driver moves its enable from
 * hart 0's context to hart 1's, and the VMM moves the disk server's
 * notification with it (vmm_irq_routed). */
static void irq_to_cpu1(ulong irq)
{
	char path[48], digits[24], *d = digits + sizeof(digits);
	ulong n = 0;
	for (const char *t = "/proc/irq/"; *t; t++)
		path[n++] = *t;
	*--d = 0;
	do
		*--d = (char)('0' + irq % 10);
	while (irq /= 10);
	for (; *d; d++)
		path[n++] = *d;
	for (const char *t = "/smp_affinity"; *t; t++)
		path[n++] = *t;
	path[n] = 0;
	long fd = sys(SYS_OPENAT, AT_FDCWD, (long)path, O_WRONLY, 0, 0);
	long w = fd < 0 ? fd : sys(SYS_WRITE, fd, (long)"2\n", 2, 0, 0);
	put(w == 2 ? "cairn-guest: virtio0's interrupt moved to cpu1\n"
		   : "cairn-guest: virtio0's interrupt could not be moved\n");
}

static char wbuf[DISK_TEST_BYTES] __attribute__((aligned(4096)));
static char rbuf[DISK_TEST_BYTES] __attribute__((aligned(4096)));

/* Its virtio disk, where it has one (and only under test: its first
 * 64 KiB are overwritten): 64 KiB written and read back past
 * the page cache (O_DIRECT), so both go through the device. */
static void disk_test(void)
{
	long fd = sys(SYS_OPENAT, AT_FDCWD, (long)"/dev/vda", O_RDWR | O_DIRECT | O_SYNC, 0, 0);
	if (fd < 0)
		return;
	slurp("/sys/block/vda/size");
	put("cairn-guest: virtio disk vda, ");
	for (char *c = buf; *c >= '0' && *c <= '9'; c++)
		sys(SYS_WRITE, 1, (long)c, 1, 0, 0);
	put(" sectors\n");
	for (ulong i = 0; i < DISK_TEST_BYTES; i++)
		wbuf[i] = (char)(i * 7 + i / 4096);
	long w = sys(SYS_WRITE, fd, (long)wbuf, DISK_TEST_BYTES, 0, 0);
	long fd2 = sys(SYS_OPENAT, AT_FDCWD, (long)"/dev/vda", O_DIRECT, 0, 0);
	long r = fd2 < 0 ? fd2 : sys(SYS_READ, fd2, (long)rbuf, DISK_TEST_BYTES, 0, 0);
	ulong same = 0;
	while (same < DISK_TEST_BYTES && rbuf[same] == wbuf[same])
		same++;
	if (w == DISK_TEST_BYTES && r == DISK_TEST_BYTES && same == DISK_TEST_BYTES) {
		put("cairn-guest: vda read back what was written\n");
	} else {
		put("cairn-guest: vda read back wrong: wrote ");
		put_num((ulong)w);
		put(", read ");
		put_num((ulong)r);
		put(", equal for ");
		put_num(same);
		put(" bytes\n");
	}
}

int main(void)
{
	sys(SYS_MOUNT, (long)"proc", (long)"/proc", (long)"proc", 0, 0);
	sys(SYS_MOUNT, (long)"sys", (long)"/sys", (long)"sysfs", 0, 0);
	sys(SYS_MOUNT, (long)"dev", (long)"/dev", (long)"devtmpfs", 0, 0);
	long fd = sys(SYS_OPENAT, AT_FDCWD, (long)"/dev/console", O_RDWR, 0, 0);
	for (long i = 0; fd >= 0 && i < 3; i++)
		if (i != fd)
			sys(SYS_DUP3, fd, i, 0, 0, 0);
	slurp("/proc/cpuinfo");
	put("cairn-guest: init up, ");
	put_num(count(buf, "processor\t:"));
	put(" cpus online, ");
	slurp("/proc/meminfo");
	const char *m = find(buf, "MemTotal:");
	ulong kb = 0;
	for (m = m ? m + 9 : ""; *m == ' '; m++)
		;
	for (; *m >= '0' && *m <= '9'; m++)
		kb = kb * 10 + (ulong)(*m - '0');
	put_num(kb);
	put(" kB RAM\n");
	sleep_s(1);
	slurp("/proc/interrupts");
	put_lines("timer", "cairn-guest: timer ");
	put_lines("virtio", "cairn-guest: irq ");
	ulong vda_irq = find(buf, "CPU1") ? irq_number("virtio0") : 0;
	slurp("/proc/cmdline");
	bool test = find(buf, "cairn.test");
	if (test && vda_irq) /* on a second CPU, where there is one */
		irq_to_cpu1(vda_irq);
	if (test) { /* it writes the disk's first 64 KiB */
		disk_test();
		slurp("/proc/interrupts");
		put_lines("virtio0", "cairn-guest: irq after the disk test ");
	}
	long hvc1 = sys(SYS_OPENAT, AT_FDCWD, (long)"/dev/hvc1", O_RDWR, 0, 0);
	if (hvc1 >= 0) { /* the virtio-console, where the system gives one */
		static const char up[] = "cairn-guest: hvc1 is up (virtio-console)\n";
		sys(SYS_WRITE, hvc1, (long)up, sizeof(up) - 1, 0, 0);
	}
	if (test) {
		put("cairn-guest: powering off\n");
		sys(SYS_REBOOT, 0xfee1dead, 672274793, 0x4321fedc, 0, 0);
	}
	for (;;) { /* the console echoes what is typed */
		long n = sys(SYS_READ, 0, (long)buf, sizeof(buf), 0, 0);
		if (n <= 0)
			sleep_s(1);
		else
			sys(SYS_WRITE, 1, (long)buf, n, 0, 0);
	}
}

void _start(void)
{
	main();
	for (;;)
		sleep_s(1);
}
