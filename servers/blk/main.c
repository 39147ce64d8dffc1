/* The block server: a virtio-blk backend of its own (servers/lib/vdev.h).
 * It serves the guest's request queue in place, in the guest RAM the VMM
 * granted it.  Its disk is either a driver server's (servers/vblk, through
 * the channel the root task gives it, servers/lib/blkchan.h; requests go
 * there asynchronously, servers/blk/remote.c) or, when it has none,
 * blk.mib MiB (default 16) of its own memory, served at once in place.
 *
 * Guest input is never trusted: the queue library checks every ring entry
 * (servers/lib/virtq.c), and here every request's shape and sector range.
 * A request that breaks the rules of the queue marks the device broken
 * (DEVICE_NEEDS_RESET, through the shared page) and the server stops
 * serving it until the driver resets the device; a well-formed request it
 * cannot do gets an error status.  Several guests may connect (struct
 * client): each gets a part of the disk of its own. */
#include "servers/blk/blk.h"

#define DISK_VA 0x4000000000ull

const struct bootinfo *bootinfo;

static struct client clients[CLIENTS];
static uint8_t *disk;         /* the RAM disk, when there is no driver */
static uint64_t disk_bytes;

static bool make_disk(void)
{
	uint64_t mib = bootarg_u64("blk.mib=", 16);
	disk_bytes = mib << 20;
	for (uint64_t off = 0; off < disk_bytes; off += 1ull << FRAME_BITS_2M) {
		cptr_t f = new_obj(OBJ_FRAME, FRAME_BITS_2M);
		if (!f || INV3(SYS_AS_MAP, ROOT_ASPACE, f, DISK_VA + off, R_READ | R_WRITE))
			return false;
	}
	disk = (uint8_t *)DISK_VA;
	return true;
}

/* Client i's part of the disk: the i-th of blk.clients equal parts. */
static void partition(struct client *c, unsigned i)
{
	uint64_t all = disk ? disk_bytes / SECTOR : remote_capacity();
	uint64_t parts = bootarg_u64("blk.clients=", 1);
	if (parts < 1 || parts > CLIENTS || i >= parts)
		parts = 1, i = 0;
	c->first = all / parts * i;
	c->sectors = all / parts;
}

/* A set-up call from client i's VMM (its capabilities at slots[0..]): a
 * new connection is described here, its requests in flight dropped. */
static err_t setup(unsigned i, const struct sysregs *r, cptr_t slots)
{
	struct client *c = &clients[i];
	bool fresh, was = c->v.sh != NULL;
	if (was && !disk && msginfo_label(r->info) == VDEV_SETUP)
		remote_forget(c);
	err_t e = vdev_client_setup(&c->v, i, r, slots, &fresh);
	if (e || !fresh)
		return e;
	uint32_t seg_max = VIRTIO_BLK_SEG_MAX;
	uint16_t nq = BLK_QUEUES;
	memset(c->rq, 0, sizeof(c->rq));
	partition(c, i);
	c->v.sh->device_id = VIRTIO_ID_BLOCK;
	c->v.sh->nqueues = BLK_QUEUES;
	c->v.sh->offered = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH |
			   1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_RING_F_EVENT_IDX |
			   1ull << VIRTIO_BLK_F_MQ;
	memcpy((void *)c->v.sh->config, &c->sectors, 8); /* capacity, size_max, seg_max */
	memcpy((void *)(c->v.sh->config + 12), &seg_max, 4);
	memcpy((void *)(c->v.sh->config + VIRTIO_BLK_CFG_NUM_QUEUES), &nq, 2);
	if (was)
		printf("blk: client %u connected again (its VMM restarted)\n", i + 1);
	return E_OK;
}

/* The supervisor's word that a client's VMM is ending. */
static err_t forget(const struct sysregs *r)
{
	if (msginfo_label(r->info) != VDEV_FORGET || r->mr[0] < 1 || r->mr[0] > CLIENTS)
		return E_INVAL;
	struct client *c = &clients[r->mr[0] - 1];
	if (c->v.sh && !disk)
		remote_forget(c);
	if (c->v.sh)
		printf("blk: client %lu let go (its VMM is ending)\n", r->mr[0]);
	vdev_client_forget(&c->v);
	memset(c->rq, 0, sizeof(c->rq));
	return E_OK;
}

static void broken(struct client *c)
{
	c->v.sh->broken = 1;
	__atomic_fetch_or(&c->v.sh->isr, VDEV_ISR_CONFIG, __ATOMIC_RELEASE);
	INV1(SYS_SIGNAL, c->v.irq, 1);
}

bool blk_parse(const struct vq_buf *b, int n, struct blk_req *r)
{
	if (n < 2 || b[0].write || b[0].len < sizeof(struct virtio_blk_req) ||
	    !b[n - 1].write || b[n - 1].len < 1)
		return false;
	memcpy(&r->h, b[0].va, sizeof(r->h)); /* once: the guest may rewrite it */
	bool in = r->h.type == VIRTIO_BLK_T_IN, out = r->h.type == VIRTIO_BLK_T_OUT;
	r->len = 0;
	for (int i = 1; (in || out) && i < n - 1; i++) {
		if (b[i].write != in || b[i].len % SECTOR)
			return false;
		r->len += b[i].len;
	}
	return true;
}

void blk_copy(struct vq_buf *b, int n, uint64_t off, uint8_t *p, uint64_t len, bool to_guest)
{
	for (int i = 1; i < n - 1 && len; i++) {
		if (off >= b[i].len) {
			off -= b[i].len;
			continue;
		}
		uint64_t k = b[i].len - off < len ? b[i].len - off : len;
		if (to_guest)
			memcpy(b[i].va + off, p, k);
		else
			memcpy(p, b[i].va + off, k);
		p += k, len -= k, off = 0;
	}
}

/* A request that needs no disk, or the RAM disk's: done now, its status
 * byte written.  Returns the bytes written into the guest's buffers. */
static uint32_t request_now(const struct client *c, struct vq_buf *b, int n,
			    const struct blk_req *r)
{
	uint8_t st = VIRTIO_BLK_S_OK;
	uint64_t capacity = c->sectors, done = 0;
	bool in = r->h.type == VIRTIO_BLK_T_IN, out = r->h.type == VIRTIO_BLK_T_OUT;
	if (in || out) {
		if (r->h.sector > capacity || r->len > (capacity - r->h.sector) * SECTOR) {
			st = VIRTIO_BLK_S_IOERR;
		} else if (disk) { /* without one, only an empty request gets here */
			blk_copy(b, n, 0, disk + (c->first + r->h.sector) * SECTOR, r->len, in);
			done = in ? r->len : 0;
		}
	} else if (r->h.type == VIRTIO_BLK_T_GET_ID && n == 3 && b[1].write) {
		static const char id[20] = "cairn-blk0";
		done = b[1].len < sizeof(id) ? b[1].len : sizeof(id);
		memcpy(b[1].va, id, done);
	} else if (r->h.type != VIRTIO_BLK_T_FLUSH) { /* flush: memory is the medium */
		st = VIRTIO_BLK_S_UNSUPP;
	}
	*b[n - 1].va = st;
	return (uint32_t)done + 1;
}

/* Whether the driver takes r: a read, write or flush of c's part. */
static bool for_driver(const struct client *c, const struct blk_req *r)
{
	if (r->h.type == VIRTIO_BLK_T_FLUSH)
		return true;
	return (r->h.type == VIRTIO_BLK_T_IN || r->h.type == VIRTIO_BLK_T_OUT) && r->len &&
	       r->h.sector <= c->sectors && r->len <= (c->sectors - r->h.sector) * SECTOR;
}

/* Client c's queues set up again, or reset: what the VMM says now. */
static void refresh(struct client *c)
{
	c->v.generation = c->v.sh->generation;
	if (!disk)
		remote_forget(c);
	for (unsigned k = 0; k < BLK_QUEUES; k++) {
		volatile struct vdev_queue *q = &c->v.sh->q[k];
		struct virtq *v = &c->rq[k];
		if (!q->ready || !virtq_init(v, &c->v.gm, q->num, q->desc, q->avail, q->used))
			v->size = 0;
		v->event_idx = c->v.sh->features >> VIRTIO_RING_F_EVENT_IDX & 1;
	}
}

/* Client c's request queue k: until it is empty (or, through a driver,
 * until no request can be taken), a queue's worth at most (vdev_backend).
 * True if chains may be left. */
static bool serve_queue(struct client *c, unsigned k)
{
	struct virtq *q = &c->rq[k];
	if (!q->size || c->v.sh->broken)
		return false;
	struct vq_buf b[MAX_SEGS];
	struct blk_req r;
	int head = VQ_EMPTY;
	unsigned left = q->size;
	while (left && (disk || remote_room()) && (head = virtq_next(q)) >= 0) {
		int n = virtq_chain(q, &c->v.gm, (uint16_t)head, b, MAX_SEGS);
		left--;
		if (n < 0 || !blk_parse(b, n, &r)) {
			broken(c);
			return false;
		}
		if (!disk && for_driver(c, &r)) {
			remote_take(c, k, (uint16_t)head, b, n, &r);
			continue;
		}
		virtq_push(q, (uint16_t)head, request_now(c, b, n, &r));
		c->v.sh->requests++;
		c->signal |= 1u << k;
	}
	if (head == VQ_BROKEN)
		broken(c);
	return !left;
}

/* One interrupt for client c if a queue whose used ring grew wants it
 * (virtio-mmio has one for all queues). */
static void interrupt(struct client *c)
{
	bool want = false;
	for (unsigned k = 0; k < BLK_QUEUES; k++) /* each asked: event indices move on */
		if (c->signal >> k & 1 && c->rq[k].size)
			want |= virtq_wants_interrupt(&c->rq[k]);
	if (want) {
		__atomic_fetch_or(&c->v.sh->isr, VDEV_ISR_USED, __ATOMIC_RELEASE);
		INV1(SYS_SIGNAL, c->v.irq, 1);
	}
	c->signal = 0;
}

/* Every client's queues, the driver's completions, and the interrupts of
 * the guests whose used rings grew. */
static bool serve(void)
{
	bool more = false;
	if (!disk)
		remote_serve();
	for (unsigned i = 0; i < CLIENTS; i++) {
		struct client *c = &clients[i];
		if (!vdev_client_ready(&c->v))
			continue;
		if (c->v.sh->generation != c->v.generation)
			refresh(c);
		for (unsigned k = 0; k < BLK_QUEUES; k++)
			more |= serve_queue(c, k);
	}
	if (!disk)
		remote_serve();
	for (unsigned i = 0; i < CLIENTS; i++)
		interrupt(&clients[i]);
	return more;
}

int main(const struct bootinfo *bi)
{
	bootinfo = bi;
	ulib_console = ROOT_CONSOLE;
	slots_init(bi->first_free_slot);
	if (INV1(SYS_THREAD_BIND_NOTIFICATION, ROOT_THREAD, BLK_SLOT_KICK)) {
		printf("blk: no notification to wait on\n");
		return 1;
	}
	if (remote_init()) {
		printf("blk: a server of its own, on a driver's disk of %lu MiB\n",
		       remote_capacity() >> 11);
	} else if (make_disk()) {
		printf("blk: a server of its own, a %lu MiB disk in its memory\n", disk_bytes >> 20);
	} else {
		printf("blk: no memory for a %lu MiB disk\n", disk_bytes >> 20);
		return 1;
	}
	static const struct vdev_backend blk = { "blk", CLIENTS, true, setup, forget, serve };
	vdev_backend_loop(&blk);
	return 1;
}
