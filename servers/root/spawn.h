/* Servers the root task starts from ELF images (spawn.c). */
#pragma once
#include "servers/root/root.h"

#define SERVER_CNODE_BITS 14
#define SERVER_STACK_PAGES 16
/* A server's slots follow the root's layout (enum root_slot) but for its
 * image, which starts here: 8 to 23 are left for what it is given. */
#define SERVER_FIRST_FRAME 24

struct server {
	cptr_t mem, cnode, cspace, as, thread; /* in the root's CNode */
};

/* Start `image` with `quota` bytes of kernel memory at `prio` (also its
 * MCP). */
err_t server_spawn(struct server *s, const char *image, uint64_t quota, unsigned prio);
/* The same in steps: made, given capabilities (a copy of cap with `rights`
 * in its slot `slot`, which the layout leaves free: 8-23), started. */
err_t server_create(struct server *s, const char *image, uint64_t quota, unsigned prio);
/* The same with more said: */
struct pa_range { uint64_t base, size; };
struct server_spec {
	uint64_t quota;
	unsigned prio;
	/* the device frames that lie wholly inside the physical ranges
	 * devs[0..ndevs) (in its next slots, listed in its boot info's dev[])
	 * and a read-only copy of the DTB */
	const struct pa_range *devs;
	unsigned ndevs;
	const char *args;           /* its bootargs, before the root's own */
	const char *name;           /* its thread's, for the monitor */
	unsigned cpu;               /* its thread's CPU (0, the root task's, by default) */
};
err_t server_create_spec(struct server *s, const char *image, const struct server_spec *spec);
err_t server_give(struct server *s, uint64_t slot, cptr_t cap, unsigned rights);
err_t server_start(struct server *s);
/* Stop it and take back everything it holds: its memory, revoked. */
void server_destroy(struct server *s);
