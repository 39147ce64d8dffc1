/* A virtio device split in two servers: the VMM emulates its virtio-mmio
 * registers (servers/vmm/virtio_mmio.c), a backend server of its own serves
 * its queues in place, in the guest RAM the VMM grants it
 * (servers/blk/main.c).  They share one page (struct vdev_shared) and talk
 * through one endpoint, which the root task gives both at VDEV_SLOT_EP.
 *
 * The root task also gives both the backend's own notification at
 * VDEV_SLOT_KICK: the backend waits on it (bound to its thread), the VMM
 * signals it (or binds a doorbell to it) when the driver notifies a queue,
 * and whatever else serves the backend (a disk driver) signals it too.
 *
 * Set-up, VMM to backend, as calls on that endpoint:
 *   VDEV_SETUP   x0 RAM IPA, x1 RAM size; caps: the shared page and the
 *                interrupt notification (the backend signals it; the VMM
 *                bound it to the guest's interrupt).
 *                Answer: x0 error.
 *   VDEV_GRANT   x0 IPA of the first frame, x1 frame bytes; caps: up to
 *                three frames of guest RAM at consecutive IPAs, which the
 *                backend maps read-write at VDEV_GMEM_VA + (IPA - RAM IPA).
 *                Answer: x0 error.
 * Then the VMM signals the kick notification whenever the driver notifies a
 * queue or the queues' set-up changes (generation). */
#pragma once
#include <stdint.h>

#define VDEV_SLOT_EP 8                 /* in both servers' CNodes (root_slot's gap) */
#define VDEV_SLOT_KICK 9               /* the backend's notification: R|W there, W in the VMM */
/* The console server's progress (optional, for the supervisor's crash
 * test): bit CON_PROGRESS_BIT signalled every CON_PROGRESS_EVERY requests. */
#define CON_SLOT_PROGRESS 10
/* A backend's supervisor's fault endpoint (optional): its own faults go
 * to its guard first (servers/lib/vdev_guard.c), which hands them on. */
#define VDEV_SLOT_FAULT 14
#define CON_PROGRESS_EVERY 16
#define CON_PROGRESS_BIT 4u
#define VDEV_GMEM_VA 0x8000000000ull   /* guest RAM in the backend */
#define VDEV_SHARED_VA 0x7ff000000ull  /* the shared page in the backend */
#define VDEV_QUEUES 5                  /* at most: two queue pairs and control (net) */
#define VDEV_INPUT 256                 /* virtio-console input ring, a power of two */

enum vdev_label { VDEV_SETUP = 1, VDEV_GRANT, VDEV_FORGET };
/* VDEV_FORGET (mr0: a client's badge) comes from the supervisor, whose
 * copy of the endpoint has this badge: that client's VMM is about to end,
 * so the backend lets go of its RAM and shared page first and never
 * touches them again.  A new VDEV_SETUP from that badge starts afresh. */
#define VDEV_SUPERVISOR 0x100

/* Interrupt status bits (virtio-mmio InterruptStatus). */
#define VDEV_ISR_USED 1u
#define VDEV_ISR_CONFIG 2u
#define VIRTIO_STATUS_NEEDS_RESET 64u

struct vdev_shared {
	uint32_t generation;           /* VMM: bumped when the queues change or reset */
	uint32_t status;               /* VMM: the driver's status */
	uint64_t features;             /* VMM: what the driver accepted */
	struct vdev_queue {
		uint64_t desc, avail, used; /* IPAs */
		uint32_t num, ready;
	} q[VDEV_QUEUES];
	uint32_t isr;                  /* backend sets bits, the driver's ACK clears them */
	uint32_t broken;               /* backend: the driver broke a rule */
	/* What device this is, the backend's to say before it answers
	 * VDEV_SETUP; the VMM shows it to the guest as it is. */
	uint32_t device_id;            /* virtio device ID (2 block, 1 network) */
	uint32_t nqueues;              /* at most VDEV_QUEUES */
	uint64_t offered;              /* feature bits */
	uint8_t config[64];            /* its configuration space, read-only */
	uint64_t requests;             /* backend: requests completed */
	uint32_t pairs;                /* backend (net): the queue pairs the driver set, for a
					* restarted backend; the VMM's reset clears it */
	/* virtio-console: what is typed, from the VMM with the console's
	 * input to the backend, which moves it into the receive queue */
	uint32_t in_head;              /* VMM: bytes put in */
	uint32_t in_tail;              /* backend: bytes taken out */
	uint8_t in[VDEV_INPUT];
};
_Static_assert(sizeof(struct vdev_shared) <= 4096, "one page");

enum { VIRTIO_ID_NET = 1, VIRTIO_ID_BLOCK = 2, VIRTIO_ID_CONSOLE = 3 };

/* virtio-blk requests (virtio 1.x 5.2.6). */
struct virtio_blk_req {
	uint32_t type, reserved;
	uint64_t sector;
};
enum { VIRTIO_BLK_T_IN = 0, VIRTIO_BLK_T_OUT = 1, VIRTIO_BLK_T_FLUSH = 4,
       VIRTIO_BLK_T_GET_ID = 8 };
enum { VIRTIO_BLK_S_OK = 0, VIRTIO_BLK_S_IOERR = 1, VIRTIO_BLK_S_UNSUPP = 2 };
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
/* virtio-net's control queue (virtio 1.x 5.1.6.5): a command is a readable
 * class and command, readable data, and a writable ack byte. */
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_ERR 1
#define VIRTIO_BLK_CFG_NUM_QUEUES 34    /* its config offset: u16 */
#define VIRTIO_BLK_SEG_MAX 126          /* data buffers in one request */
#define VIRTIO_F_VERSION_1 32
