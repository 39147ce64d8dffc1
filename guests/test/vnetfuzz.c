/* GT_VNETFUZZ: a virtio-net driver that lies, on two ports of the switch
 * (servers/net): A at VNETFUZZ_IPA, B right after it.  Of n rounds, every
 * other one is good: a frame of random length and bytes from A's transmit
 * queue must arrive whole in the receive buffer B posted.  The rest lie:
 * A's transmit chain or B's receive chain gets a made-up field, or random
 * descriptors and indices.  The switch must answer a lie (a used entry),
 * or refuse it (DEVICE_NEEDS_RESET, after which the driver resets that
 * port); it must never stop answering, and never write outside the
 * buffers it was given (the good rounds' frames and the guest's other
 * memory would show it).  Returns TEST_PASS or the failing line. */
#include "guests/test/common.h"

#define QSZ 16
#define SPINS 200000
#define HDR 12    /* virtio_net_hdr_v1 */
#define FRAME_MAX 1514

enum { STATUS = 0x070, QUEUE_SEL = 0x030, QUEUE_NUM = 0x038, QUEUE_READY = 0x044,
       NOTIFY = 0x050, DRV_FEAT = 0x020, DRV_FEAT_SEL = 0x024, DESC = 0x080, DRIVER = 0x090,
       DEVICE = 0x0a0, MAGIC = 0x000, DEVICE_ID = 0x008 };
enum { S_ACK = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8, S_NEEDS_RESET = 64 };
enum { RXQ, TXQ };

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct queue {
	struct desc desc[QSZ] __attribute__((aligned(16)));
	struct { uint16_t flags, idx, ring[QSZ], event; } avail __attribute__((aligned(4)));
	struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSZ]; uint16_t event; }
		used __attribute__((aligned(4)));
	uint16_t seen;                     /* used entries taken */
};
struct port { uint64_t base; struct queue q[2]; };

static struct port ports[2] = { { .base = VNETFUZZ_IPA }, { .base = VNETFUZZ_IPA + VNETFUZZ_STRIDE } };
static uint8_t out[HDR + FRAME_MAX], in[HDR + FRAME_MAX + 64];
/* Where lies point buffers in RAM: the switch may write there (a lying
 * receive chain can be a well-formed one), and must write nowhere else. */
static uint8_t scratch[4096] __attribute__((aligned(16)));
static uint64_t x = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return x;
}

static volatile uint32_t *reg(const struct port *p, unsigned off)
{
	return (volatile uint32_t *)(p->base + off);
}

static void set64(const struct port *p, unsigned off, const volatile void *a)
{
	*reg(p, off) = (uint32_t)(uintptr_t)a;
	*reg(p, off + 4) = (uint32_t)((uintptr_t)a >> 32);
}

static void yield(void)
{
	guest_yield();
}

/* Reset port p and set both its queues up again, empty. */
static int setup(struct port *p)
{
	*reg(p, STATUS) = 0;
	for (unsigned k = 0; k < 2; k++) {
		volatile uint8_t *b = (volatile uint8_t *)&p->q[k];
		for (unsigned i = 0; i < sizeof(p->q[k]); i++)
			b[i] = 0;
	}
	*reg(p, STATUS) = S_ACK | S_DRIVER;
	*reg(p, DRV_FEAT_SEL) = 1;
	*reg(p, DRV_FEAT) = 1; /* VERSION_1, and nothing else */
	*reg(p, DRV_FEAT_SEL) = 0;
	*reg(p, DRV_FEAT) = 0;
	*reg(p, STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK;
	if (!(*reg(p, STATUS) & S_FEATURES_OK))
		return -1;
	for (unsigned k = 0; k < 2; k++) {
		*reg(p, QUEUE_SEL) = k;
		*reg(p, QUEUE_NUM) = QSZ;
		set64(p, DESC, p->q[k].desc);
		set64(p, DRIVER, &p->q[k].avail);
		set64(p, DEVICE, &p->q[k].used);
		*reg(p, QUEUE_READY) = 1;
	}
	*reg(p, STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
	return 0;
}

/* Heads h[0..n) into queue k's avail ring, its index moved by `jump` (n,
 * or a lie), the doorbell rung. */
static void offer(struct port *p, unsigned k, const uint16_t *h, unsigned n, uint16_t jump)
{
	struct queue *q = &p->q[k];
	for (unsigned i = 0; i < n; i++)
		q->avail.ring[(q->avail.idx + i) % QSZ] = h[i];
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->avail.idx += jump;
	*reg(p, NOTIFY) = k;
}

/* Until queue k of p has used `want` entries more (1), p was marked
 * broken (0), or neither in time (-1: the switch stalled). */
static int answer(struct port *p, unsigned k, uint16_t want)
{
	struct queue *q = &p->q[k];
	want = (uint16_t)(q->seen + want);
	for (unsigned spin = 0; spin < SPINS; spin++) {
		uint16_t u = __atomic_load_n(&q->used.idx, __ATOMIC_ACQUIRE);
		if (u == want) {
			q->seen = u;
			return 1;
		}
		if (*reg(p, STATUS) & S_NEEDS_RESET)
			return 0;
		yield(); /* the switch may share this CPU */
	}
	return -1;
}

/* A's transmit chain for a frame of len bytes (header included): the
 * header, then the rest. */
static void tx_chain(struct desc *d, uint32_t len)
{
	d[0] = (struct desc){ (uintptr_t)out, HDR, 1, 1 };
	d[1] = (struct desc){ (uintptr_t)out + HDR, len - HDR, 0, 0 };
}

/* One good round: a random frame from A arrives whole at B. */
static int good_round(void)
{
	struct port *a = &ports[0], *b = &ports[1];
	uint32_t len = HDR + 60 + (uint32_t)(rnd() % (FRAME_MAX - 59));
	for (unsigned i = 0; i < len; i++)
		out[i] = (uint8_t)rnd();
	for (unsigned i = 0; i < HDR; i++)
		out[i] = 0;
	for (unsigned i = 0; i < 6; i++) /* broadcast, from A */
		out[HDR + i] = 0xff, out[HDR + 6 + i] = (uint8_t)(i ? 0x10 + i : 0x02);
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = 0x5a;
	b->q[RXQ].desc[0] = (struct desc){ (uintptr_t)in, HDR + FRAME_MAX, 2, 0 };
	uint16_t head = 0;
	offer(b, RXQ, &head, 1, 1);
	tx_chain(a->q[TXQ].desc, len);
	offer(a, TXQ, &head, 1, 1);
	if (answer(a, TXQ, 1) != 1 || answer(b, RXQ, 1) != 1)
		return -1;
	struct queue *q = &b->q[RXQ];
	if (q->used.ring[(uint16_t)(q->seen - 1) % QSZ].len != len)
		return -1;
	for (unsigned i = HDR; i < len; i++)
		if (in[i] != out[i])
			return -1;
	for (unsigned i = len; i < sizeof(in); i++) /* nothing past the frame */
		if (in[i] != 0x5a)
			return -1;
	return 0;
}

/* Reading any of the guest's RAM is harmless: a transmit lie may name all
 * of it (longer than any frame).  A receive lie stays in scratch. */
static struct desc ram_read(uint64_t y)
{
	return (struct desc){ GUEST_RAM_IPA + (y >> 8) % 4096, (uint32_t)(y >> 24) %
			      (GUEST_RAM_SIZE - 4096), (uint16_t)(y >> 40 & 1), (uint16_t)(y >> 48 & 1) };
}

/* One made-up field of chain d (two descriptors) at random, or the index
 * jump returned instead of 1. */
static uint16_t lie_in(struct desc *d, uint64_t y, bool rx)
{
	struct desc *m = &d[(y >> 4) % 2];
	switch ((y >> 6) % 6) {
	case 0: m->addr = y & 32 ? y >> 3 : (uintptr_t)scratch + (y >> 8) % 2048; break;
	case 1: m->len = y & 32 ? (uint32_t)(y >> 32) | 0x80000000u : (uint32_t)(y >> 32) % 2048; break;
	case 2: m->flags = (uint16_t)(y >> 32) & 7; break;
	case 3: m->next = (uint16_t)(y >> 32) % 20; break;
	case 4: return (uint16_t)(y >> 32) | 1;
	default:
		if (!rx)
			*m = ram_read(y);
		break;
	}
	return 1;
}

/* Random descriptors anywhere in queue k of p, k heads of them offered. */
static uint16_t random_table(struct queue *q, uint16_t *heads, unsigned *k, bool rx)
{
	uint64_t y = rnd();
	for (unsigned d = 0; d < QSZ; d++) {
		y = rnd();
		uint64_t addr = y & 1 ? (uintptr_t)scratch + (y >> 8) % 2048
				: y & 2 ? GUEST_RAM_IPA + GUEST_RAM_SIZE + (y >> 8) % 64 : y;
		q->desc[d] = (struct desc){ addr, (uint32_t)(y >> 16) % (y & 4 ? 0x800 : 0xffffffffu),
					    (uint16_t)((y >> 40) & 7), (uint16_t)((y >> 48) % 20) };
		if (!rx && (y & 0x18) == 0x18)
			q->desc[d] = ram_read(y);
	}
	*k = 1 + (unsigned)(y >> 60) % 4;
	for (unsigned h = 0; h < *k; h++)
		heads[h] = (uint16_t)((y >> (h * 5)) % 20);
	return y & 16 ? (uint16_t)(y >> 33) | 1 : (uint16_t)*k;
}

/* One lying round on A's transmit queue (to_b: 0; every entry it offered
 * used, or the port refused) or B's receive queue (1: a good frame from A
 * then lands in B's first entry, or B refuses).  1 answered, 0 refused,
 * -1 stalled.  B is reset after each of its rounds, A after a refusal:
 * entries left over would take the next good frame. */
static int lie_round(bool to_b)
{
	struct port *p = &ports[to_b];
	struct queue *q = &p->q[to_b ? RXQ : TXQ];
	uint16_t heads[4] = { 0 }, jump;
	unsigned k = 1;
	uint64_t y = rnd();
	if (y & 2) {
		if (to_b)
			q->desc[0] = (struct desc){ (uintptr_t)in, HDR + FRAME_MAX, 2, 0 },
			q->desc[1] = (struct desc){ (uintptr_t)scratch, 512, 2, 0 };
		else
			tx_chain(q->desc, HDR + 60);
		jump = lie_in(q->desc, y, to_b);
	} else {
		jump = random_table(q, heads, &k, to_b);
	}
	offer(p, to_b ? RXQ : TXQ, heads, k, jump);
	if (to_b) { /* a good frame from A finds B's lie */
		uint16_t head = 0;
		tx_chain(ports[0].q[TXQ].desc, HDR + 60);
		offer(&ports[0], TXQ, &head, 1, 1);
		if (answer(&ports[0], TXQ, 1) != 1)
			return -1;
	}
	int r = answer(p, to_b ? RXQ : TXQ, to_b ? 1 : jump);
	if (r == 1 && jump > QSZ)
		return -1; /* more than the queue holds: a lie, answered */
	if ((r == 0 || to_b) && setup(p))
		return -1;
	return r;
}

uint64_t t_vnetfuzz(uint64_t n)
{
	uint64_t good = 0, answered = 0, refused = 0;
	for (unsigned i = 0; i < 2; i++) {
		FAIL_IF(*reg(&ports[i], MAGIC) != 0x74726976u || *reg(&ports[i], DEVICE_ID) != 1);
		FAIL_IF(setup(&ports[i]));
	}
	for (uint64_t i = 0; i < n; i++) {
		if (i % 2 == 0) {
			FAIL_IF(good_round());
			good++;
			continue;
		}
		int r = lie_round(rnd() & 1);
		FAIL_IF(r < 0); /* it must answer or refuse, never stall */
		answered += r == 1;
		refused += r == 0;
	}
	FAIL_IF(!good || !answered || !refused); /* every side was reached */
	*(volatile uint64_t *)(TDEV_IPA + TDEV_DATA) = good << 40 | answered << 20 | refused;
	return TEST_PASS;
}
