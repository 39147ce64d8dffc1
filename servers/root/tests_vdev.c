/* Backends (servers/con, servers/blk, servers/net) against a driver and a
 * VMM played by the root task: no VCPU, so every port runs these.  The
 * "guest RAM" is three pages of the root's, granted as a VMM grants its
 * guest's; the root writes the virtqueues into them as a guest's driver
 * would, and the shared page's fields as the VMM would. */
#include "servers/lib/vdev.h"
#include "servers/lib/virtq.h"
#include "servers/root/check.h"
#include "servers/root/fuzz.h"
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
	struct server srv;
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

static bool rig_up_ep(struct rig *g, const char *image, uint64_t quota, cptr_t *keep_ep);
static bool rig_up(struct rig *g, const char *image, uint64_t quota)
{
	return rig_up_ep(g, image, quota, NULL);
}

/* keep_ep: the unbadged endpoint kept there, for more clients (rig_join) */
static bool rig_up_ep(struct rig *g, const char *image, uint64_t quota, cptr_t *keep_ep)
{
	cptr_t ep = new_obj(OBJ_ENDPOINT, 0);
	g->ep = slot_alloc(), g->kick = new_obj(OBJ_NOTIFICATION, 0);
	g->irq = new_obj(OBJ_NOTIFICATION, 0);
	g->sh = new_page(&g->page);
	g->q[0] = new_page(&g->ram[0]), g->q[1] = new_page(&g->ram[1]);
	g->buf = new_page(&g->ram[2]);
	bool ok = ep && g->ep && g->kick && g->irq && g->sh && g->q[0] && g->q[1] && g->buf &&
		  !inv(SYS_CNODE_MINT, ROOT_CNODE, g->ep, ROOT_CNODE, ep, R_WRITE | R_GRANT, 1, 0, 0) &&
		  !server_create(&g->srv, image, quota, ROOT_PRIO) &&
		  !server_give(&g->srv, VDEV_SLOT_EP, ep, R_READ) &&
		  !server_give(&g->srv, VDEV_SLOT_KICK, g->kick, R_READ | R_WRITE) &&
		  !server_start(&g->srv) &&
		  !call(g, VDEV_SETUP, RAM_IPA, 3 * PAGE_SIZE_U, (cptr_t[]){ g->page, g->irq }, 2) &&
		  !call(g, VDEV_GRANT, RAM_IPA, PAGE_SIZE_U, g->ram, 3);
	if (keep_ep)
		*keep_ep = ep;
	else if (ep)
		slot_free(ep);
	return ok;
}

/* Another client (badge) of the server rig_up_ep started: its own shared
 * page and RAM, the server's kick notification (not its to free). */
static bool rig_join(struct rig *g, cptr_t ep, cptr_t kick, uint64_t badge)
{
	g->ep = slot_alloc(), g->kick = kick, g->irq = new_obj(OBJ_NOTIFICATION, 0);
	g->sh = new_page(&g->page);
	g->q[0] = new_page(&g->ram[0]), g->q[1] = new_page(&g->ram[1]);
	g->buf = new_page(&g->ram[2]);
	return ep && g->ep && g->irq && g->sh && g->q[0] && g->q[1] && g->buf &&
	       !inv(SYS_CNODE_MINT, ROOT_CNODE, g->ep, ROOT_CNODE, ep, R_WRITE | R_GRANT, badge, 0, 0) &&
	       !call(g, VDEV_SETUP, RAM_IPA, 3 * PAGE_SIZE_U, (cptr_t[]){ g->page, g->irq }, 2) &&
	       !call(g, VDEV_GRANT, RAM_IPA, PAGE_SIZE_U, g->ram, 3);
}

static void rig_down(struct rig *g)
{
	if (g->srv.mem)
		server_destroy(&g->srv);
	cptr_t all[] = { g->ep, g->kick, g->irq, g->page, g->ram[0], g->ram[1], g->ram[2] };
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i])
			slot_free(all[i]);
}

/* The driver's side: both queues set up (as the VMM's registers do), the
 * device live with `features`. */
static void driver_live(struct rig *g, uint64_t features)
{
	for (unsigned k = 0; k < 2; k++) {
		uint64_t base = RAM_IPA + k * PAGE_SIZE_U;
		memset((void *)g->q[k], 0, PAGE_SIZE_U);
		g->sh->q[k] = (struct vdev_queue){ .desc = base, .avail = base + AVAIL_OFF,
						   .used = base + USED_OFF, .num = QSIZE, .ready = 1 };
	}
	g->sh->features = features;
	g->sh->status = 15;
	g->sh->broken = 0;
	g->sh->generation++;
	INV1(SYS_SIGNAL, g->kick, 1);
}

static void driver_ready(struct rig *g) { driver_live(g, 1ull << VIRTIO_F_VERSION_1); }

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
	extern const char con_image[];
	bool up = rig_up(&g, con_image, 16ull << 20), sent = false, tx_irq = false;
	bool waits = false, got = false, rx_irq = false, said = false;
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
	extern const char con_image[];
	bool up = rig_up(&g, con_image, 16ull << 20), emptied = false, tx_broken = false;
	bool rx_broken = false, again = false;
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

/* The flooding client's queue: 64 entries in one page, so that its
 * driver (flood) must fall 64 chains behind before the server finds it
 * empty (a host that stops a CPU for a while). */
#define FLOOD_QSIZE 64
struct flood_ring {
	struct vq_desc desc[FLOOD_QSIZE];
	uint16_t avail_flags, avail_idx, avail_ring[FLOOD_QSIZE], used_event;
	uint16_t seen, seen_n; /* flood: used_idx here when the other's was seen_n */
	uint8_t pad[0x200 - (5 + FLOOD_QSIZE) * 2];
	uint16_t used_flags, used_idx;
	struct vq_used_elem used_ring[FLOOD_QSIZE];
};
_Static_assert(__builtin_offsetof(struct flood_ring, avail_flags) == 0x400, "layout");
_Static_assert(__builtin_offsetof(struct flood_ring, used_flags) == 0x600, "layout");
_Static_assert(sizeof(struct flood_ring) <= PAGE_SIZE_U, "one page");

/* A driver on another CPU that keeps its queue full: each time the server
 * uses a chain the avail index moves on, and the server is kicked (slot
 * FLOOD_KICK) only when it had used them all (it may be waiting): a kick
 * each time would leave it an empty queue while this thread is in the
 * kernel.  That alone can lose the server: it may use the last chain and
 * read the avail index just before this thread, which read `used` one
 * earlier, moves it on, and then sleep, the queue full and no kick to
 * come (seen once in 15 runs of root-tests-uefi beside two CPU hogs).  So
 * a queue left untouched for FLOOD_STALL rounds is kicked too.  It also
 * watches the other client's queue (the next page) and notes how far its
 * own had got each time that one's chain was used. */
#define FLOOD_KICK 2
#define FLOOD_STALL 100000
static void flood(uint64_t unused)
{
	(void)unused;
	volatile struct flood_ring *q = (struct flood_ring *)CHILD_SHARED_VA;
	volatile struct ring_page *other = (struct ring_page *)(CHILD_SHARED_VA + PAGE_SIZE_U);
	struct sysregs kick = { .nr = SYS_SIGNAL, .cap = FLOOD_KICK, .mr = { 1 } };
	uint16_t last = 0;
	for (unsigned still = 0;; still++) {
		/* the other's first: `used` is then no earlier than its chain */
		uint16_t o = __atomic_load_n(&other->used_idx, __ATOMIC_ACQUIRE);
		uint16_t used = __atomic_load_n(&q->used_idx, __ATOMIC_ACQUIRE);
		if (o != q->seen_n) {
			q->seen = used;
			__atomic_store_n(&q->seen_n, o, __ATOMIC_RELEASE);
		}
		if (used != last)
			last = used, still = 0;
		if (still == FLOOD_STALL) {
			struct sysregs r = kick;
			sys(&r);
			still = 0;
		}
		if (q->avail_idx == (uint16_t)(used + FLOOD_QSIZE))
			continue;
		bool drained = q->avail_idx == used;
		__atomic_store_n(&q->avail_idx, (uint16_t)(used + FLOOD_QSIZE), __ATOMIC_RELEASE);
		struct sysregs r = kick;
		if (drained)
			sys(&r);
	}
}

/* A backend and a chain it must serve on queue q: rd readable bytes of
 * req at BUF_IPA, then (if wr) a writable buffer of wr at BUF_IPA + 0x800. */
struct fair_target {
	const char *name, *image;
	uint64_t quota;
	unsigned q, rd, wr;
	const void *req;
};

/* Descriptors d, d + 1: t's chain (the second unused without wr). */
static void chain_at(volatile struct vq_desc *d, const struct fair_target *t)
{
	d[0] = (struct vq_desc){ .addr = BUF_IPA, .len = t->rd,
				 .flags = t->wr ? VQ_DESC_F_NEXT : 0, .next = 1 };
	d[1] = (struct vq_desc){ .addr = BUF_IPA + 0x800, .len = t->wr, .flags = VQ_DESC_F_WRITE };
}

/* g's queue t->q made a flood_ring full of t's chain (head 0 in every
 * entry: the server keeps no chain it used), set up again as a driver does. */
static volatile struct flood_ring *flood_ring(struct rig *g, const struct fair_target *t)
{
	volatile struct flood_ring *f = (volatile struct flood_ring *)g->q[t->q];
	uint64_t base = RAM_IPA + t->q * PAGE_SIZE_U;
	memset((void *)f, 0, PAGE_SIZE_U);
	chain_at(f->desc, t);
	g->sh->q[t->q] = (struct vdev_queue){ .desc = base, .avail = base + 0x400,
					      .used = base + 0x600, .num = FLOOD_QSIZE, .ready = 1 };
	g->sh->generation++;
	return f;
}

/* One client whose driver never lets its queue empty (another VCPU
 * refilling it) must not keep the backend from its other clients: client
 * 2's chain is served within two passes (a queue's worth of client 1's
 * chains each, and as many again the flood may have been ahead), eight
 * times over, and the supervisor's VDEV_FORGET is answered (rig_down).
 * The count, not the wait, tells: without the bound a host that stops the
 * flood's CPU for a while still lets the server find its queue empty now
 * and then (measured: one chain in two served soon that way). */
static bool server_fair(const struct fair_target *t)
{
	struct accounts before = accounts_read();
	struct rig g = { 0 }, h = { 0 };
	struct child f;
	cptr_t ep = 0, fc = 0, hc = 0;
	bool up = rig_up_ep(&g, t->image, t->quota, &ep) && rig_join(&h, ep, g.kick, 2);
	bool flooding = false, served = false, started = false, soon = false;
	if (up) {
		memcpy((void *)g.buf, t->req, t->rd);
		memcpy((void *)h.buf, t->req, t->rd);
		driver_ready(&g);
		driver_ready(&h);
		volatile struct flood_ring *fr = flood_ring(&g, t);
		/* the flood on CPU 1, the server on CPU 0: on one CPU the server
		 * would empty the queue before the flood ran again */
		started = !child_create(&f, flood, 0, ROOT_PRIO - 1);
		bool ok = started && !INV1(SYS_THREAD_SET_AFFINITY, g.srv.thread, 0) &&
			  !child_map(&f, g.ram[t->q], CHILD_SHARED_VA, R_READ | R_WRITE, &fc) &&
			  !child_map(&f, h.ram[t->q], CHILD_SHARED_VA + PAGE_SIZE_U, R_READ, &hc) &&
			  !child_give(&f, FLOOD_KICK, g.kick, R_WRITE) &&
			  !INV1(SYS_THREAD_SET_AFFINITY, f.thread, 1) && !child_start(&f);
		flooding = ok && WAIT_FOR(fr->used_idx > 4 * FLOOD_QSIZE);
		if (ok && !flooding)
			printf("root: %s: the flood stalled: avail %u, used %u\n", t->name,
			       fr->avail_idx, fr->used_idx);
		chain_at(h.q[t->q]->desc, t);
		served = soon = flooding;
		uint16_t most = 0;
		for (uint16_t k = 1; soon && k <= 8; k++) {
			uint16_t u0 = fr->used_idx;
			h.q[t->q]->avail_ring[(k - 1) % QSIZE] = 0;
			__atomic_store_n(&h.q[t->q]->avail_idx, k, __ATOMIC_RELEASE);
			INV1(SYS_SIGNAL, h.kick, 1);
			served = WAIT_FOR(h.q[t->q]->used_idx == k) &&
				 WAIT_FOR(__atomic_load_n(&fr->seen_n, __ATOMIC_ACQUIRE) == k);
			uint16_t after = (uint16_t)(fr->seen - u0);
			soon = served && after <= 4 * FLOOD_QSIZE;
			most = after > most ? after : most;
			if (!soon)
				printf("root: %s: client 2's chain %u %s after %u of client 1's\n",
				       t->name, k, served ? "served" : "not served", after);
		}
		if (soon)
			printf("root: %s: client 2's 8 chains each served within %u of client 1's "
			       "(%u in all)\n", t->name, most, fr->used_idx);
	}
	if (started)
		child_destroy(&f); /* the flood stops: a server held by it goes on */
	if (fc)
		slot_free(fc);
	if (hc)
		slot_free(hc);
	rig_down(&g);
	h.kick = 0; /* g's */
	rig_down(&h);
	if (ep)
		slot_free(ep);
	CHECK(up);
	CHECK(flooding);
	CHECK(served);
	CHECK(soon);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}

static const struct virtio_blk_req blk_in0 = { .type = VIRTIO_BLK_T_IN };
static const uint8_t net_frame[12 + 60] = { [12] = 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					    0x52, 0x54, 0, 0xca, 0x1e, 1, 0x08, 0x06 };

/* test on each backend: the console server's transmit queue (chains of
 * con_len bytes), the block server's request queue (reads of sector 0),
 * the switch's transmit queue (broadcasts nobody takes). */
static bool each_backend(bool (*test)(const struct fair_target *), unsigned con_len)
{
	extern const char con_image[], blk_image[], net_image[];
	const struct fair_target t[] = {
		{ "con", con_image, 16ull << 20, 1, con_len, 0, "." },
		{ "blk", blk_image, 24ull << 20, 0, 16, 1, &blk_in0 },
		{ "net", net_image, 16ull << 20, 1, 72, 0, net_frame },
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(test(&t[i]));
	return true;
}

/* Each backend beside a flooding client (empty chains to the console). */
static bool t_servers_fair(void)
{
	if (bootinfo->ncpus < 2)
		return true; /* the flood needs a CPU of its own */
	return each_backend(server_fair, 0);
}
ROOT_TEST("vdev-servers-fair", t_servers_fair);

/* --- A VMM that takes back the RAM it granted ----------------------------- */

/* The thread state of g's server (TS_*), or ~0. */
static uint64_t server_state(struct rig *g)
{
	uint64_t r[5];
	return inv(SYS_THREAD_READ_REGS, g->srv.thread, 0, 0, 0, 0, 0, 0, r) ? ~0ull : r[4];
}

/* Client 1's VMM revokes the page its buffers are in, and its driver
 * offers a chain there: the backend faults in client 1's window, its guard
 * drops client 1 (servers/lib/vdev_guard.c), and client 2 is served as
 * before.  Then a fault of the backend's own (its next instruction made
 * unmapped, as the supervisor's crash test does) goes on to the endpoint
 * the supervisor gave it (VDEV_SLOT_FAULT), as an unguarded one would. */
static bool server_revoked(const struct fair_target *t)
{
	struct accounts before = accounts_read();
	struct rig g = { 0 }, h = { 0 };
	cptr_t ep = 0, sup = new_obj(OBJ_ENDPOINT, 0);
	bool up = sup && rig_up_ep(&g, t->image, t->quota, &ep) && rig_join(&h, ep, g.kick, 2) &&
		  !server_give(&g.srv, VDEV_SLOT_FAULT, sup, R_WRITE);
	bool dropped = false, served = false, passed_on = false;
	if (up) {
		driver_ready(&g);
		driver_ready(&h);
		memcpy((void *)h.buf, t->req, t->rd);
		dropped = !INV1(SYS_CNODE_REVOKE, ROOT_CNODE, g.ram[2]);
		chain_at(g.q[t->q]->desc, t);
		g.q[t->q]->avail_ring[0] = 0;
		__atomic_store_n(&g.q[t->q]->avail_idx, 1, __ATOMIC_RELEASE);
		INV1(SYS_SIGNAL, g.kick, 1);
		/* it has faulted, dropped client 1 and is waiting again */
		dropped = dropped && WAIT_FOR(g.sh->generation && server_state(&g) == TS_BLOCKED_RECV &&
					      h.sh != NULL) && g.q[t->q]->used_idx == 0;
		chain_at(h.q[t->q]->desc, t);
		h.q[t->q]->avail_ring[0] = 0;
		__atomic_store_n(&h.q[t->q]->avail_idx, 1, __ATOMIC_RELEASE);
		INV1(SYS_SIGNAL, h.kick, 1);
		served = WAIT_FOR(h.q[t->q]->used_idx == 1);
		uint64_t r[5];
		struct sysregs f = { .nr = SYS_RECV, .cap = sup };
		passed_on = !INV0(SYS_THREAD_SUSPEND, g.srv.thread) &&
			    !inv(SYS_THREAD_READ_REGS, g.srv.thread, 0, 0, 0, 0, 0, 0, r) &&
			    !INV4(SYS_THREAD_WRITE_REGS, g.srv.thread, 0x10, r[1], r[2], r[3]) &&
			    !INV0(SYS_THREAD_RESUME, g.srv.thread) &&
			    WAIT_FOR(server_state(&g) == TS_BLOCKED_SEND) && !sys(&f) &&
			    msginfo_label(f.info) == FAULT_PAGE && f.mr[0] == 0x10;
	}
	rig_down(&g);
	h.kick = 0; /* g's */
	rig_down(&h);
	if (ep)
		slot_free(ep);
	if (sup)
		slot_free(sup);
	if (!served || !passed_on)
		printf("root: %s: revoked RAM: dropped %d, client 2 served %d, own fault passed on %d\n",
		       t->name, dropped, served, passed_on);
	CHECK(up);
	CHECK(dropped);
	CHECK(served);
	CHECK(passed_on);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}

/* Each backend (a byte to the console: a chain it must read). */
static bool t_servers_revoked(void) { return each_backend(server_revoked, 1); }
ROOT_TEST("vdev-ram-revoked", t_servers_revoked);

/* --- Fuzzing: random queue contents against each backend ---------------- */

static uint64_t rnd_state;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13, rnd_state ^= rnd_state >> 7, rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* An address a lying driver might give: mostly in its RAM, else at its
 * edges, in its rings, or anywhere at all. */
static uint64_t fuzz_addr(void)
{
	switch (rnd() % 8) {
	case 0: return rnd();
	case 1: return RAM_IPA + 3 * PAGE_SIZE_U - rnd() % 64;
	case 2: return RAM_IPA - rnd() % 4096;
	case 3: return RAM_IPA + rnd() % (2 * PAGE_SIZE_U); /* the rings */
	default: return BUF_IPA + rnd() % PAGE_SIZE_U;
	}
}

/* Mostly short: the console server writes what it is given out. */
static uint32_t fuzz_len(void)
{
	switch (rnd() % 8) {
	case 0: return (uint32_t)rnd();
	case 1: return 0;
	case 2: return (uint32_t)(rnd() % 2048);
	default: return (uint32_t)(rnd() % 24);
	}
}

/* One lie in a chain of queue q, whose descriptors are d[0..n). */
static void fuzz_lie(volatile struct ring_page *q, const uint16_t *d, unsigned n)
{
	volatile struct vq_desc *x = &q->desc[d[rnd() % n]];
	switch (rnd() % 7) {
	case 0: x->addr = fuzz_addr(); break;
	case 1: x->len = fuzz_len() | 0x80000000u; break;
	case 2: x->flags = (uint16_t)(rnd() % 8); break;      /* INDIRECT, a stray WRITE or NEXT */
	case 3: x->next = (uint16_t)rnd(); break;             /* beyond the table */
	case 4: x->flags |= VQ_DESC_F_NEXT, x->next = d[0]; break; /* a loop */
	case 5: x->flags ^= VQ_DESC_F_WRITE; break;           /* readable after writable */
	default: q->avail_ring[(q->avail_idx - 1) % QSIZE] = (uint16_t)rnd(); break;
	}
}

/* How a queue's chains are made: all readable, all writable, a
 * virtio-blk request's (a 16-byte header read, a status byte written). */
enum shape { READ, WRITE, BLK };

/* 1 to 3 chains on queue k (of 1 to 4 buffers in its buffer page, of the
 * shape the device expects, the bytes random), one in three with a lie in
 * it; now and then the driver claims far more new entries than the queue
 * has. */
static unsigned fuzz_queue(struct rig *g, unsigned k, enum shape shape)
{
	volatile struct ring_page *q = g->q[k];
	unsigned chains = 1 + rnd() % 3, next = 0;
	for (unsigned c = 0; c < chains && next < QSIZE; c++) {
		uint16_t d[QSIZE];
		unsigned n = (shape == BLK ? 2 : 1) + rnd() % 3;
		unsigned rd = shape == READ ? n : shape == WRITE ? 0 : 1 + rnd() % (n - 1);
		for (unsigned i = 0; i < n && next < QSIZE; i++) {
			uint32_t len = shape == BLK && i == 0 ? 16 : 1 + rnd() % 256;
			if (shape == BLK && i > 0)
				len = i + 1 == n ? 1 : 512 * (1 + rnd() % 4);
			d[i] = (uint16_t)next++;
			q->desc[d[i]] = (struct vq_desc){ .addr = BUF_IPA + rnd() % (PAGE_SIZE_U - len),
							  .len = len, .flags = i < rd ? 0 : VQ_DESC_F_WRITE,
							  .next = (uint16_t)next };
			if (i + 1 < n && next < QSIZE)
				q->desc[d[i]].flags |= VQ_DESC_F_NEXT;
			else
				n = i + 1;
		}
		q->avail_ring[q->avail_idx % QSIZE] = d[0];
		__atomic_store_n(&q->avail_idx, q->avail_idx + 1, __ATOMIC_RELEASE);
		if (rnd() % 3 == 0)
			fuzz_lie(q, d, n);
	}
	q->used_event = (uint16_t)rnd();
	q->avail_flags = (uint16_t)(rnd() % 2);
	if (rnd() % 50 == 0)
		__atomic_store_n(&q->avail_idx, q->avail_idx + 100, __ATOMIC_RELEASE);
	return chains;
}

/* The backend has nothing left to do: it waits for a message. */
static bool idle(struct rig *g)
{
	uint64_t r[5];
	return !inv(SYS_THREAD_READ_REGS, g->srv.thread, 0, 0, 0, 0, 0, 0, r) &&
	       r[4] == TS_BLOCKED_RECV;
}

/* What each backend is, and one request it must complete: queue `q`, a
 * chain of readable then writable buffers (lengths; 0: none). */
struct fuzz_target {
	const char *name, *image;
	uint64_t quota, features;
	unsigned queues;                   /* bit k: fuzz queue k */
	enum shape shape[2];               /* its chains */
	unsigned q, rd, wr;                /* the good request */
	const void *req;                   /* its readable bytes */
	const char *input;                 /* typed after it is offered */
};

/* The good request on queue t->q, after a reset: it must come back used. */
static bool good_request(struct rig *g, const struct fuzz_target *t)
{
	volatile struct ring_page *q = g->q[t->q];
	unsigned n = 0;
	memcpy((void *)g->buf, t->req, t->rd);
	if (t->rd)
		q->desc[n++] = (struct vq_desc){ .addr = BUF_IPA, .len = t->rd,
						 .flags = t->wr ? VQ_DESC_F_NEXT : 0, .next = 1 };
	if (t->wr)
		q->desc[n++] = (struct vq_desc){ .addr = BUF_IPA + 0x800, .len = t->wr,
						 .flags = VQ_DESC_F_WRITE };
	q->avail_ring[0] = 0;
	__atomic_store_n(&q->avail_idx, 1, __ATOMIC_RELEASE);
	INV1(SYS_SIGNAL, g->kick, 1);
	if (t->input)
		type(g, t->input, 0);
	return WAIT_FOR(q->used_idx == 1) && !g->sh->broken;
}

/* Chains offered, used-ring entries seen (a chain may point into the used
 * ring, so this is a rough count), devices broken. */
struct fuzz_count { uint64_t offered, served, broken; };

/* The device live with or without the event index, at random. */
static void fuzz_live(struct rig *g, const struct fuzz_target *t)
{
	driver_live(g, rnd() % 2 ? t->features : t->features | 1ull << VIRTIO_RING_F_EVENT_IDX);
}

/* One kick's worth of lies: the backend must be done with it (waiting
 * again) before the rings change under it once more; a device it marked
 * broken is reset, as a driver would. */
static bool fuzz_kick(struct rig *g, const struct fuzz_target *t, struct fuzz_count *n)
{
	uint16_t used = g->q[0]->used_idx + g->q[1]->used_idx;
	for (unsigned k = 0; k < 2; k++)
		if (t->queues >> k & 1)
			n->offered += fuzz_queue(g, k, t->shape[k]);
	type(g, "fuzz", rnd() % 8 ? 0 : (uint32_t)rnd()); /* kicks it */
	if (!WAIT_FOR(idle(g)))
		return false;
	n->served += (uint16_t)(g->q[0]->used_idx + g->q[1]->used_idx - used);
	if (g->sh->broken)
		n->broken++, fuzz_live(g, t);
	return true;
}

/* Rounds of random chains, each round then a reset and a good request
 * that must complete: a backend that faulted, hung or touched memory
 * outside the guest's (it has nothing else of the guest's mapped) fails
 * it.  False on a failure. */
static bool fuzz_backend(const struct fuzz_target *t, unsigned rounds, struct fuzz_count *n)
{
	struct accounts before = accounts_read();
	struct rig g = { 0 };
	bool up = rig_up(&g, t->image, t->quota), ok = up;
	for (unsigned r = 0; ok && r < rounds; r++) {
		for (unsigned i = 0; i < PAGE_SIZE_U; i++) /* headers, frames; the console's in letters */
			g.buf[i] = (uint8_t)(t->input ? 'a' + rnd() % 26 : rnd());
		fuzz_live(&g, t);
		for (unsigned kicks = 0; ok && kicks < 4; kicks++)
			ok = fuzz_kick(&g, t, n);
		driver_ready(&g);
		ok = ok && WAIT_FOR(idle(&g)) && good_request(&g, t);
		if (!ok)
			printf("root: fuzz %s: round %u failed\n", t->name, r);
	}
	rig_down(&g);
	return up && ok && accounts_equal(before, accounts_read());
}

/* The block server offers multiqueue (VIRTIO_BLK_F_MQ, num_queues 4 in its
 * configuration) and serves each queue on its own: a read on queue 1
 * comes back on queue 1's used ring, one on queue 0 on queue 0's. */
static bool t_blk_multiqueue(void)
{
	extern const char blk_image[];
	struct accounts before = accounts_read();
	struct rig g = { 0 };
	const struct fuzz_target t1 = { "blk", blk_image, 24ull << 20, 0, 0, { BLK }, 1, 16, 1,
					 &blk_in0, NULL };
	struct fuzz_target t0 = t1;
	t0.q = 0;
	bool up = rig_up(&g, blk_image, 24ull << 20), said = false, q1 = false, q0 = false;
	if (up) {
		uint16_t nq = 0;
		memcpy(&nq, (const void *)(g.sh->config + VIRTIO_BLK_CFG_NUM_QUEUES), 2);
		said = g.sh->nqueues == 4 && nq == 4 && (g.sh->offered >> VIRTIO_BLK_F_MQ & 1);
		driver_ready(&g);
		q1 = good_request(&g, &t1) && g.q[1]->used_ring[0].len == 1 && g.q[0]->used_idx == 0;
		q0 = good_request(&g, &t0) && g.q[0]->used_ring[0].len == 1 && g.q[1]->used_idx == 1;
	}
	rig_down(&g);
	CHECK(up);
	CHECK(said);
	CHECK(q1);
	CHECK(q0);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST("blk-multiqueue", t_blk_multiqueue);

/* --- The switch's multiqueue --------------------------------------------- */

/* Queue i of a multiqueue port: four to a page, in the rig's two ring pages. */
static volatile struct ring_page *mq_ring(struct rig *g, unsigned i)
{
	return (volatile struct ring_page *)((uintptr_t)g->q[i % 2] + i / 2 * 0x400);
}

/* g's device live with multiqueue and the control queue: receive and
 * transmit of two pairs (queues 0-3), control (queue 4). */
static void mq_live(struct rig *g)
{
	memset((void *)g->q[0], 0, PAGE_SIZE_U);
	memset((void *)g->q[1], 0, PAGE_SIZE_U);
	for (unsigned i = 0; i < 5; i++) {
		uint64_t base = RAM_IPA + i % 2 * PAGE_SIZE_U + i / 2 * 0x400;
		g->sh->q[i] = (struct vdev_queue){ .desc = base, .avail = base + AVAIL_OFF,
						   .used = base + USED_OFF, .num = QSIZE, .ready = 1 };
	}
	g->sh->features = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MQ |
			  1ull << VIRTIO_NET_F_CTRL_VQ;
	g->sh->status = 15;
	g->sh->broken = 0;
	g->sh->generation++;
	INV1(SYS_SIGNAL, g->kick, 1);
}

/* Chain d[0..n) offered on g's queue i: one descriptor at the entry's own
 * place, a longer chain from 0 (one at a time). */
static void mq_offer(struct rig *g, unsigned i, const struct vq_desc *d, unsigned n)
{
	volatile struct ring_page *q = mq_ring(g, i);
	uint16_t at = n > 1 ? 0 : q->avail_idx % QSIZE;
	for (unsigned k = 0; k < n; k++) {
		q->desc[at + k] = d[k];
		q->desc[at + k].next = (uint16_t)(at + k + 1);
	}
	q->avail_ring[q->avail_idx % QSIZE] = at;
	__atomic_store_n(&q->avail_idx, q->avail_idx + 1, __ATOMIC_RELEASE);
	INV1(SYS_SIGNAL, g->kick, 1);
}

/* A control command (class, command, pairs) on g's queue 4: its ack, or
 * -1 when it was not used. */
static int mq_command(struct rig *g, uint8_t class, uint8_t cmd, uint16_t pairs)
{
	volatile uint8_t *c = g->buf;
	uint16_t used = mq_ring(g, 4)->used_idx;
	c[0] = class, c[1] = cmd, c[2] = (uint8_t)pairs, c[3] = (uint8_t)(pairs >> 8), c[16] = 0xee;
	mq_offer(g, 4, (const struct vq_desc[]){ { .addr = BUF_IPA, .len = 2, .flags = VQ_DESC_F_NEXT },
						 { .addr = BUF_IPA + 2, .len = 2, .flags = VQ_DESC_F_NEXT },
						 { .addr = BUF_IPA + 16, .len = 1, .flags = VQ_DESC_F_WRITE } }, 3);
	return WAIT_FOR(mq_ring(g, 4)->used_idx != used) ? c[16] : -1;
}

/* Each of g's two receive queues filled up with buffers of 0x80 in the
 * buffer page's upper half. */
static void mq_refill(struct rig *g)
{
	for (unsigned k = 0; k < 2; k++)
		for (volatile struct ring_page *q = mq_ring(g, 2 * k); q->avail_idx - q->used_idx < QSIZE;)
			mq_offer(g, 2 * k, &(struct vq_desc){ .addr = BUF_IPA + 0x800 +
							     (k * 4 + q->avail_idx % 4) * 0x80,
							     .len = 0x80, .flags = VQ_DESC_F_WRITE }, 1);
}

/* An IPv4 UDP frame from h (source port sport) or, sport 0, an ARP one:
 * through h's transmit queue, into one of g's receive queues.  Which one
 * (0 or 1), or -1. */
static int mq_frame(struct rig *g, struct rig *h, uint16_t sport)
{
	mq_refill(g);
	uint8_t f[12 + 60] = { [12] = 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0xca, 0x1e, 2,
			       0x08, 0x06 };
	if (sport) { /* 10.0.2.16:sport to 10.0.2.15:7 */
		static const uint8_t ip[] = { 0x08, 0x00, 0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0,
					      10, 0, 2, 16, 10, 0, 2, 15 };
		memcpy(f + 24, ip, sizeof(ip));
		f[46] = (uint8_t)(sport >> 8), f[47] = (uint8_t)sport, f[49] = 7;
	}
	uint16_t was[2] = { mq_ring(g, 0)->used_idx, mq_ring(g, 2)->used_idx };
	uint16_t sent = h->q[1]->used_idx;
	memcpy((void *)(h->buf + 0x100), f, sizeof(f));
	offer(h, 1, 0x100, sizeof(f), 0);
	if (!WAIT_FOR(h->q[1]->used_idx != sent))
		return -1;
	if (!WAIT_FOR(mq_ring(g, 0)->used_idx != was[0] || mq_ring(g, 2)->used_idx != was[1]))
		return -1;
	return mq_ring(g, 0)->used_idx != was[0] ? 0 : 1;
}

/* A guest that takes multiqueue gets two queue pairs and a control queue:
 * until it sets two pairs every frame comes to receive queue 0; then an
 * IPv4 flow keeps one queue and flows spread over both, non-IP frames stay
 * on 0; its second transmit queue is served; a bad count is refused
 * (VIRTIO_NET_ERR) and a writable command breaks the device. */
static bool t_net_multiqueue(void)
{
	extern const char net_image[];
	struct accounts before = accounts_read();
	struct rig g = { 0 }, h = { 0 };
	cptr_t ep = 0;
	bool up = rig_up_ep(&g, net_image, 16ull << 20, &ep) && rig_join(&h, ep, g.kick, 2);
	bool said = false, one = false, set = false, spread = false, kept = false, arp = false;
	bool tx1 = false, refused = false, broke = false;
	if (up) {
		said = g.sh->nqueues == 5 && g.sh->config[8] == 2 && (g.sh->offered >> VIRTIO_NET_F_MQ & 1);
		mq_live(&g);
		driver_ready(&h);
		one = mq_frame(&g, &h, 1000) == 0 && mq_frame(&g, &h, 1001) == 0;
		set = mq_command(&g, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2) == VIRTIO_NET_OK;
		unsigned seen[2] = { 0, 0 };
		int first = mq_frame(&g, &h, 2000);
		for (uint16_t port = 2001; port < 2005 && first >= 0; port++) {
			int k = mq_frame(&g, &h, port);
			seen[k < 0 ? 0 : k] += k >= 0;
		}
		spread = first >= 0 && seen[0] + seen[1] == 4 && seen[0] + (first == 0) && seen[1] + (first == 1);
		kept = first >= 0 && mq_frame(&g, &h, 2000) == first;
		arp = mq_frame(&g, &h, 0) == 0;
		offer(&h, 0, 0x800, 0x80, VQ_DESC_F_WRITE);
		memcpy((void *)(g.buf + 0x100), net_frame, sizeof(net_frame));
		mq_offer(&g, 3, &(struct vq_desc){ .addr = BUF_IPA + 0x100, .len = sizeof(net_frame) }, 1);
		tx1 = WAIT_FOR(h.q[0]->used_idx == 1) && h.q[0]->used_ring[0].len == sizeof(net_frame);
		refused = mq_command(&g, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 3) ==
				  VIRTIO_NET_ERR &&
			  mq_command(&g, 1, 0, 0) == VIRTIO_NET_ERR && !g.sh->broken;
		mq_offer(&g, 4, &(struct vq_desc){ .addr = BUF_IPA, .len = 8, .flags = VQ_DESC_F_WRITE }, 1);
		broke = WAIT_FOR(g.sh->broken == 1);
	}
	rig_down(&g);
	h.kick = 0; /* g's */
	rig_down(&h);
	if (ep)
		slot_free(ep);
	CHECK(up);
	CHECK(said);
	CHECK(one);
	CHECK(set);
	CHECK(spread);
	CHECK(kept);
	CHECK(arp);
	CHECK(tx1);
	CHECK(refused);
	CHECK(broke);
	CHECK(accounts_equal(before, accounts_read()));
	return true;
}
ROOT_TEST("net-multiqueue", t_net_multiqueue);

/* vdev.rounds=N rounds per backend (default 40; scenario vdev-fuzz more),
 * of about 8 chains each: the console server's both queues, the block
 * server's request queue, the switch's transmit queue.  The console
 * server writes out all it is given (onto the console), so it gets a
 * sixty-fourth of the rounds, 10 at least.
 * vdev.seed=N repeats a run. */
static bool t_vdev_fuzz(void)
{
	extern const char con_image[], blk_image[], net_image[];
	const struct fuzz_target targets[] = {
		{ "con", con_image, 16ull << 20, 1ull << VIRTIO_F_VERSION_1, 3, { WRITE, READ },
		  0, 0, 8, NULL, "z" },
		{ "blk", blk_image, 24ull << 20, 1ull << VIRTIO_F_VERSION_1, 1, { BLK },
		  0, 16, 1, &blk_in0, NULL },
		{ "net", net_image, 16ull << 20, 1ull << VIRTIO_F_VERSION_1, 2, { READ, READ },
		  1, 72, 0, net_frame, NULL },
	};
	uint64_t rounds = bootarg_u64("vdev.rounds=", 40);
	rnd_state = fuzz_seed("vdev.seed=");
	printf("root: vdev fuzz: seed %lu\n", rnd_state);
	CHECK(rounds >= 1 && rounds <= 100000);
	for (unsigned i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct fuzz_count n = { 0 };
		/* at least 10 (or all): one round may hold no lie at all */
		unsigned r = (unsigned)rounds;
		if (targets[i].input)
			r = rounds / 64 > 10 ? (unsigned)(rounds / 64) : rounds < 10 ? r : 10;
		bool ok = fuzz_backend(&targets[i], r, &n);
		printf("root: vdev fuzz: %s: %lu random chains offered, %lu used entries, the device "
		       "broken %lu times; %u good requests after them %s\n", targets[i].name,
		       n.offered, n.served, n.broken, r, ok ? "all completed" : "did not");
		CHECK(ok && n.served && n.broken);
	}
	return true;
}
ROOT_TEST("vdev-fuzz", t_vdev_fuzz);
