/* The block server's disk through a driver server (servers/vblk): each
 * guest request is cut into pieces of at most one channel slot
 * (servers/lib/blkchan.h), handed out in the order the guest made them, and
 * completed to the guest when its last piece is done.  A write's data is
 * copied into the slot's buffer before the driver sees it, a read's out of
 * it after: the driver never sees guest memory.  If the driver dies, the
 * slots keep what it held and its successor replays them: nothing here
 * notices but the wait. */
#include "servers/blk/blk.h"

#define GREQS 16 /* guest requests in progress */

struct greq {
	bool busy;
	struct client *c;
	uint8_t q;         /* its queue */
	uint16_t head;
	int n;
	struct vq_buf b[MAX_SEGS];
	struct blk_req r;
	uint64_t seq;      /* arrival order */
	uint64_t sent;     /* data bytes handed to slots; a flush: 1 once sent */
	unsigned out;      /* slots in flight */
	bool failed;
	bool forgotten;    /* its queue was reset: complete nothing */
};

static struct greq greqs[GREQS];
static struct greq *owner[BLKCHAN_SLOTS];
static uint64_t piece_off[BLKCHAN_SLOTS];
static volatile struct blkchan *chan;
static uint8_t *data = (uint8_t *)BLKCHAN_DATA_VA;
static uint64_t arrivals, pieces_done;
static bool progress; /* BLK_SLOT_PROGRESS was given */

bool remote_init(void)
{
	uint64_t info[5];
	if (inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, BLK_SLOT_CHAN, 0, 0, 0, 0, 0, info) ||
	    info[0] != OBJ_FRAME ||
	    INV3(SYS_AS_MAP, ROOT_ASPACE, BLK_SLOT_CHAN, BLKCHAN_VA, R_READ | R_WRITE) ||
	    INV3(SYS_AS_MAP, ROOT_ASPACE, BLK_SLOT_DATA, BLKCHAN_DATA_VA, R_READ | R_WRITE))
		return false;
	progress = !inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, BLK_SLOT_PROGRESS, 0, 0, 0, 0, 0, info) &&
		   info[0] == OBJ_NOTIFICATION;
	chan = (volatile struct blkchan *)BLKCHAN_VA;
	while (!__atomic_load_n(&chan->capacity, __ATOMIC_ACQUIRE)) { /* the driver is up */
		struct sysregs w = { .nr = SYS_WAIT, .cap = BLK_SLOT_KICK };
		sys(&w);
	}
	return true;
}

uint64_t remote_capacity(void) { return chan->capacity; }

static struct greq *free_greq(void)
{
	for (unsigned i = 0; i < GREQS; i++)
		if (!greqs[i].busy)
			return &greqs[i];
	return NULL;
}

bool remote_room(void) { return free_greq() != NULL; }

void remote_take(struct client *c, unsigned k, uint16_t head, struct vq_buf *b, int n,
		 const struct blk_req *r)
{
	struct greq *g = free_greq();
	*g = (struct greq){ .busy = true, .c = c, .q = (uint8_t)k, .head = head, .n = n, .r = *r,
			    .seq = arrivals++ };
	g->r.h.sector += c->first; /* the disk's sector from here on */
	memcpy(g->b, b, n * sizeof(*b));
}

/* The oldest request with a piece still to send. */
static struct greq *next_to_send(void)
{
	struct greq *best = NULL;
	for (unsigned i = 0; i < GREQS; i++) {
		struct greq *g = &greqs[i];
		uint64_t want = g->r.h.type == VIRTIO_BLK_T_FLUSH ? 1 : g->r.len;
		if (g->busy && !g->forgotten && g->sent < want && (!best || g->seq < best->seq))
			best = g;
	}
	return best;
}

static int free_slot(void)
{
	for (unsigned k = 0; k < BLKCHAN_SLOTS; k++)
		if (!owner[k] && chan->slot[k].state == SLOT_FREE)
			return (int)k;
	return -1;
}

/* Hand pieces to free slots; kick the driver if any went. */
static void send(void)
{
	bool kick = false;
	struct greq *g;
	int k;
	while ((g = next_to_send()) && (k = free_slot()) >= 0) {
		volatile struct blkchan_slot *s = &chan->slot[k];
		bool flush = g->r.h.type == VIRTIO_BLK_T_FLUSH;
		uint64_t left = g->r.len - g->sent;
		uint32_t bytes = flush ? 0 : left < BLKCHAN_SLOT_BYTES ? (uint32_t)left
								       : BLKCHAN_SLOT_BYTES;
		uint8_t *p = data + (uint64_t)k * BLKCHAN_SLOT_BYTES;
		if (g->r.h.type == VIRTIO_BLK_T_OUT)
			blk_copy(g->b, g->n, g->sent, p, bytes, false);
		owner[k] = g, piece_off[k] = g->sent;
		s->op = flush ? BLK_OP_FLUSH : g->r.h.type == VIRTIO_BLK_T_IN ? BLK_OP_READ : BLK_OP_WRITE;
		s->sector = g->r.h.sector + g->sent / SECTOR;
		s->bytes = bytes;
		__atomic_store_n(&s->state, SLOT_SUBMITTED, __ATOMIC_RELEASE);
		g->sent += flush ? 1 : bytes;
		g->out++;
		kick = true;
		if (g->r.h.type == VIRTIO_BLK_T_OUT) /* the device starts while we copy on */
			INV1(SYS_SIGNAL, BLK_SLOT_DRIVER, BLKCHAN_KICK), kick = false;
	}
	if (kick)
		INV1(SYS_SIGNAL, BLK_SLOT_DRIVER, BLKCHAN_KICK);
}

/* The request's last piece is done: its status to the guest. */
static void complete(struct greq *g)
{
	g->busy = false;
	if (g->forgotten)
		return;
	*g->b[g->n - 1].va = g->failed ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	uint64_t len = g->r.h.type == VIRTIO_BLK_T_IN && !g->failed ? g->r.len : 0;
	virtq_push(&g->c->rq[g->q], g->head, (uint32_t)len + 1);
	g->c->v.sh->requests++;
	g->c->signal |= 1u << g->q;
}

/* Take the driver's completions. */
static void reap(void)
{
	for (unsigned k = 0; k < BLKCHAN_SLOTS; k++) {
		volatile struct blkchan_slot *s = &chan->slot[k];
		struct greq *g = owner[k];
		if (!g || __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_DONE)
			continue;
		if (s->status != BLK_OK)
			g->failed = true;
		else if (g->r.h.type == VIRTIO_BLK_T_IN && !g->forgotten)
			blk_copy(g->b, g->n, piece_off[k], data + (uint64_t)k * BLKCHAN_SLOT_BYTES,
				 s->bytes, true);
		owner[k] = NULL;
		s->state = SLOT_FREE;
		uint64_t want = g->r.h.type == VIRTIO_BLK_T_FLUSH ? 1 : g->r.len;
		if (!--g->out && (g->sent == want || g->forgotten))
			complete(g);
		if (progress && !(++pieces_done % BLK_PROGRESS_EVERY))
			INV1(SYS_SIGNAL, BLK_SLOT_PROGRESS, 1);
	}
}

void remote_serve(void)
{
	reap();
	send();
}

void remote_forget(struct client *c)
{
	for (unsigned i = 0; i < GREQS; i++) {
		if (greqs[i].c != c)
			continue;
		greqs[i].forgotten = true;
		if (greqs[i].busy && !greqs[i].out)
			greqs[i].busy = false;
	}
}
