/* A backend's side of one client's connection (servers/lib/vdev.h): the
 * shared page, the interrupt notification and the guest RAM its VMM
 * grants, mapped at the client's own window.  The block server and the
 * switch share it.  A client that sets up again (its VMM restarted, or one
 * that asks twice) is forgotten first: every capability it sent is deleted,
 * so every mapping of its old RAM goes. */
#pragma once
#include "servers/lib/ulib.h"
#include "servers/lib/vdev.h"
#include "servers/lib/virtq.h"

#define VDEV_GMEM_SPAN (1ull << 36)   /* each client's guest RAM window */
#define VDEV_HELD_MAX 768             /* messages with capabilities: 3 GiB in 2 MiB frames */

struct vdev_client {
	volatile struct vdev_shared *sh;   /* NULL: not connected */
	cptr_t irq;
	struct gmem gm;                    /* its RAM, mapped so far */
	uint64_t ram_size;                 /* all of it, as its VMM said */
	uint32_t generation;
	cptr_t held[VDEV_HELD_MAX];        /* receive slots (3 each) its capabilities are in */
	unsigned nheld;
};

/* A set-up message (VDEV_SETUP or VDEV_GRANT) from client c (number i,
 * from 0), its capabilities in slots[0..3).  E_OK: they are the client's
 * now, and the caller must receive into fresh slots; an error: they were
 * deleted.  *fresh: a new connection, whose device the caller describes
 * in the shared page. */
err_t vdev_client_setup(struct vdev_client *c, unsigned i, const struct sysregs *r, cptr_t slots,
			bool *fresh);
/* Whether c's queues may be served: connected, and all the RAM its VMM
 * said granted.  Its queues may lie anywhere in that RAM, and its guest
 * runs while a VMM sets up again (VMM_EVENT_RECONNECT): a queue set up
 * from a window still growing would be refused, or broken, for good. */
static inline bool vdev_client_ready(const struct vdev_client *c)
{
	return c->sh && c->gm.size == c->ram_size;
}
void vdev_client_forget(struct vdev_client *c);

/* A backend's whole life after its own set-up: it waits on its endpoint
 * (VDEV_SLOT_EP) for set-up calls from clients 1..nclients (the badge;
 * an unbadged caller, the root task's tests, counts as client 1 where
 * unbadged_first), VDEV_FORGET from the supervisor, and its notification's
 * signals, on each of which serve() runs.  serve() takes at most a queue's
 * worth of chains from a client a pass, and returns true when some were
 * left: a driver refilling its queue from another VCPU as fast as it is
 * used would otherwise hold the server in one client's queue for ever,
 * from its other clients and from the supervisor's calls.  The loop then
 * kicks itself, so the next pass comes after what waits on the endpoint.
 * Returns when a receive fails. */
struct vdev_backend {
	const char *name;
	unsigned nclients;
	bool unbadged_first;
	err_t (*setup)(unsigned i, const struct sysregs *r, cptr_t slots); /* client i, from 0 */
	err_t (*forget)(const struct sysregs *r);
	bool (*serve)(void); /* true: another pass is due */
};
void vdev_backend_loop(const struct vdev_backend *b);

/* The guard (vdev_guard.c): the backend's faults come to a thread of its
 * own, which makes one in client i's RAM window (its VMM revoked what it
 * granted) cost client i its device, and hands any other to the
 * supervisor.  Started by vdev_backend_loop; false if it could not be. */
bool vdev_guard_start(unsigned nclients);
/* b->serve(), or, if it faulted in a client's window, that client
 * forgotten (b->forget, as the supervisor's VDEV_FORGET) and true. */
bool vdev_guarded_serve(const struct vdev_backend *b);
