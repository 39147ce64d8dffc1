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
 * cannot do gets an error status. */
#include "servers/blk/blk.h"

#define DISK_VA 0x4000000000ull

const struct bootinfo *bootinfo;

struct gmem gm;               /* the guest RAM mapped so far */
static uint64_t ram_size;     /* all of it, as the VMM said */
volatile struct vdev_shared *sh;
static cptr_t irq;
static uint8_t *disk;         /* the RAM disk, when there is no driver */
static uint64_t disk_bytes;
struct virtq rq;
uint32_t generation = ~0u;

static err_t map_frames(cptr_t first, unsigned n, uint64_t va, uint64_t bytes)
{
	for (unsigned i = 0; i < n; i++) {
		err_t e = INV3(SYS_AS_MAP, ROOT_ASPACE, first + i, va + i * bytes, R_READ | R_WRITE);
		if (e)
			return e;
	}
	return E_OK;
}

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

/* A set-up call from the VMM (its capabilities arrived at slots[0..]). */
static err_t setup(const struct sysregs *r, cptr_t slots)
{
	unsigned ncaps = msginfo_caps(r->info);
	if (msginfo_label(r->info) == VDEV_SETUP) {
		if (ncaps != 2 || sh || r->mr[1] > (1ull << 36) || r->mr[0] > (1ull << 40))
			return E_INVAL;
		if (INV3(SYS_AS_MAP, ROOT_ASPACE, slots, VDEV_SHARED_VA, R_READ | R_WRITE))
			return E_INVAL;
		sh = (volatile struct vdev_shared *)VDEV_SHARED_VA;
		irq = slots + 1;
		/* the window grows as frames arrive, in order: nothing is
		 * reachable before it is mapped, whatever the VMM claims */
		gm = (struct gmem){ .ipa = r->mr[0], .size = 0, .va = (uint8_t *)VDEV_GMEM_VA };
		ram_size = r->mr[1];
		uint64_t capacity = disk ? disk_bytes / SECTOR : remote_capacity();
		uint32_t seg_max = VIRTIO_BLK_SEG_MAX;
		sh->device_id = VIRTIO_ID_BLOCK;
		sh->nqueues = 1;
		sh->offered = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH |
			      1ull << VIRTIO_BLK_F_SEG_MAX;
		memcpy((void *)sh->config, &capacity, 8); /* capacity, size_max, seg_max */
		memcpy((void *)(sh->config + 12), &seg_max, 4);
		return E_OK;
	}
	if (msginfo_label(r->info) == VDEV_GRANT) {
		uint64_t ipa = r->mr[0], bytes = r->mr[1];
		if (!sh || !ncaps || (bytes != PAGE_SIZE_U && bytes != 1ull << FRAME_BITS_2M) ||
		    ipa != gm.ipa + gm.size || bytes * ncaps > ram_size - gm.size)
			return E_INVAL;
		err_t e = map_frames(slots, ncaps, VDEV_GMEM_VA + gm.size, bytes);
		if (!e)
			gm.size += bytes * ncaps;
		return e;
	}
	return E_INVAL;
}

static void broken(void)
{
	sh->broken = 1;
	__atomic_fetch_or(&sh->isr, VDEV_ISR_CONFIG, __ATOMIC_RELEASE);
	INV1(SYS_SIGNAL, irq, 1);
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
static uint32_t request_now(struct vq_buf *b, int n, const struct blk_req *r)
{
	uint8_t st = VIRTIO_BLK_S_OK;
	uint64_t capacity = disk ? disk_bytes / SECTOR : remote_capacity(), done = 0;
	bool in = r->h.type == VIRTIO_BLK_T_IN, out = r->h.type == VIRTIO_BLK_T_OUT;
	if (in || out) {
		if (r->h.sector > capacity || r->len > (capacity - r->h.sector) * SECTOR) {
			st = VIRTIO_BLK_S_IOERR;
		} else if (disk) { /* without one, only an empty request gets here */
			blk_copy(b, n, 0, disk + r->h.sector * SECTOR, r->len, in);
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

/* Whether the driver takes r: a read, write or flush the disk can do. */
static bool for_driver(const struct blk_req *r)
{
	uint64_t cap = remote_capacity();
	if (r->h.type == VIRTIO_BLK_T_FLUSH)
		return true;
	return (r->h.type == VIRTIO_BLK_T_IN || r->h.type == VIRTIO_BLK_T_OUT) && r->len &&
	       r->h.sector <= cap && r->len <= (cap - r->h.sector) * SECTOR;
}

/* Serve the request queue until it is empty (or, through a driver, until
 * no request can be taken); signal the guest if anything completed. */
static void serve_queue(void)
{
	if (sh->generation != generation) { /* set up again, or reset */
		generation = sh->generation;
		volatile struct vdev_queue *q = &sh->q[0];
		if (!disk)
			remote_forget();
		if (!q->ready || !virtq_init(&rq, &gm, q->num, q->desc, q->avail, q->used))
			rq.size = 0;
	}
	bool any = !disk && remote_serve();
	if (!rq.size || sh->broken)
		goto done;
	struct vq_buf b[MAX_SEGS];
	struct blk_req r;
	int head;
	while ((disk || remote_room()) && (head = virtq_next(&rq)) >= 0) {
		int n = virtq_chain(&rq, &gm, (uint16_t)head, b, MAX_SEGS);
		if (n < 0 || !blk_parse(b, n, &r)) {
			broken();
			goto done;
		}
		if (!disk && for_driver(&r)) {
			remote_take((uint16_t)head, b, n, &r);
			continue;
		}
		virtq_push(&rq, (uint16_t)head, request_now(b, n, &r));
		sh->requests++;
		any = true;
	}
	if (head == VQ_BROKEN)
		broken();
	if (!disk)
		any |= remote_serve();
done:
	if (any && rq.size && virtq_wants_interrupt(&rq)) {
		__atomic_fetch_or(&sh->isr, VDEV_ISR_USED, __ATOMIC_RELEASE);
		INV1(SYS_SIGNAL, irq, 1);
	}
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
	cptr_t slots = slot_alloc_range(3);
	struct sysregs r = { .nr = SYS_RECV, .cap = VDEV_SLOT_EP, .recvslot = slots };
	err_t e = sys(&r);
	for (;;) {
		if (e) {
			printf("blk: receive failed (%u)\n", e);
			return 1;
		}
		uint64_t answer;
		if (msginfo_label(r.info) == MSG_LABEL_NOTIFY) {
			if (sh)
				serve_queue();
			r = (struct sysregs){ .nr = SYS_RECV, .cap = VDEV_SLOT_EP, .recvslot = slots };
		} else {
			answer = setup(&r, slots);
			if (msginfo_caps(r.info))
				slots = slot_alloc_range(3); /* those are in use now */
			r = (struct sysregs){ .mr = { answer }, .nr = SYS_REPLY_RECV, .cap = VDEV_SLOT_EP,
					      .info = msginfo(0, 1, 0), .recvslot = slots };
		}
		e = sys(&r);
	}
}
