/* The console server: a virtio-console backend of its own
 * (servers/lib/vdev.h), so that a guest's hvc0 is served outside its VMM
 * as its disk and network are.  Each client (a guest's VMM, told apart by
 * its endpoint badge) has one port: queue 0 receives, queue 1 transmits.
 *
 * Transmit: each chain's bytes go to the machine's console as they are
 * (the debug console's write, 64 bytes a call: the only copy, out of
 * guest RAM into registers).  Receive: what is typed reaches the VMM that
 * has the console's input (it keeps Ctrl-T for the monitor); that VMM puts
 * the bytes into the shared page's input ring (struct vdev_shared's in[])
 * and kicks this server, which moves them into the guest's receive
 * buffers.  A receive chain is taken only when there are bytes for it.
 *
 * Nothing a client wrote is trusted: the queues through servers/lib/virtq.c,
 * a transmit buffer the device should write or a receive buffer it should
 * read marks the device broken (DEVICE_NEEDS_RESET), and an input ring
 * whose VMM claims more than it holds is emptied, not read past. */
#include "servers/lib/vdev_client.h"
#include "servers/root/root.h"

#define CLIENTS 4
#define MAX_SEGS 16
enum { RXQ, TXQ };

const struct bootinfo *bootinfo;
static bool progress;        /* CON_SLOT_PROGRESS holds a notification */
static uint64_t served;

static struct client {
	struct vdev_client v;
	struct virtq q[2];
	bool midline;                /* its output stopped inside a line */
} clients[CLIENTS];

static err_t setup(unsigned i, const struct sysregs *r, cptr_t slots)
{
	struct client *c = &clients[i];
	bool fresh, was = c->v.sh != NULL;
	err_t e = vdev_client_setup(&c->v, i, r, slots, &fresh);
	if (e || !fresh)
		return e;
	c->q[RXQ] = c->q[TXQ] = (struct virtq){ 0 };
	c->v.sh->device_id = VIRTIO_ID_CONSOLE;
	c->v.sh->nqueues = 2;
	c->v.sh->offered = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX;
	c->v.sh->in_tail = c->v.sh->in_head; /* what was typed before is not replayed */
	if (was)
		printf("con: client %u connected again (its VMM restarted)\n", i + 1);
	return E_OK;
}

/* The supervisor's word that a client's VMM is ending. */
static err_t forget(const struct sysregs *r)
{
	if (msginfo_label(r->info) != VDEV_FORGET || r->mr[0] < 1 || r->mr[0] > CLIENTS)
		return E_INVAL;
	struct client *c = &clients[r->mr[0] - 1];
	vdev_client_forget(&c->v);
	c->q[RXQ] = c->q[TXQ] = (struct virtq){ 0 };
	return E_OK;
}

static void broken(struct client *c)
{
	c->v.sh->broken = 1;
	__atomic_fetch_or(&c->v.sh->isr, VDEV_ISR_CONFIG, __ATOMIC_RELEASE);
	INV1(SYS_SIGNAL, c->v.irq, 1);
}

/* The queues as the driver set them up, after a set-up or reset. */
static void queues_init(struct client *c)
{
	c->v.generation = c->v.sh->generation;
	for (unsigned k = RXQ; k <= TXQ; k++) {
		volatile struct vdev_queue *q = &c->v.sh->q[k];
		if (!q->ready || !virtq_init(&c->q[k], &c->v.gm, q->num, q->desc, q->avail, q->used))
			c->q[k].size = 0;
		c->q[k].event_idx = c->v.sh->features >> VIRTIO_RING_F_EVENT_IDX & 1;
	}
}

/* Guest n's bytes onto the console: the second guest's lines and later
 * ones marked with its number (the badge is the guest's number), as its
 * VMM marks its PL011's, each mark written with what follows it. */
static void out(struct client *c, const uint8_t *s, uint32_t len)
{
	unsigned n = (unsigned)(c - clients) + 1;
	while (len) {
		char buf[80];
		uint32_t k = 0, i = 0;
		if (n > 1 && !c->midline)
			k = (uint32_t)snprintf(buf, 16, "[guest %u] ", n);
		while (i < len && k < sizeof(buf) && (i == 0 || s[i - 1] != '\n'))
			buf[k++] = (char)s[i++];
		console_write(buf, k);
		c->midline = s[i - 1] != '\n';
		s += i, len -= i;
	}
}

/* One transmit chain: all of it device-readable, written out. */
static bool transmit(struct client *c, uint16_t head)
{
	struct vq_buf b[MAX_SEGS];
	int n = virtq_chain(&c->q[TXQ], &c->v.gm, head, b, MAX_SEGS);
	for (int i = 0; i < n; i++)
		if (b[i].write)
			return false;
	for (int i = 0; i < n; i++)
		out(c, b[i].va, b[i].len);
	if (n < 0)
		return false;
	virtq_push(&c->q[TXQ], head, 0);
	return true;
}

/* Typed bytes into one receive chain, all of it device-writable. */
static bool receive(struct client *c, uint16_t head, uint32_t *tail, uint32_t end)
{
	struct vq_buf b[MAX_SEGS];
	uint32_t done = 0;
	int n = virtq_chain(&c->q[RXQ], &c->v.gm, head, b, MAX_SEGS);
	for (int i = 0; i < n; i++)
		if (!b[i].write)
			return false;
	for (int i = 0; i < n; i++)
		for (uint32_t k = 0; k < b[i].len && *tail != end; k++, done++)
			b[i].va[k] = c->v.sh->in[(*tail)++ % VDEV_INPUT];
	if (n < 0)
		return false;
	virtq_push(&c->q[RXQ], head, done);
	return true;
}

static bool more; /* a client has chains left over for the next pass */

static void serve_client(struct client *c)
{
	if (c->v.sh->broken)
		return;
	/* At most a queue's worth of chains a pass (vdev_backend), input
	 * included: a VMM may keep typing. */
	int head = VQ_EMPTY;
	unsigned left = c->q[TXQ].size;
	while (c->q[TXQ].size && left && (head = virtq_next(&c->q[TXQ])) >= 0) {
		if (!transmit(c, (uint16_t)head))
			return broken(c);
		more |= !--left;
	}
	if (head == VQ_BROKEN)
		return broken(c);
	uint32_t tail = c->v.sh->in_tail;
	uint32_t end = __atomic_load_n(&c->v.sh->in_head, __ATOMIC_ACQUIRE);
	if (end - tail > VDEV_INPUT) /* the VMM claims more than the ring holds */
		tail = end;
	left = c->q[RXQ].size;
	while (tail != end && c->q[RXQ].size && left && (head = virtq_next(&c->q[RXQ])) >= 0) {
		if (!receive(c, (uint16_t)head, &tail, end))
			return broken(c);
		more |= !--left;
	}
	__atomic_store_n(&c->v.sh->in_tail, tail, __ATOMIC_RELEASE);
	if (head == VQ_BROKEN)
		broken(c);
}

/* Queue k had `pushed` chains put in its used ring: whether to interrupt. */
static bool wants(struct client *c, unsigned k, uint16_t pushed)
{
	return pushed && c->q[k].size && virtq_wants_interrupt(&c->q[k]);
}

/* Every client's queues, then the interrupts of those whose used rings grew. */
static bool serve(void)
{
	more = false;
	for (unsigned i = 0; i < CLIENTS; i++) {
		struct client *c = &clients[i];
		if (!vdev_client_ready(&c->v))
			continue;
		if (c->v.sh->generation != c->v.generation)
			queues_init(c); /* before the count: a reset starts it again */
		uint16_t rx = c->q[RXQ].used_idx, tx = c->q[TXQ].used_idx;
		serve_client(c);
		rx = (uint16_t)(c->q[RXQ].used_idx - rx), tx = (uint16_t)(c->q[TXQ].used_idx - tx);
		c->v.sh->requests += rx + tx;
		for (unsigned k = 0; progress && k < (unsigned)rx + tx; k++)
			if (!(++served % CON_PROGRESS_EVERY))
				INV1(SYS_SIGNAL, CON_SLOT_PROGRESS, CON_PROGRESS_BIT);
		if ((wants(c, RXQ, rx) | wants(c, TXQ, tx)) && !c->v.sh->broken) {
			__atomic_fetch_or(&c->v.sh->isr, VDEV_ISR_USED, __ATOMIC_RELEASE);
			INV1(SYS_SIGNAL, c->v.irq, 1);
		}
	}
	return more;
}

int main(const struct bootinfo *bi)
{
	bootinfo = bi;
	ulib_console = ROOT_CONSOLE;
	slots_init(bi->first_free_slot);
	if (INV1(SYS_THREAD_BIND_NOTIFICATION, ROOT_THREAD, VDEV_SLOT_KICK)) {
		printf("con: no notification to wait on\n");
		return 1;
	}
	uint64_t info[5];
	progress = !inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, CON_SLOT_PROGRESS, 0, 0, 0, 0, 0, info) &&
		   info[0] == OBJ_NOTIFICATION;
	printf("con: a server of its own, virtio-console for up to %u guests\n", CLIENTS);
	static const struct vdev_backend con = { "con", CLIENTS, false, setup, forget, serve };
	vdev_backend_loop(&con);
	return 1;
}
