/* The block server's pieces (servers/blk): main.c sets up and serves the
 * RAM disk, remote.c serves through a driver's channel. */
#pragma once
#include "servers/lib/blkchan.h"
#include "servers/lib/vdev_client.h"
#include "servers/root/root.h"

#define SECTOR 512ull
#define MAX_SEGS (VIRTIO_BLK_SEG_MAX + 2) /* header, data buffers, status */

#define CLIENTS 4
/* Request queues a guest may use (VIRTIO_BLK_F_MQ): Linux takes one per
 * CPU, up to this, so that CPUs do not share a queue's lock. */
#define BLK_QUEUES 4
_Static_assert(BLK_QUEUES <= VDEV_QUEUES, "in the shared page");

/* One guest's virtio-blk: a VMM that connected (its endpoint's badge, 1 to
 * CLIENTS, says which), and its part of the disk: with blk.clients=N the
 * disk is cut in N equal parts, and no guest reaches another's. */
struct client {
	struct vdev_client v;
	struct virtq rq[BLK_QUEUES];
	uint64_t first, sectors;   /* its part of the disk */
	unsigned signal;           /* bit k: queue k's used ring grew */
};

/* A request's shape, checked: its header read once, its data buffers all
 * readable (a write) or all writable (a read), whole sectors. */
struct blk_req {
	struct virtio_blk_req h;
	uint64_t len;   /* data bytes */
};
/* False if the chain breaks the rules of virtio-blk (the device is broken). */
bool blk_parse(const struct vq_buf *b, int n, struct blk_req *r);
/* Copy between a request's data buffers, from byte off, and p. */
void blk_copy(struct vq_buf *b, int n, uint64_t off, uint8_t *p, uint64_t len, bool to_guest);

/* Through a driver (remote.c). */
bool remote_init(void);          /* false: no channel, the RAM disk serves */
uint64_t remote_capacity(void);  /* sectors */
bool remote_room(void);          /* a guest request can be taken */
/* Take client c's request head on its queue k (its buffers b[0..n)), which
 * the client's part of the disk holds. */
void remote_take(struct client *c, unsigned k, uint16_t head, struct vq_buf *b, int n,
		 const struct blk_req *r);
void remote_serve(void);         /* completions in, requests out */
void remote_forget(struct client *c); /* its queue was reset: drop what it had */
