/* GT_VFUZZ: a virtio-blk driver that lies.  It drives the device at
 * VFUZZ_IPA (virtio-mmio, served by the block server) with n requests:
 * every other one well-formed (a sector written, read back and compared),
 * the rest random descriptor tables and ring indices.  The device must
 * answer the good ones correctly, and may only refuse the bad ones (used
 * entries, or DEVICE_NEEDS_RESET, after which the driver resets it); it
 * must never stop answering.  Returns TEST_PASS or the failing line. */
#include "guests/test/common.h"

#define VIO(off) (*(volatile uint32_t *)(VFUZZ_IPA + (off)))
#define QSZ 16
#define SPINS 200000

enum { STATUS = 0x070, QUEUE_SEL = 0x030, QUEUE_NUM = 0x038, QUEUE_READY = 0x044,
       NOTIFY = 0x050, DRV_FEAT = 0x020, DRV_FEAT_SEL = 0x024, DESC = 0x080, DRIVER = 0x090,
       DEVICE = 0x0a0, MAGIC = 0x000, DEVICE_ID = 0x008 };
enum { S_ACK = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8, S_NEEDS_RESET = 64 };

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
static struct desc desc[QSZ] __attribute__((aligned(16)));
static struct { uint16_t flags, idx, ring[QSZ], event; } avail __attribute__((aligned(4)));
static struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSZ]; uint16_t event; }
	used __attribute__((aligned(4)));
static struct { uint32_t type, reserved; uint64_t sector; } hdr;
static uint8_t data[2][512], status;
/* Where the lies point buffers in RAM: the device may write there (a lie
 * can be a well-formed read), and must write nowhere else. */
static uint8_t scratch[8192] __attribute__((aligned(16))); /* lies point into its first half */
static uint16_t seen; /* used entries taken */

static void yield(void)
{
	guest_yield();
}

static void set64(unsigned off, const volatile void *p)
{
	VIO(off) = (uint32_t)(uintptr_t)p;
	VIO(off + 4) = (uint32_t)((uintptr_t)p >> 32);
}

/* Reset the device and set queue 0 up again, empty. */
static int setup(void)
{
	VIO(STATUS) = 0;
	for (unsigned i = 0; i < sizeof(avail) / 2; i++)
		((volatile uint16_t *)&avail)[i] = 0;
	for (unsigned i = 0; i < sizeof(used) / 2; i++)
		((volatile uint16_t *)&used)[i] = 0;
	seen = 0;
	VIO(STATUS) = S_ACK | S_DRIVER;
	VIO(DRV_FEAT_SEL) = 1;
	VIO(DRV_FEAT) = 1; /* VERSION_1 */
	VIO(DRV_FEAT_SEL) = 0;
	VIO(DRV_FEAT) = 0;
	VIO(STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK;
	if (!(VIO(STATUS) & S_FEATURES_OK))
		return -1;
	VIO(QUEUE_SEL) = 0;
	VIO(QUEUE_NUM) = QSZ;
	set64(DESC, desc);
	set64(DRIVER, &avail);
	set64(DEVICE, &used);
	VIO(QUEUE_READY) = 1;
	VIO(STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
	return 0;
}

/* Write n heads into the avail ring, move its index by `jump` (n, or a
 * lie) and ring the doorbell; wait until the device has used `jump` entries
 * (1), broke off (0), or neither in time (-1: it stalled). */
static int offer(const uint16_t *heads, unsigned n, uint16_t jump)
{
	for (unsigned i = 0; i < n; i++)
		avail.ring[(avail.idx + i) % QSZ] = heads[i];
	__atomic_thread_fence(__ATOMIC_RELEASE);
	avail.idx += jump;
	VIO(NOTIFY) = 0;
	uint16_t want = (uint16_t)(seen + jump);
	for (unsigned spin = 0; spin < SPINS; spin++) {
		uint16_t u = __atomic_load_n(&used.idx, __ATOMIC_ACQUIRE);
		if (u == want) {
			seen = u;
			return 1;
		}
		if (VIO(STATUS) & S_NEEDS_RESET)
			return 0;
		yield(); /* the block server shares this CPU */
	}
	return -1;
}

/* One well-formed request on sector s: 512 bytes out of (or into) data[k]. */
static int request(uint32_t type, uint64_t s, unsigned k)
{
	hdr.type = type;
	hdr.sector = s;
	status = 0xff;
	bool in = type == 0;
	desc[0] = (struct desc){ (uintptr_t)&hdr, 16, 1, 1 };
	desc[1] = (struct desc){ (uintptr_t)data[k], 512, (uint16_t)(1 | (in ? 2 : 0)), 2 };
	desc[2] = (struct desc){ (uintptr_t)&status, 1, 2, 0 };
	uint16_t head = 0;
	int r = offer(&head, 1, 1);
	return r == 1 && status == 0 && used.ring[(uint16_t)(seen - 1) % QSZ].id == 0 ? 0 : -1;
}

uint64_t t_vfuzz(uint64_t n)
{
	uint64_t x = 0x2545f4914f6cdd1dull, broken = 0, good = 0, answered = 0;
	FAIL_IF(VIO(MAGIC) != 0x74726976u || VIO(DEVICE_ID) != 2);
	FAIL_IF(setup());
	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (i % 2 == 0) { /* a sector out and back */
			for (unsigned b = 0; b < 512; b++)
				data[0][b] = (uint8_t)(x >> (b % 56)) + (uint8_t)b;
			uint64_t s = (x >> 8) % 32768;
			FAIL_IF(request(1, s, 0));
			FAIL_IF(request(0, s, 1));
			for (unsigned b = 0; b < 512; b++)
				FAIL_IF(data[1][b] != data[0][b]);
			good++;
			continue;
		}
		/* lies: a good request with one field made up, or random
		 * descriptors (into RAM, around it, anywhere), random heads, and
		 * an index that may run far ahead */
		uint64_t y = x;
		uint16_t heads[4] = { 0 };
		unsigned k = 1;
		uint16_t jump = 1;
		y ^= y << 13, y ^= y >> 7, y ^= y << 17;
		hdr.type = y & 1 ? (uint32_t)(y >> 20) % 10 : (uint32_t)(y >> 20) & 1;
		hdr.sector = y & 8 ? (y >> 24) : (y >> 24) % 40000;
		if (y & 2) {
			desc[0] = (struct desc){ (uintptr_t)&hdr, 16, 1, 1 };
			desc[1] = (struct desc){ (uintptr_t)data[1], 512, (uint16_t)(1 | (hdr.type ? 0 : 2)), 2 };
			desc[2] = (struct desc){ (uintptr_t)&status, 1, 2, 0 };
			struct desc *m = &desc[(y >> 4) % 3];
			switch ((y >> 6) % 6) {
			case 0: m->addr = y & 32 ? y >> 3 : (uintptr_t)scratch + (y >> 8) % 4096; break;
			case 1: /* beyond RAM, or shorter than the buffer */
				m->len = y & 32 ? (uint32_t)(y >> 32) | 0x80000000u : (uint32_t)(y >> 32) % 512;
				break;
			case 2: m->flags = (uint16_t)(y >> 32) & 7; break;
			case 3: m->next = (uint16_t)(y >> 32) % 20; break;
			case 4: jump = (uint16_t)(y >> 32); break;
			default: break; /* only the header's type and sector lie */
			}
		} else {
			for (unsigned d = 0; d < QSZ; d++) {
				y ^= y << 13, y ^= y >> 7, y ^= y << 17;
				uint64_t addr = y & 1 ? (uintptr_t)scratch + (y >> 8) % 4096
						: y & 2 ? GUEST_RAM_IPA + GUEST_RAM_SIZE + (y >> 8) % 64
							: y;
				desc[d] = (struct desc){ addr,
							 (uint32_t)(y >> 16) % (y & 4 ? 0x300 : 0xffffffffu),
							 (uint16_t)((y >> 40) & 7), (uint16_t)((y >> 48) % 20) };
			}
			k = 1 + (unsigned)(y >> 60) % 4;
			for (unsigned h = 0; h < k; h++)
				heads[h] = (uint16_t)((y >> (h * 5)) % 20);
			jump = y & 16 ? (uint16_t)(y >> 33) : (uint16_t)k;
		}
		int r = offer(heads, k, jump);
		FAIL_IF(r < 0);                 /* it must answer or refuse, never stall */
		FAIL_IF(r == 1 && jump > QSZ);  /* more than the queue holds: a lie */
		broken += r == 0;
		answered += r == 1;
		if (r == 0)
			FAIL_IF(setup()); /* a reset, as a driver does */
	}
	FAIL_IF(!good || !broken || !answered); /* every side was reached */
	*(volatile uint64_t *)(TDEV_IPA + TDEV_DATA) = good << 40 | answered << 20 | broken;
	return TEST_PASS;
}
