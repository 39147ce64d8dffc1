/* The block server: a virtio-blk backend of its own (servers/lib/vdev.h).
 * It serves the guest's request queue in place, in the guest RAM the VMM
 * granted it: the data moves between the guest's buffers and the disk, no
 * other copy.  The disk is blk.mib MiB (default 16) of this server's own
 * memory for now; a driver for a real disk replaces it (issue 12).
 *
 * Guest input is never trusted: the queue library checks every ring entry
 * (servers/lib/virtq.c), and here every request's shape and sector range.
 * A request that breaks the rules of the queue marks the device broken
 * (DEVICE_NEEDS_RESET, through the shared page) and the server stops
 * serving it until the driver resets the device; a well-formed request it
 * cannot do gets an error status. */
#include "servers/lib/vdev.h"
#include "servers/lib/virtq.h"
#include "servers/root/root.h"

#define DISK_VA 0x4000000000ull
#define SECTOR 512ull
#define MAX_SEGS (VIRTIO_BLK_SEG_MAX + 2) /* header, data buffers, status */

const struct bootinfo *bootinfo;

static struct gmem gm;        /* the guest RAM mapped so far */
static uint64_t ram_size;     /* all of it, as the VMM said */
static volatile struct vdev_shared *sh;
static cptr_t irq, kick;
static uint8_t *disk;
static uint64_t disk_bytes;
static struct virtq rq;
static uint32_t generation = ~0u;

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

/* A set-up call from the VMM (its capabilities arrived at slots[0..2]). */
static err_t setup(const struct sysregs *r, cptr_t slots)
{
	unsigned ncaps = msginfo_caps(r->info);
	if (msginfo_label(r->info) == VDEV_SETUP) {
		if (ncaps != 3 || sh || r->mr[1] > (1ull << 36) || r->mr[0] > (1ull << 40))
			return E_INVAL;
		if (INV3(SYS_AS_MAP, ROOT_ASPACE, slots, VDEV_SHARED_VA, R_READ | R_WRITE))
			return E_INVAL;
		sh = (volatile struct vdev_shared *)VDEV_SHARED_VA;
		kick = slots + 1;
		irq = slots + 2;
		/* the window grows as frames arrive, in order: nothing is
		 * reachable before it is mapped, whatever the VMM claims */
		gm = (struct gmem){ .ipa = r->mr[0], .size = 0, .va = (uint8_t *)VDEV_GMEM_VA };
		ram_size = r->mr[1];
		sh->capacity = disk_bytes / SECTOR;
		return INV1(SYS_THREAD_BIND_NOTIFICATION, ROOT_THREAD, kick);
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

/* One request: header, data buffers, status byte.  Returns the bytes
 * written into the guest's buffers, or -1 if the chain breaks the rules. */
static int64_t request(const struct vq_buf *b, int n)
{
	if (n < 2 || b[0].write || b[0].len < sizeof(struct virtio_blk_req) ||
	    !b[n - 1].write || b[n - 1].len < 1)
		return -1;
	struct virtio_blk_req h;
	memcpy(&h, b[0].va, sizeof(h)); /* once: the guest may rewrite it */
	uint8_t st = VIRTIO_BLK_S_OK;
	uint64_t off = h.sector * SECTOR, done = 0;
	bool in = h.type == VIRTIO_BLK_T_IN, out = h.type == VIRTIO_BLK_T_OUT;
	if (in || out) {
		uint64_t len = 0;
		for (int i = 1; i < n - 1; i++) {
			if (b[i].write != in || b[i].len % SECTOR)
				return -1;
			len += b[i].len;
		}
		if (h.sector > disk_bytes / SECTOR || len > disk_bytes - off) {
			st = VIRTIO_BLK_S_IOERR;
		} else {
			for (int i = 1; i < n - 1; off += b[i].len, i++) {
				if (in)
					memcpy(b[i].va, disk + off, b[i].len);
				else
					memcpy(disk + off, b[i].va, b[i].len);
			}
			done = in ? len : 0;
		}
	} else if (h.type == VIRTIO_BLK_T_GET_ID && n == 3 && b[1].write) {
		static const char id[20] = "cairn-blk0";
		uint32_t k = b[1].len < sizeof(id) ? b[1].len : sizeof(id);
		memcpy(b[1].va, id, k);
		done = k;
	} else if (h.type != VIRTIO_BLK_T_FLUSH) { /* flush: memory is the medium */
		st = VIRTIO_BLK_S_UNSUPP;
	}
	*b[n - 1].va = st;
	return (int64_t)done + 1;
}

/* Serve the request queue until it is empty; signal the guest if anything
 * completed. */
static void serve_queue(void)
{
	if (sh->generation != generation) { /* set up again, or reset */
		generation = sh->generation;
		volatile struct vdev_queue *q = &sh->q[0];
		if (!q->ready || !virtq_init(&rq, &gm, q->num, q->desc, q->avail, q->used))
			rq.size = 0;
	}
	if (!rq.size || sh->broken)
		return;
	struct vq_buf b[MAX_SEGS];
	bool any = false;
	int head;
	while ((head = virtq_next(&rq)) >= 0) {
		int n = virtq_chain(&rq, &gm, (uint16_t)head, b, MAX_SEGS);
		int64_t len = n > 0 ? request(b, n) : -1;
		if (len < 0)
			break;
		virtq_push(&rq, (uint16_t)head, (uint32_t)len);
		sh->requests++;
		any = true;
	}
	if (head == VQ_BROKEN || (head >= 0)) {
		broken();
		return;
	}
	if (any) {
		__atomic_fetch_or(&sh->isr, VDEV_ISR_USED, __ATOMIC_RELEASE);
		INV1(SYS_SIGNAL, irq, 1);
	}
}

int main(const struct bootinfo *bi)
{
	bootinfo = bi;
	ulib_console = ROOT_CONSOLE;
	slots_init(bi->first_free_slot);
	if (!make_disk()) {
		printf("blk: no memory for a %lu MiB disk\n", disk_bytes >> 20);
		return 1;
	}
	printf("blk: a server of its own, a %lu MiB disk in its memory\n", disk_bytes >> 20);
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
