/* The system description: what the root task builds (cairn.root=linux),
 * read from a devicetree blob (a .dts file in systems/, compiled by dtc, the boot
 * module "system").  docs/SYSTEM.md is its reference.  sysdesc_parse reads
 * and checks the whole of it before anything is made, so that a bad
 * description is refused with an error naming its node, never half built.
 * Plain C over libfdt, no system calls: the host's tests run it too. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "servers/vmm/guest.h"

#define SD_DRIVERS 2      /* one virtio-blk-pci, one virtio-net-pci */
#define SD_BACKENDS 2     /* block servers, switches: each (one console server) */
#define SD_GUESTS 4
#define SD_PORTS 4        /* a backend's clients */
#define SD_PATH 64
#define SD_ERROR 192

enum sd_restart { RESTART_NEVER, RESTART_ALWAYS };
enum sd_driver_kind { DRIVER_BLK, DRIVER_NET };

/* What every server of the description has. */
struct sd_server {
	char path[SD_PATH];
	uint64_t quota;             /* bytes of kernel memory it is given */
	unsigned prio;
	unsigned cpu;               /* its thread's CPU */
	enum sd_restart restart;
	unsigned restart_limit;     /* restarts at most (RESTART_ALWAYS) */
};

struct sd_driver {
	struct sd_server s;
	bool present;
	uint32_t ids[4];            /* PCI vendor | device << 16, first found */
	unsigned nids;
};

/* A block server or a switch: its driver (s->drv[driver]; -1: none, a RAM disk or no
 * uplink) and its clients, the guests that name it, in order. */
struct sd_backend {
	struct sd_server s;
	int driver;
	uint64_t ram_disk_mib;      /* block server without a driver */
	unsigned nclients;
};

struct sd_guest {
	struct sd_server s;         /* the VMM's; quota: RAM and 64 MiB */
	struct guest_config cfg;
	int blk, net, con;          /* backend indices, -1: none */
	unsigned blk_port, net_port, con_port; /* its client number there, from 1 */
};

struct system {
	struct sd_driver drv[SD_DRIVERS]; /* by enum sd_driver_kind */
	struct sd_backend blk[SD_BACKENDS], net[SD_BACKENDS];
	struct sd_backend con;      /* the console server, where ncon is 1 */
	struct sd_guest guest[SD_GUESTS];
	unsigned ndrv, nblk, nnet, ncon, nguests;
	uint64_t quota;             /* everything the description asks for */
	char model[64];             /* what it says it is */
	char error[SD_ERROR];       /* why it was refused */
};

/* What the description is checked against. */
struct machine {
	uint64_t memory;            /* bytes the root task can give away */
	unsigned ncpus;
	const void *dtb;            /* the machine's, for passthrough devices */
};

#define SD_VMM_OVERHEAD (64ull << 20) /* a VMM's own beside its guest's RAM */
#define SD_PCI_QUOTA (16ull << 20)    /* the PCI server, when there are drivers */

/* Read and check description `fdt` (size bytes); false with s->error set
 * if it is bad. */
bool sysdesc_parse(const void *fdt, uint64_t size, const struct machine *m, struct system *s);
