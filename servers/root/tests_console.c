/* The console server (servers/con) against a driver and a VMM played by
 * the root task: no VCPU, so every port runs it.  The "guest RAM" is three
 * pages of the root's, granted as a VMM grants its guest's; the root
 * writes the virtqueues into them as a guest's driver would, and the
 * shared page's fields as the VMM would. */
#include "servers/lib/vdev.h"
#include "servers/lib/virtq.h"
#include "servers/root/check.h"
#include "servers/root/spawn.h"

#define RAM_IPA 0x40000000ull
#define QSIZE 4
/* In each queue's page: the descriptor table, the avail and used rings. */
#define AVAIL_OFF 0x100
#define USED_OFF 0x200
#define BUF_IPA (RAM_IPA + 2 * PAGE_SIZE_U) /* page 2: the buffers */

struct ring_page {
	struct vq_desc desc[QSIZE];
	uint8_t pad0[AVAIL_OFF - QSIZE * sizeof(struct vq_desc)];
	uint16_t avail_flags, avail_idx, avail_ring[QSIZE], used_event;
	uint8_t pad1[USED_OFF - AVAIL_OFF - (3 + QSIZE) * 2];
	uint16_t used_flags, used_idx;
	struct vq_used_elem used_ring[QSIZE];
};
_Static_assert(__builtin_offsetof(struct ring_page, used_idx) == USED_OFF + 2, "layout");

struct rig {
	struct server con;
	cptr_t ep, kick, irq, page, ram[3];
	volatile struct vdev_shared *sh;
	volatile struct ring_page *q[2];    /* receive, transmit */
	volatile uint8_t *buf;
};

/* A set-up call with copies of c[0..n) (a message moves what it carries,
 * and the root keeps its own: its mappings, its interrupt to poll). */
static err_t call(struct rig *g, uint64_t label, uint64_t a, uint64_t b, const cptr_t *c,
		  unsigned n)
{
	struct sysregs r = { .mr = { a, b }, .nr = SYS_CALL, .cap = g->ep,
			     .info = msginfo(label, 2, n) };
	for (unsigned i = 0; i < n; i++)
		if (!(r.sendcap[i] = slot_alloc()) ||
		    INV4(SYS_CNODE_COPY, ROOT_CNODE, r.sendcap[i], ROOT_CNODE, c[i], R_ALL))
			return E_NOMEM;
	err_t e = sys(&r);
	for (unsigned i = 0; i < n; i++)
		slot_free(r.sendcap[i]); /* empty where the message took them */
	return e ? e : (err_t)r.mr[0];
}

/* Until `done` (evaluated once a round) holds, or 10 s have gone: yielding, since the server may
 * run on this CPU at this task's priority (and a busy host may stop
 * another CPU's for a while). */
#define WAIT_FOR(done) ({ \
	uint64_t t_ = counter_now(), hz_ = counter_freq(); \
	bool ok_; \
	while (!(ok_ = (done)) && counter_now() - t_ < 10 * hz_) \
		INV0(SYS_YIELD, 0); \
	ok_; \
})

/* The interrupt notification's bits, taken (0: none signalled). */
static uint64_t irq_bits(struct rig *g)
{
	struct sysregs r = { .nr = SYS_POLL, .cap = g->irq };
	return sys(&r) ? 0 : r.cap;
}

static bool rig_up(struct rig *g)
{
	extern const char con_image[];
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	g->ep = slot_alloc(), g->kick = new_obj(OBJ_NOTIFICATION, 0);
	g->irq = new_obj(OBJ_NOTIFICATION, 0);
	g->sh = new_page(&g->page);
	g->q[0] = new_page(&g->ram[0]), g->q[1] = new_page(&g->ram[1]);
	g->buf = new_page(&g->ram[2]);
	bool ok = ep && g->ep && g->kick && g->irq && g->sh && g->q[0] && g->q[1] && g->buf &&
		  !inv(SYS_CNODE_MINT, ROOT_CNODE, g->ep, ROOT_CNODE, ep, R_WRITE | R_GRANT, 1, 0, 0) &&
		  !server_create(&g->con, con_image, 16ull << 20, ROOT_PRIO) &&
		  !server_give(&g->con, VDEV_SLOT_EP, ep, R_READ) &&
		  !server_give(&g->con, VDEV_SLOT_KICK, g->kick, R_READ | R_WRITE) &&
		  !server_start(&g->con) &&
		  !call(g, VDEV_SETUP, RAM_IPA, 3 * PAGE_SIZE_U, (cptr_t[]){ g->page, g->irq }, 2) &&
		  !call(g, VDEV_GRANT, RAM_IPA, PAGE_SIZE_U, g->ram, 3);
	if (ep)
		slot_free(ep);
	return ok;
}

static void rig_down(struct rig *g)
{
	if (g->con.mem)
		server_destroy(&g->con);
	cptr_t all[] = { g->ep, g->kick, g->irq, g->page, g->ram[0], g->ram[1], g->ram[2] };
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i])
			slot_free(all[i]);
}

/* The driver's side: both queues set up (as the VMM's registers do), the
 * device live, no event index. */
static void driver_ready(struct rig *g)
{
	for (unsigned k = 0; k < 2; k++) {
		uint64_t base = RAM_IPA + k * PAGE_SIZE_U;
		memset((void *)g->q[k], 0, PAGE_SIZE_U);
		g->sh->q[k] = (struct vdev_queue){ .desc = base, .avail = base + AVAIL_OFF,
						   .used = base + USED_OFF, .num = QSIZE, .ready = 1 };
	}
	g->sh->features = 1ull << VIRTIO_F_VERSION_1;
	g->sh->status = 15;
	g->sh->broken = 0;
	g->sh->generation++;
	INV1(SYS_SIGNAL, g->kick, 1);
}

/* One buffer offered on queue k (0 receive, 1 transmit), the server kicked. */
static void offer(struct rig *g, unsigned k, uint64_t off, uint32_t len, uint16_t flags)
{
	volatile struct ring_page *q = g->q[k];
	uint16_t i = q->avail_idx % QSIZE;
	q->desc[i] = (struct vq_desc){ .addr = BUF_IPA + off, .len = len, .flags = flags };
	q->avail_ring[i] = i;
	__atomic_store_n(&q->avail_idx, q->avail_idx + 1, __ATOMIC_RELEASE);
	INV1(SYS_SIGNAL, g->kick, 1);
}

/* Typed bytes, as the VMM with the console passes them on. */
static void type(struct rig *g, const char *s, uint32_t claim)
{
	uint32_t head = g->sh->in_head;
	for (unsigned i = 0; s[i]; i++)
		g->sh->in[head++ % VDEV_INPUT] = (uint8_t)s[i];
	__atomic_store_n(&g->sh->in_head, claim ? g->sh->in_tail + claim : head, __ATOMIC_RELEASE);
	INV1(SYS_SIGNAL, g->kick, 1);
}

/* Output comes back, input arrives in the receive buffer, and an
 * interrupt is raised for each; a receive buffer is taken only when there
 * is input for it. */
static bool t_console_server(void)
{
	struct accounts before = accounts_read();
	struct rig g = { 0 };
	bool up = rig_up(&g), sent = false, tx_irq = false, waits = false, got = false;
	bool rx_irq = false, said = false;
	if (up) {
		driver_ready(&g);
		memcpy((void *)(g.buf + 0x100), "con: transmit test\n", 19);
		offer(&g, 1, 0x100, 19, 0);
		offer(&g, 0, 0, 64, VQ_DESC_F_WRITE);
		sent = WAIT_FOR(g.q[1]->used_idx == 1) && g.q[1]->used_ring[0].id == 0 &&
		       g.q[1]->used_ring[0].len == 0;
		tx_irq = WAIT_FOR(irq_bits(&g) & 1);
		waits = g.q[0]->used_idx == 0; /* no input: its buffer stays */
		type(&g, "abc", 0);
		got = WAIT_FOR(g.q[0]->used_idx == 1) && g.q[0]->used_ring[0].len == 3 &&
		      !memcmp((const void *)g.buf, "abc", 3) && g.sh->in_tail == 3;
		rx_irq = WAIT_FOR(irq_bits(&g) & 1);
		said = g.sh->device_id == VIRTIO_ID_CONSOLE && g.sh->nqueues == 2 &&
		       g.sh->requests == 2;
	}
	rig_down(&g);
	CHECK(up);
	CHECK(sent);
	CHECK(tx_irq);
	CHECK(waits);
	CHECK(got);
	CHECK(rx_irq);
	CHECK(said);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST("console-server", t_console_server);

/* A lying VMM and a lying driver: an input ring said to hold 1,000 bytes
 * is emptied, not read past its 256; a transmit buffer the device would
 * write, and a receive buffer it would read, each mark the device broken
 * (DEVICE_NEEDS_RESET); after a reset it serves again. */
static bool t_console_server_lies(void)
{
	struct accounts before = accounts_read();
	struct rig g = { 0 };
	bool up = rig_up(&g), emptied = false, tx_broken = false, rx_broken = false, again = false;
	if (up) {
		driver_ready(&g);
		offer(&g, 0, 0, 64, VQ_DESC_F_WRITE);
		type(&g, "x", 1000);
		offer(&g, 1, 0x100, 1, 0); /* served before the input, in the same pass */
		emptied = WAIT_FOR(g.q[1]->used_idx == 1) &&
			  WAIT_FOR(g.sh->in_tail == g.sh->in_head) && g.q[0]->used_idx == 0;
		offer(&g, 1, 0x100, 8, VQ_DESC_F_WRITE);
		tx_broken = WAIT_FOR(g.sh->broken == 1);
		driver_ready(&g);
		offer(&g, 0, 0, 8, 0);
		type(&g, "y", 0);
		rx_broken = WAIT_FOR(g.sh->broken == 1);
		driver_ready(&g);
		offer(&g, 1, 0x100, 1, 0);
		again = WAIT_FOR(g.q[1]->used_idx == 1) && !g.sh->broken;
	}
	rig_down(&g);
	CHECK(up);
	CHECK(emptied);
	CHECK(tx_broken);
	CHECK(rx_broken);
	CHECK(again);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST("console-server-lies", t_console_server_lies);
