/* Device drivers as servers the root task starts, supervises and restarts
 * (driver.c): the PCI server that finds their devices, and what each
 * driver instance is given.  Every driver gets, in its CNode: */
#pragma once
#include "servers/root/spawn.h"

enum {
	DRIVER_SLOT_PCI = 8,    /* the PCI server, badged for its device */
	DRIVER_SLOT_NTFN = 9,   /* it waits here: its interrupt (bit 0), its client */
	DRIVER_SLOT_CLIENT = 10, /* its client's notification */
	DRIVER_SLOT_IRQ = 11,   /* its device's interrupt: INTx, or an MSI line */
	DRIVER_SLOT_STREAM = 15, /* its device's DMA stream, where there is an IOMMU */
};	/* 12-14: its channel (servers/lib/blkchan.h, netchan.h) */

struct pcidev {
	uint64_t handle;        /* the PCI server's */
	struct pa_range bars;   /* the frames its BARs lie in */
	unsigned intid;         /* its INTx line (0: none) */
	uint64_t rid;           /* requester ID: its stream ID */
};

/* The PCI server, started once, given the bridge's ECAM and memory window. */
bool pci_server_start(void);
/* The first device with one of the IDs (config word 0). */
bool pci_find(const uint32_t *ids, unsigned n, struct pcidev *out);

#define DRIVER_GIVE_MAX 6
struct driver {
	struct server srv;
	const char *image;
	struct pa_range bars;
	cptr_t dev_ep, irq, stream, ntfn, fault_ep, client, stolen;
	struct { uint64_t slot; cptr_t cap; unsigned rights; } give[DRIVER_GIVE_MAX];
	unsigned ngive;
	uint32_t started, restarts;
	unsigned msi;           /* its MSI line (0: its INTx line) */
	uint64_t quota;         /* each instance's (0: 4 MiB) */
	const char *name;       /* its thread's */
	unsigned prio;          /* (0: the root's) */
	unsigned cpu;           /* its thread's */
};

/* Claim p's interrupt (its INTx line, else an MSI line) and stream, mint its PCI capability, make the
 * notifications; client: its client's notification (given W). */
bool driver_init(struct driver *d, const char *image, const struct pcidev *p, cptr_t client);
/* Its faults to `faults`, with this badge (a supervisor watching several). */
bool driver_watch(struct driver *d, cptr_t faults, uint64_t badge);
/* A capability each instance gets besides (its channel). */
void driver_give(struct driver *d, uint64_t slot, cptr_t cap, unsigned rights);
err_t driver_start(struct driver *d);
void driver_kill(struct driver *d);
err_t driver_restart(struct driver *d);
/* Take its interrupt away (to a notification nobody waits on), once the
 * running instance has bound it: it no longer sees its device finish
 * anything (a test; its successor binds the interrupt again).
 * `instances`: how many have bound it so far, as the driver counts. */
bool driver_steal_irq(struct driver *d, volatile uint32_t *instances);
