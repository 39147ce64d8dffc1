/* The net server: a virtual Ethernet switch.  Its ports are guests'
 * virtio-net devices (servers/lib/vdev.h: each VMM that connects is a port,
 * told apart by the badge the root task minted on its endpoint) and, when
 * the machine has a NIC, the uplink: the NIC driver's channel
 * (servers/lib/netchan.h).  It learns which port each source address is
 * behind and sends a frame to that port alone; broadcast, multicast and
 * unknown destinations go to every other port.
 *
 * A guest that takes multiqueue (VIRTIO_NET_F_MQ) gets PAIRS queue pairs
 * and a control queue, and says through it how many it uses: its frames
 * are taken from every transmit queue, and a frame to it goes to the
 * receive queue its IPv4 flow hashes to, so one flow keeps one queue (and
 * its order), and a guest's CPUs each take their own.
 *
 * A frame from the NIC is copied once, from the driver's receive buffer
 * into the guest's; one from a guest to an address learnt behind the
 * uplink once, gathered straight into a free transmit buffer of the NIC's;
 * any other twice, gathered into a buffer here first, so that a frame
 * between guests never passes through memory the driver sees.  No guest
 * or driver ever maps another's memory.  Guest input is never trusted (the
 * queue library checks every ring entry; a frame's length is checked
 * here); a guest that breaks a rule of the queues gets its device marked
 * broken, as the block server does. */
#include "servers/lib/netchan.h"
#include "servers/lib/vdev_client.h"
#include "servers/root/root.h"

#define PORTS 4                  /* guests */
#define UPLINK PORTS             /* the NIC's port number */
#define MACS 64
#define MAX_SEGS 64
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define PAIRS 2                  /* queue pairs a multiqueue guest gets */
_Static_assert(2 * PAIRS + 1 <= VDEV_QUEUES, "in the shared page");

const struct bootinfo *bootinfo;

struct port {
	struct vdev_client v;
	struct virtq rxq[PAIRS], txq[PAIRS], ctrlq;
	unsigned pairs;            /* receive queues in use: what the driver set, 1 at first */
	bool restarted;            /* this switch is new to the port's driver (its last died) */
	bool signal;               /* its used rings grew and it wants to know */
	uint64_t dropped;
};

static struct port ports[PORTS];
static volatile struct netchan *chan;       /* the uplink, or NULL */
static uint8_t *nicdata = (uint8_t *)NETCHAN_DATA_VA;
static uint64_t tx_free = ~0ull;             /* the uplink's transmit buffers we hold */
static bool kick_nic, uplink_up, progress;
static uint32_t acked;                       /* the driver instance we let go for */
static uint64_t uplink_frames;
static struct { uint8_t mac[6]; uint8_t port; bool used; } macs[MACS];
static unsigned mac_next;
static uint8_t frame[NETCHAN_BUF_BYTES];     /* a guest's frame, gathered */
static const uint8_t hdr[NETCHAN_HDR] = { [10] = 1 }; /* virtio_net_hdr_v1: num_buffers 1 */
_Static_assert(NETCHAN_BUFS == 64, "tx_free is one word");

static bool is_port(unsigned p) { return p < PORTS ? vdev_client_ready(&ports[p].v) : uplink_up; }

static void learn(const uint8_t *src, unsigned port)
{
	if (src[0] & 1)
		return; /* a multicast source is a lie */
	unsigned i;
	for (i = 0; i < MACS && !(macs[i].used && !memcmp(macs[i].mac, src, 6)); i++)
		;
	if (i == MACS) /* new: the oldest entry goes */
		i = mac_next++ % MACS;
	memcpy(macs[i].mac, src, 6);
	macs[i].port = (uint8_t)port, macs[i].used = true;
}

static int lookup(const uint8_t *dst)
{
	for (unsigned i = 0; i < MACS && !(dst[0] & 1); i++)
		if (macs[i].used && !memcmp(macs[i].mac, dst, 6))
			return macs[i].port;
	return -1;
}

static void broken(struct port *p)
{
	p->v.sh->broken = 1;
	__atomic_fetch_or(&p->v.sh->isr, VDEV_ISR_CONFIG, __ATOMIC_RELEASE);
	INV1(SYS_SIGNAL, p->v.irq, 1);
}

/* Copy out `len` bytes: a fresh header, then the frame after src's. */
static void copy_out(uint8_t *to, const uint8_t *src, uint32_t off, uint32_t len)
{
	if (off < NETCHAN_HDR) {
		uint32_t k = NETCHAN_HDR - off < len ? NETCHAN_HDR - off : len;
		memcpy(to, hdr + off, k);
		to += k, off += k, len -= k;
	}
	memcpy(to, src + off, len);
}

/* The receive queue of p's that frame f (header included, len bytes) goes
 * to: its IPv4 flow's (the addresses, and the ports of TCP and UDP),
 * folded over the queues in use; anything else, queue 0. */
static struct virtq *rx_queue(struct port *p, const uint8_t *f, uint32_t len)
{
	const uint8_t *e = f + NETCHAN_HDR, *ip = e + 14;
	if (p->pairs < 2 || len < NETCHAN_HDR + 14 + 24 || e[12] != 0x08 || e[13] != 0)
		return &p->rxq[0];
	bool ports = ip[0] == 0x45 && (ip[9] == 6 || ip[9] == 17);
	uint32_t h = 0;
	for (unsigned i = 12; i < (ports ? 24u : 20u); i++)
		h = h * 31 + ip[i];
	return &p->rxq[h % p->pairs];
}

/* One frame (src: header included, len bytes) into port p's receive
 * buffers. */
static void to_guest(struct port *p, const uint8_t *src, uint32_t len)
{
	struct vq_buf b[MAX_SEGS];
	struct virtq *q = rx_queue(p, src, len);
	int head = q->size && !p->v.sh->broken ? virtq_next(q) : VQ_EMPTY;
	if (head == VQ_EMPTY) {
		p->dropped++; /* no buffer posted: as a full NIC would */
		return;
	}
	int n = head >= 0 ? virtq_chain(q, &p->v.gm, (uint16_t)head, b, MAX_SEGS) : head;
	uint32_t done = 0;
	for (int i = 0; i < n && done < len; i++) {
		uint32_t k = len - done < b[i].len ? len - done : b[i].len;
		if (!b[i].write) {
			n = VQ_BROKEN;
			break;
		}
		copy_out(b[i].va, src, done, k);
		done += k;
	}
	if (n < 0) {
		broken(p);
		return;
	}
	virtq_push(q, (uint16_t)head, done);
	p->v.sh->requests++;
	p->signal |= virtq_wants_interrupt(q);
}

static uint8_t *tx_buf(unsigned buf) { return nicdata + NETCHAN_TX_OFF + buf * NETCHAN_BUF_BYTES; }

static void to_uplink(const uint8_t *src, uint32_t len)
{
	if (!tx_free) {
		chan->dropped++;
		return;
	}
	/* a guest's frame may already lie in a free buffer (from_guest) */
	uintptr_t in = (uintptr_t)src - (uintptr_t)tx_buf(0);
	unsigned buf = in < NETCHAN_BUFS * NETCHAN_BUF_BYTES ? in / NETCHAN_BUF_BYTES
							      : (unsigned)__builtin_ctzll(tx_free);
	uint8_t *to = tx_buf(buf);
	copy_out(to, src, 0, to == src ? NETCHAN_HDR : len); /* a frame in place: its header */
	if (netring_push(&chan->tx, buf | (uint64_t)len << 16)) {
		tx_free &= ~(1ull << buf);
		kick_nic = true;
		if (progress && !(++uplink_frames % NET_PROGRESS_EVERY))
			INV1(SYS_SIGNAL, NET_SLOT_PROGRESS, 2);
	}
}

static void to_port(unsigned p, const uint8_t *f, uint32_t len)
{
	if (p == UPLINK)
		to_uplink(f, len);
	else
		to_guest(&ports[p], f, len);
}

/* Frame f (header and len bytes in all) came from port src.  Its addresses
 * are read once, here: f may be memory the sender can still write. */
static void forward(unsigned src, const uint8_t *f, uint32_t len)
{
	uint8_t addr[12];
	if (len < NETCHAN_HDR + 14 || len > NETCHAN_HDR + NETCHAN_FRAME_MAX)
		return;
	memcpy(addr, f + NETCHAN_HDR, sizeof(addr)); /* destination, source */
	learn(addr + 6, src);
	int dst = lookup(addr);
	if (dst >= 0 && (unsigned)dst != src && is_port((unsigned)dst)) {
		to_port((unsigned)dst, f, len);
		return;
	}
	/* broadcast, multicast, unknown: the uplink last, so that a frame in
	 * its transmit buffer is copied to guests before the driver has it */
	for (unsigned p = 0; p <= UPLINK; p++)
		if (p != src && is_port(p))
			to_port(p, f, len);
}

/* A guest's frame (chain b, n buffers) goes to the uplink alone: its
 * destination, as it reads now, was learnt there.  Then it is gathered in
 * a transmit buffer of the uplink's, if one is free: -1 if not. */
static int uplink_buffer(const struct vq_buf *b, int n)
{
	uint8_t dst[6];
	uint32_t got = 0, off = NETCHAN_HDR;
	if (!uplink_up || !tx_free)
		return -1;
	for (int i = 0; i < n && got < sizeof(dst); i++) {
		uint32_t k = b[i].len > off ? b[i].len - off : 0;
		k = k < sizeof(dst) - got ? k : sizeof(dst) - got;
		memcpy(dst + got, b[i].va + off, k);
		got += k, off -= off < b[i].len ? off : b[i].len;
	}
	return got == sizeof(dst) && lookup(dst) == UPLINK ? __builtin_ctzll(tx_free) : -1;
}

/* Port pi's transmit queue q: the frames it holds, a queue's worth at most
 * (vdev_backend).  True if some may be left. */
static bool from_guest(unsigned pi, struct virtq *q)
{
	struct port *p = &ports[pi];
	struct vq_buf b[MAX_SEGS];
	int head = VQ_EMPTY;
	unsigned left = q->size;
	while (left && !p->v.sh->broken && (head = virtq_next(q)) >= 0) {
		left--;
		int n = virtq_chain(q, &p->v.gm, (uint16_t)head, b, MAX_SEGS);
		uint32_t len = 0;
		int tx = uplink_buffer(b, n);
		uint8_t *f = tx >= 0 ? tx_buf((unsigned)tx) : frame; /* free: ours to write */
		_Static_assert(sizeof(frame) == NETCHAN_BUF_BYTES, "either holds a frame");
		for (int i = 0; i < n && len <= sizeof(frame); i++) {
			if (b[i].write || b[i].len > sizeof(frame) - len) {
				len = sizeof(frame) + 1; /* too long, or not a transmit buffer */
				break;
			}
			memcpy(f + len, b[i].va, b[i].len);
			len += b[i].len;
		}
		if (n < 0 || len > sizeof(frame)) {
			broken(p);
			return false;
		}
		virtq_push(q, (uint16_t)head, 0);
		p->v.sh->requests++;
		p->signal |= virtq_wants_interrupt(q);
		forward(pi, f, len);
	}
	if (head == VQ_BROKEN)
		broken(p);
	return q->size && !left;
}

/* One control command's answer: VQ_PAIRS_SET (1 to PAIRS, once the driver
 * took multiqueue) is the only one there is.  in: the readable bytes. */
static uint8_t command(struct port *p, const uint8_t *in, unsigned n)
{
	uint16_t pairs = n >= 4 ? (uint16_t)(in[2] | in[3] << 8) : 0;
	if (!(p->v.sh->features >> VIRTIO_NET_F_MQ & 1) || in[0] != VIRTIO_NET_CTRL_MQ ||
	    in[1] != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || pairs < 1 || pairs > PAIRS)
		return VIRTIO_NET_ERR;
	p->pairs = p->v.sh->pairs = pairs; /* kept there for a switch after this one */
	return VIRTIO_NET_OK;
}

/* Port p's control queue: readable command bytes, then a writable ack; a
 * chain of another shape breaks the device.  A queue's worth at most. */
static bool control(struct port *p)
{
	struct vq_buf b[4];
	int head = VQ_EMPTY;
	unsigned left = p->ctrlq.size;
	while (left && !p->v.sh->broken && (head = virtq_next(&p->ctrlq)) >= 0) {
		int n = virtq_chain(&p->ctrlq, &p->v.gm, (uint16_t)head, b, 4);
		uint8_t in[4];
		unsigned got = 0;
		left--;
		for (int i = 0; i < n - 1 && n >= 2; i++) {
			unsigned k = b[i].len < sizeof(in) - got ? b[i].len : sizeof(in) - got;
			memcpy(in + got, b[i].va, k); /* once: the guest may rewrite it */
			got += k;
			n = b[i].write ? VQ_BROKEN : n;
		}
		if (n < 2 || got < 2 || !b[n - 1].write || !b[n - 1].len) {
			broken(p);
			return false;
		}
		*b[n - 1].va = command(p, in, got);
		virtq_push(&p->ctrlq, (uint16_t)head, 1);
		p->signal |= virtq_wants_interrupt(&p->ctrlq);
	}
	if (head == VQ_BROKEN)
		broken(p);
	return p->ctrlq.size && !left;
}

/* The uplink: frames the NIC received (a ring's worth at most: its driver
 * is no more trusted than a guest), buffers it has sent.  True if frames
 * may be left. */
static bool from_uplink(void)
{
	uint64_t v;
	unsigned buf, len, left = NETCHAN_BUFS;
	if (!chan)
		return false;
	uint32_t epoch = __atomic_load_n(&chan->epoch, __ATOMIC_ACQUIRE);
	if (epoch != acked) { /* a new driver: the rings are its now */
		uplink_up = false;
		tx_free = ~0ull;
		acked = epoch;
		__atomic_store_n(&chan->acked, epoch, __ATOMIC_RELEASE);
		INV1(SYS_SIGNAL, NET_SLOT_DRIVER, NETCHAN_KICK);
		return false;
	}
	if (!uplink_up)
		uplink_up = __atomic_load_n(&chan->up, __ATOMIC_ACQUIRE);
	if (!uplink_up)
		return false;
	for (unsigned k = 0; k < NETCHAN_BUFS && netring_pop(&chan->txdone, &v); k++)
		if (netring_entry(v, &buf, &len))
			tx_free |= 1ull << buf;
	while (left && netring_pop(&chan->rx, &v)) {
		left--;
		if (netring_entry(v, &buf, &len)) {
			forward(UPLINK, nicdata + NETCHAN_RX_OFF + buf * NETCHAN_BUF_BYTES, len);
			netring_push(&chan->rxfree, buf);
			if (progress && !(++uplink_frames % NET_PROGRESS_EVERY))
				INV1(SYS_SIGNAL, NET_SLOT_PROGRESS, 2);
		}
	}
	/* Buffers handed back wait for the driver's next interrupt, which
	 * takes them, while the device still holds half the ring: a wake-up
	 * of the driver per batch saved.  Below that it is woken for them. */
	if (chan->rxfree.head - __atomic_load_n(&chan->rxfree.tail, __ATOMIC_ACQUIRE) >=
	    NETCHAN_BUFS / 2)
		kick_nic = true;
	return !left;
}

/* v: p's queue i as the VMM says it is set up (if `on`), or none. */
static void queue_init(struct port *p, struct virtq *v, unsigned i, bool on)
{
	volatile struct vdev_queue *q = &p->v.sh->q[i];
	if (!on || !q->ready || !virtq_init(v, &p->v.gm, q->num, q->desc, q->avail, q->used))
		v->size = 0;
	v->event_idx = p->v.sh->features >> VIRTIO_RING_F_EVENT_IDX & 1;
}

static void queues_clear(struct port *p)
{
	memset(p->rxq, 0, sizeof(p->rxq));
	memset(p->txq, 0, sizeof(p->txq));
	p->ctrlq = (struct virtq){ 0 };
	p->pairs = 1;
}

/* p's queues set up again, or reset: receive and transmit of each pair
 * (one without multiqueue), then control (2 * PAIRS with it, else 2). */
static void refresh(struct port *p)
{
	if (p->v.sh->generation == p->v.generation)
		return;
	p->v.generation = p->v.sh->generation;
	uint64_t f = p->v.sh->features;
	bool mq = f >> VIRTIO_NET_F_MQ & 1;
	unsigned kept = p->v.sh->pairs; /* the VMM's page: checked like anything in it */
	queues_clear(p);
	/* A switch restarted under a running driver takes up the pairs it
	 * set (the driver sets them once); any other change of the queues
	 * (a reset, a new set-up) starts again from one, as the driver does. */
	if (p->restarted && mq && kept >= 1 && kept <= PAIRS) {
		p->pairs = kept;
		printf("net: port %u goes on with its driver's %u queue pairs\n",
		       (unsigned)(p - ports) + 1, kept);
	} else {
		p->v.sh->pairs = 0;
	}
	p->restarted = false;
	for (unsigned k = 0; k < PAIRS; k++) {
		queue_init(p, &p->rxq[k], 2 * k, k == 0 || mq);
		queue_init(p, &p->txq[k], 2 * k + 1, k == 0 || mq);
	}
	queue_init(p, &p->ctrlq, mq ? 2 * PAIRS : 2, f >> VIRTIO_NET_F_CTRL_VQ & 1);
}

static bool serve(void)
{
	bool more;
	for (unsigned i = 0; i < PORTS; i++)
		if (is_port(i))
			refresh(&ports[i]);
	more = from_uplink();
	for (unsigned i = 0; i < PORTS; i++) {
		if (!is_port(i))
			continue;
		for (unsigned k = 0; k < PAIRS; k++)
			more |= from_guest(i, &ports[i].txq[k]);
		more |= control(&ports[i]);
	}
	for (unsigned i = 0; i < PORTS; i++) {
		struct port *p = &ports[i];
		if (p->v.sh && p->signal) {
			__atomic_fetch_or(&p->v.sh->isr, VDEV_ISR_USED, __ATOMIC_RELEASE);
			INV1(SYS_SIGNAL, p->v.irq, 1);
		}
		p->signal = false;
	}
	if (kick_nic)
		INV1(SYS_SIGNAL, NET_SLOT_DRIVER, NETCHAN_KICK);
	kick_nic = false;
	return more;
}

/* A set-up call from port pi's VMM (its capabilities at slots[0..]): a new
 * connection is described here. */
static err_t setup(unsigned pi, const struct sysregs *r, cptr_t slots)
{
	struct port *p = &ports[pi];
	bool fresh, was = p->v.sh != NULL;
	err_t e = vdev_client_setup(&p->v, pi, r, slots, &fresh);
	if (e || !fresh)
		return e;
	queues_clear(p);
	p->v.sh->device_id = VIRTIO_ID_NET;
	p->v.sh->nqueues = 2 * PAIRS + 1;
	p->v.sh->offered = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MAC |
			   1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_RING_F_EVENT_IDX |
			   1ull << VIRTIO_NET_F_CTRL_VQ | 1ull << VIRTIO_NET_F_MQ;
	/* MAC, status (link up), max_virtqueue_pairs */
	const uint8_t cfg[10] = { 0x52, 0x54, 0x00, 0xca, 0x1e, (uint8_t)(pi + 1), 1, 0, PAIRS, 0 };
	memcpy((void *)p->v.sh->config, cfg, sizeof(cfg));
	p->restarted = !was && p->v.sh->generation; /* a VMM set up before this switch */
	if (was)
		printf("net: port %u connected again (its VMM restarted)\n", pi + 1);
	return E_OK;
}

/* The supervisor's word that a port's VMM is ending: the port and the
 * addresses learnt behind it go. */
static err_t forget(const struct sysregs *r)
{
	if (msginfo_label(r->info) != VDEV_FORGET || r->mr[0] < 1 || r->mr[0] > PORTS)
		return E_INVAL;
	unsigned pi = (unsigned)r->mr[0] - 1;
	if (ports[pi].v.sh)
		printf("net: port %u let go (its VMM is ending)\n", pi + 1);
	vdev_client_forget(&ports[pi].v);
	queues_clear(&ports[pi]);
	for (unsigned i = 0; i < MACS; i++)
		if (macs[i].used && macs[i].port == pi)
			macs[i].used = false;
	return E_OK;
}

static void uplink_init(void)
{
	uint64_t info[5];
	if (inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, NET_SLOT_CHAN, 0, 0, 0, 0, 0, info) ||
	    info[0] != OBJ_FRAME ||
	    INV3(SYS_AS_MAP, ROOT_ASPACE, NET_SLOT_CHAN, NETCHAN_VA, R_READ | R_WRITE) ||
	    INV3(SYS_AS_MAP, ROOT_ASPACE, NET_SLOT_DATA, NETCHAN_DATA_VA, R_READ | R_WRITE))
		return;
	chan = (volatile struct netchan *)NETCHAN_VA;
	progress = !inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, NET_SLOT_PROGRESS, 0, 0, 0, 0, 0, info) &&
		   info[0] == OBJ_NOTIFICATION;
}

int main(const struct bootinfo *bi)
{
	bootinfo = bi;
	ulib_console = ROOT_CONSOLE;
	slots_init(bi->first_free_slot);
	if (INV1(SYS_THREAD_BIND_NOTIFICATION, ROOT_THREAD, NET_SLOT_KICK)) {
		printf("net: no notification to wait on\n");
		return 1;
	}
	uplink_init();
	printf("net: a switch of its own: up to %u guests%s\n", PORTS,
	       chan ? " and an uplink through the NIC driver" : "");
	static const struct vdev_backend net = { "net", PORTS, false, setup, forget, serve };
	vdev_backend_loop(&net);
	return 1;
}
