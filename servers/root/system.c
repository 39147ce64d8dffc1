/* cairn.root=linux: the system the description says (sysdesc.h,
 * docs/SYSTEM.md): the "system" boot module, else the one built into this
 * image (systems/default.dts, what make run shows).  It is read and checked
 * whole first; a bad one is refused with its error and nothing starts.
 * Then, each a server of its own:
 *   the drivers (servers/vblk, servers/vnet), on the devices the PCI
 *     server finds (driver.c); a driver whose device the machine lacks is
 *     left out, and its backend goes on without it (a RAM disk, no uplink);
 *   the backends: block servers (servers/blk), switches (servers/net) and
 *     a console server (servers/con),
 *     each joined to its guests' VMMs by one endpoint, badged per client,
 *     and a notification (servers/lib/vdev.h);
 *   the guests, each a VMM (servers/vmm) with its configuration page.
 * Then the root task supervises them (supervise()): the drivers' faults and
 * the VMMs' faults and stops arrive on one endpoint, badged, and each
 * node's restart policy says what follows.  When no guest is left, the
 * root task returns and the machine powers off.
 *
 * Test knobs (bootargs): linux.vcpus=N gives every guest N VCPUs;
 * blk.kill_every=N (net.kill_every=N) kills the disk (NIC) driver about
 * every N requests (frames); blk.crash_after=N (net.crash_after=N,
 * con.crash_after=N) makes the block server (the switch, the console
 * server) fault once, about N requests (frames) on. */
#include "servers/lib/bootmod.h"
#include "servers/lib/netchan.h"
#include "servers/lib/vdev.h"
#include "servers/root/disk.h"
#include "servers/root/monitor.h"
#include "servers/root/sysdesc.h"
#include "servers/vmm/guest.h"

#define MODULES_VA 0x2000000000ull  /* the boot modules, read-only */
#define CONFIG_VA 0x3b00000000ull   /* the guests' configuration pages */
#define ROOT_RESERVE (24ull << 20)  /* the root's own: channels, objects */

/* on `faults`: the drivers', the backends' (block servers 8 + i, switches
 * 10 + i, the console server 12) and the guests' VMMs' (16 + i) */
enum { BADGE_DISK = 1, BADGE_NIC = 2, BADGE_BLK = 8, BADGE_NET = 10, BADGE_CON = 12,
       BADGE_GUEST = 16 };
#define MONITOR_TIMER (1u << 8)     /* on `progress`; the key's is MONITOR_KEY */

static struct system desc;
static struct disk disk;
static struct { struct driver drv; cptr_t chan, data; } nic;
static struct backend {
	cptr_t ep, kick;
	cptr_t sup;                 /* the endpoint badged VDEV_SUPERVISOR: this task's */
	struct server srv;
	unsigned restarts;
	bool up;
} blks[SD_BACKENDS], nets[SD_BACKENDS], con;
enum backend_kind { BK_BLK, BK_NET, BK_CON };
static struct guest {
	struct server srv;
	cptr_t config, id;          /* kept across restarts */
	uint64_t charged;           /* the root's memory its VMM took */
	unsigned restarts;
	bool up;
} guests[SD_GUESTS];
static cptr_t faults, progress;
struct gift { uint64_t slot; cptr_t cap; unsigned r; }; /* for a server's slot */

/* --- The description -------------------------------------------------------- */

static const void *description(uint64_t *size, const char **from)
{
	extern const char default_system[], default_system_end[];
	const struct bootmod_header *h = bootmod_map(MODULES_VA);
	const struct bootmod *m = h ? bootmod_find(h, "system") : NULL;
	if (m) {
		*size = m->size, *from = "the \"system\" boot module";
		return (const char *)h + m->offset;
	}
	*size = (uint64_t)(default_system_end - default_system), *from = "the built-in default";
	return default_system;
}

static bool read_description(void)
{
	uint64_t size, mem[5] = { 0 };
	const char *from;
	const void *fdt = description(&size, &from);
	inv(SYS_MEM_INFO, ROOT_MEMORY, 0, 0, 0, 0, 0, 0, mem);
	uint64_t free = mem[0] - mem[1];
	struct machine m = { .memory = free > ROOT_RESERVE ? free - ROOT_RESERVE : 0,
			     .ncpus = (unsigned)bootinfo->ncpus,
			     .dtb = (const void *)bootinfo->dtb_vaddr };
	if (!sysdesc_parse(fdt, size, &m, &desc)) {
		printf("root: system description (%s) refused: %s\n", from, desc.error);
		printf("root: nothing started\n");
		return false;
	}
	uint64_t vcpus = bootarg_u64("linux.vcpus=", 0); /* a test knob */
	for (unsigned i = 0; vcpus && vcpus <= GUEST_VCPUS_MAX && i < desc.nguests; i++) {
		desc.guest[i].cfg.vcpus = vcpus;
		for (unsigned k = 0; k < vcpus; k++)
			desc.guest[i].cfg.cpu[k] = k % bootinfo->ncpus;
	}
	printf("root: system \"%s\" (%s): %u guests, %u block servers, %u switches, %u drivers; "
	       "%lu MiB of %lu MiB\n", desc.model, from, desc.nguests, desc.nblk, desc.nnet, desc.ndrv,
	       desc.quota >> 20, m.memory >> 20);
	return true;
}

static uint64_t root_used(void)
{
	uint64_t m[5] = { 0 };
	inv(SYS_MEM_INFO, ROOT_MEMORY, 0, 0, 0, 0, 0, 0, m);
	return m[1];
}

/* --- Drivers and backends ---------------------------------------------------- */

/* The NIC's driver, its channel's memory the root task's. */
static bool nic_start(cptr_t client, const struct sd_driver *spec)
{
	extern const char vnet_image[];
	struct pcidev p;
	if (!pci_server_start() || !pci_find(spec->ids, spec->nids, &p))
		return false;
	nic.chan = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	nic.data = new_obj(OBJ_FRAME, FRAME_BITS_2M);
	if (!nic.chan || !nic.data || !driver_init(&nic.drv, vnet_image, &p, client) ||
	    !driver_watch(&nic.drv, faults, BADGE_NIC))
		return false;
	nic.drv.quota = spec->s.quota, nic.drv.prio = spec->s.prio, nic.drv.name = "vnet";
	nic.drv.cpu = spec->s.cpu;
	driver_give(&nic.drv, NIC_SLOT_CHAN, nic.chan, R_READ | R_WRITE);
	driver_give(&nic.drv, NIC_SLOT_DATA, nic.data, R_READ | R_WRITE);
	err_t e = driver_start(&nic.drv);
	printf("root: NIC driver %s (%s %u)\n", e ? "did not start" : "started",
	       nic.drv.msi ? "MSI line" : "INTID", nic.drv.msi ? nic.drv.msi : p.intid);
	return !e;
}

static err_t give_all(struct server *s, const struct gift *g, unsigned n)
{
	err_t e = E_OK;
	for (unsigned i = 0; !e && i < n; i++)
		if (g[i].cap)
			e = server_give(s, g[i].slot, g[i].cap, g[i].r);
	return e;
}

/* A backend's faults to the supervisor, with this badge: where they go
 * now, and where its guard hands those not in a client's RAM
 * (VDEV_SLOT_FAULT, servers/lib/vdev_guard.c). */
static err_t watch(struct server *s, uint64_t badge)
{
	cptr_t c = slot_alloc();
	err_t e = c ? inv(SYS_CNODE_MINT, ROOT_CNODE, c, ROOT_CNODE, faults, R_WRITE, badge, 0, 0)
		    : E_NOMEM;
	if (!e)
		e = server_give(s, VDEV_SLOT_FAULT, c, R_WRITE);
	if (!e)
		e = INV3(SYS_THREAD_CONFIGURE, s->thread, s->cspace, s->as, c);
	if (c)
		slot_free(c); /* the thread holds its own reference */
	return e;
}

/* Block server i: on its driver's disk when that driver started, else on
 * a RAM disk; each client an equal part. */
static err_t blk_start(unsigned i)
{
	extern const char blk_image[];
	const struct sd_backend *d = &desc.blk[i];
	struct backend *b = &blks[i];
	bool real = d->driver >= 0 && disk.chan;
	char args[64];
	snprintf(args, sizeof(args), "blk.clients=%u blk.mib=%lu", d->nclients,
		 real ? 0 : (d->ram_disk_mib ? d->ram_disk_mib : 16));
	/* a description's disk the machine lacks: a RAM disk of the default size */
	uint64_t fallback = real || d->ram_disk_mib ? 0 : 16ull << 20;
	char name[8];
	snprintf(name, sizeof(name), "blk%u", i + 1);
	struct server_spec spec = { .quota = d->s.quota + fallback,
				    .prio = d->s.prio, .args = args, .name = name, .cpu = d->s.cpu };
	bool kills = real && (bootarg_u64("blk.kill_every=", 0) || bootarg_u64("blk.crash_after=", 0));
	const struct gift give[] = {
		{ VDEV_SLOT_EP, b->ep, R_READ },
		{ VDEV_SLOT_KICK, b->kick, R_READ | R_WRITE },
		{ BLK_SLOT_PROGRESS, kills ? progress : 0, R_WRITE },
	};
	err_t e = server_create_spec(&b->srv, blk_image, &spec);
	if (!e)
		e = give_all(&b->srv, give, 3);
	if (!e)
		e = watch(&b->srv, BADGE_BLK + i);
	if (!e && real)
		disk_give_client(&disk, &b->srv);
	if (!e)
		e = server_start(&b->srv);
	if (e) /* what was made goes back: no backend_died will destroy it */
		server_destroy(&b->srv);
	printf("root: block server %s %s (%s)\n", d->s.path, e ? "did not start" : "started",
	       real ? "on the disk driver" : "a RAM disk");
	return e;
}

/* Switch i: its guests' ports, told apart by badge, and the NIC as its
 * uplink when that driver started. */
static err_t net_start(unsigned i)
{
	extern const char net_image[];
	const struct sd_backend *d = &desc.net[i];
	struct backend *n = &nets[i];
	bool up = d->driver >= 0 && nic.chan;
	char name[8];
	snprintf(name, sizeof(name), "net%u", i + 1);
	struct server_spec spec = { .quota = d->s.quota, .prio = d->s.prio, .name = name,
				    .cpu = d->s.cpu };
	const struct gift give[] = {
		{ VDEV_SLOT_EP, n->ep, R_READ },
		{ NET_SLOT_KICK, n->kick, R_READ | R_WRITE },
		{ NET_SLOT_DRIVER, up ? nic.drv.ntfn : 0, R_WRITE },
		{ NET_SLOT_CHAN, up ? nic.chan : 0, R_READ | R_WRITE },
		{ NET_SLOT_DATA, up ? nic.data : 0, R_READ | R_WRITE },
		{ NET_SLOT_PROGRESS,
		  up && (bootarg_u64("net.kill_every=", 0) || bootarg_u64("net.crash_after=", 0)) ? progress : 0,
		  R_WRITE },
	};
	err_t e = server_create_spec(&n->srv, net_image, &spec);
	if (!e)
		e = give_all(&n->srv, give, 6);
	if (!e)
		e = watch(&n->srv, BADGE_NET + i);
	if (!e)
		e = server_start(&n->srv);
	if (e) /* what was made goes back: no backend_died will destroy it */
		server_destroy(&n->srv);
	printf("root: switch %s %s (%s)\n", d->s.path, e ? "did not start" : "started",
	       up ? "its uplink the NIC" : "no uplink");
	return e;
}

/* The console server: its guests' hvc0 (servers/con). */
static err_t con_start(void)
{
	extern const char con_image[];
	struct server_spec spec = { .quota = desc.con.s.quota, .prio = desc.con.s.prio, .name = "con",
				    .cpu = desc.con.s.cpu };
	const struct gift give[] = {
		{ VDEV_SLOT_EP, con.ep, R_READ },
		{ VDEV_SLOT_KICK, con.kick, R_READ | R_WRITE },
		{ CON_SLOT_PROGRESS, bootarg_u64("con.crash_after=", 0) ? progress : 0, R_WRITE },
	};
	err_t e = server_create_spec(&con.srv, con_image, &spec);
	if (!e)
		e = give_all(&con.srv, give, 3);
	if (!e)
		e = watch(&con.srv, BADGE_CON);
	if (!e)
		e = server_start(&con.srv);
	if (e) /* what was made goes back: no backend_died will destroy it */
		server_destroy(&con.srv);
	printf("root: console server %s %s\n", desc.con.s.path, e ? "did not start" : "started");
	return e;
}

/* The backend that names driver k, and its notification (the driver's client). */
static cptr_t driver_client(enum sd_driver_kind k)
{
	struct sd_backend *d = k == DRIVER_BLK ? desc.blk : desc.net;
	struct backend *b = k == DRIVER_BLK ? blks : nets;
	for (unsigned i = 0; i < SD_BACKENDS; i++)
		if (d[i].driver == (int)k)
			return b[i].kick;
	return 0;
}

static bool backends_start(void)
{
	struct backend *all[] = { &blks[0], &blks[1], &nets[0], &nets[1], &con };
	for (unsigned i = 0; i < 5; i++)
		if (!(all[i]->ep = new_obj(OBJ_ENDPOINT, 0)) || !(all[i]->kick = new_obj(OBJ_NOTIFICATION, 0)) ||
		    !(all[i]->sup = slot_alloc()) ||
		    inv(SYS_CNODE_MINT, ROOT_CNODE, all[i]->sup, ROOT_CNODE, all[i]->ep, R_WRITE,
			VDEV_SUPERVISOR, 0, 0))
			return false;
	if (desc.drv[DRIVER_BLK].present &&
	    !disk_start(&disk, driver_client(DRIVER_BLK), faults, &desc.drv[DRIVER_BLK]))
		disk = (struct disk){ 0 };
	if (desc.drv[DRIVER_NET].present && !nic_start(driver_client(DRIVER_NET), &desc.drv[DRIVER_NET]))
		nic.chan = 0, printf("root: no NIC driver: switches have no uplink\n");
	for (unsigned i = 0; i < desc.nblk; i++)
		if (!(blks[i].up = !blk_start(i)))
			return false;
	for (unsigned i = 0; i < desc.nnet; i++)
		if (!(nets[i].up = !net_start(i)))
			return false;
	return !desc.ncon || (con.up = !con_start());
}

/* --- Guests ----------------------------------------------------------------- */

/* A copy of backend b's endpoint, badged for client `port`, in the VMM's slot. */
static err_t give_port(struct server *s, uint64_t slot, struct backend *b, unsigned port)
{
	cptr_t c = slot_alloc();
	err_t e = c ? inv(SYS_CNODE_MINT, ROOT_CNODE, c, ROOT_CNODE, b->ep, R_WRITE | R_GRANT, port,
			  0, 0) : E_NOMEM;
	if (!e)
		e = server_give(s, slot, c, R_WRITE | R_GRANT);
	if (!e)
		e = server_give(s, slot + 1, b->kick, R_WRITE);
	if (c)
		slot_free(c);
	return e;
}

/* Guest i's VMM: its configuration page, its identity, its supervisor, its
 * virtio slots (0 the disk, 1 the network), its devices. */
static err_t guest_start(unsigned i)
{
	extern const char vmm_image[];
	const struct sd_guest *g = &desc.guest[i];
	struct guest *rt = &guests[i];
	struct pa_range devs[GUEST_PASS_MAX];
	for (unsigned k = 0; k < g->cfg.npass; k++)
		devs[k] = (struct pa_range){ g->cfg.pass[k].pa, g->cfg.pass[k].size };
	char name[8];
	snprintf(name, sizeof(name), "vmm%u", i + 1);
	struct server_spec spec = { .quota = g->s.quota, .prio = g->s.prio, .devs = devs,
				    .ndevs = (unsigned)g->cfg.npass, .name = name };
	cptr_t sup = slot_alloc();
	uint64_t before = root_used();
	err_t e = sup ? server_create_spec(&rt->srv, vmm_image, &spec) : E_NOMEM;
	if (!e)
		e = inv(SYS_CNODE_MINT, ROOT_CNODE, sup, ROOT_CNODE, faults, R_WRITE, BADGE_GUEST + i,
			0, 0);
	const struct gift give[] = {
		{ VMM_SLOT_ID, rt->id, R_READ | R_WRITE },
		{ VMM_SLOT_CONFIG, rt->config, R_READ },
		{ VMM_SLOT_SUPERVISOR, sup, R_WRITE },
		{ VMM_SLOT_MONITOR, g->cfg.console_input ? progress : 0, R_WRITE },
		/* console input and passed-through interrupts: the VMM claims them */
		{ ROOT_IRQ_CONTROL, g->cfg.console_input || g->cfg.npass ? ROOT_IRQ_CONTROL : 0, R_ALL },
	};
	if (!e)
		e = give_all(&rt->srv, give, 5);
	if (!e && g->blk >= 0)
		e = give_port(&rt->srv, VMM_SLOT_VDEV(0), &blks[g->blk], g->blk_port);
	if (!e && g->net >= 0)
		e = give_port(&rt->srv, VMM_SLOT_VDEV(1), &nets[g->net], g->net_port);
	if (!e && g->con >= 0)
		e = give_port(&rt->srv, VMM_SLOT_VDEV(2), &con, g->con_port);
	if (!e) /* a VMM that faults is this guest stopping */
		e = INV3(SYS_THREAD_CONFIGURE, rt->srv.thread, rt->srv.cspace, rt->srv.as, sup);
	if (!e)
		e = server_start(&rt->srv);
	if (e) /* what was made goes back: no guest_died will destroy it */
		server_destroy(&rt->srv);
	if (sup)
		slot_free(sup);
	rt->charged = root_used() - before;
	rt->up = !e;
	printf("root: guest %u (%s): VMM %s, %lu MiB RAM, %lu VCPUs\n", i + 1, g->s.path,
	       e ? "did not start" : "started", g->cfg.mem_mib, g->cfg.vcpus);
	return e;
}

/* Each guest's configuration page and identity (a notification badged
 * with its number), the root's to keep across restarts. */
static bool configs_make(void)
{
	for (unsigned i = 0; i < desc.nguests; i++) {
		struct guest *rt = &guests[i];
		cptr_t view = slot_alloc(), n = new_obj(OBJ_NOTIFICATION, 0);
		rt->config = new_obj(OBJ_FRAME, FRAME_BITS_4K);
		rt->id = slot_alloc();
		if (!rt->config || !view || !n || !rt->id ||
		    inv(SYS_CNODE_MINT, ROOT_CNODE, rt->id, ROOT_CNODE, n, R_READ | R_WRITE, i + 1, 0, 0) ||
		    INV4(SYS_CNODE_COPY, ROOT_CNODE, view, ROOT_CNODE, rt->config, R_ALL) ||
		    INV3(SYS_AS_MAP, ROOT_ASPACE, view, CONFIG_VA + i * PAGE_SIZE_U, R_READ | R_WRITE))
			return false;
		memcpy((void *)(CONFIG_VA + i * PAGE_SIZE_U), &desc.guest[i].cfg, sizeof(struct guest_config));
	}
	return true;
}

/* --- Supervision ------------------------------------------------------------ */

/* What a node's policy says once it has stopped `count` times. */
static bool policy_restarts(const struct sd_server *s, unsigned restarts, const char *what)
{
	if (s->restart == RESTART_ALWAYS && restarts < s->restart_limit)
		return true;
	printf("root: %s %s not restarted (%s)\n", what, s->path,
	       s->restart == RESTART_NEVER ? "restart = \"never\"" : "restart-limit reached");
	return false;
}

/* A driver died: it faulted, or kill_every killed it (a test of the same). */
static void driver_died(unsigned k, bool killed)
{
	struct driver *d = k == BADGE_DISK ? &disk.drv : &nic.drv;
	const struct sd_server *s = &desc.drv[k == BADGE_DISK ? DRIVER_BLK : DRIVER_NET].s;
	const char *name = k == BADGE_DISK ? "disk" : "NIC";
	if (!d->srv.thread)
		return;
	if (killed && k == BADGE_DISK && !disk_catch_busy(&disk))
		printf("root: the disk driver held no request when killed\n");
	if (!policy_restarts(s, d->restarts, "driver")) {
		driver_kill(d);
		return;
	}
	err_t e = driver_restart(d);
	printf("root: %s driver %s; a new one %s (restart %u", name,
	       killed ? "killed (kill_every)" : "faulted", e ? "FAILED" : "started", d->restarts);
	if (k == BADGE_DISK)
		printf("; %lu requests replayed before it", disk.chan->replayed);
	printf(")\n");
}

/* Backend b lets go of client `port` before its VMM ends. */
static void backend_forget(struct backend *b, unsigned port)
{
	struct sysregs r = { .nr = SYS_CALL, .cap = b->sup, .info = msginfo(VDEV_FORGET, 1, 0),
			     .mr = { port } };
	uint64_t regs[5];
	/* A backend never sends or calls but to fault: one that is blocked so
	 * has faulted, its fault waiting behind this message, and would never
	 * answer.  Its restart (or not) forgets everything anyway.  (It could
	 * still fault between this look and the call: a call with a timeout
	 * would close that.) */
	if (!b->up || inv(SYS_THREAD_READ_REGS, b->srv.thread, 0, 0, 0, 0, 0, 0, regs) ||
	    regs[4] == TS_BLOCKED_SEND || regs[4] == TS_BLOCKED_REPLY)
		return;
	if (sys(&r) || r.mr[0])
		printf("root: a backend did not let go of client %u\n", port);
}

static uint64_t ticks(void) { return counter_now(); }

/* The root's memory in use, once `expect` of it: a CPU still leaving one
 * of a VMM's threads may hold its last objects a moment longer, so look
 * again for up to 100 ms, yielding.  Not below this task's priority: a
 * guest's VCPU busy on this CPU would hold the supervisor there for as
 * long as it liked. */
static uint64_t settled(uint64_t expect)
{
	uint64_t used = root_used(), hz = counter_freq(), start = ticks();
	while (used != expect && ticks() - start < hz / 10) {
		INV0(SYS_YIELD, 0);
		used = root_used();
	}
	return used;
}

/* Guest i's VMM stopped (its guest powered off) or faulted. */
static void guest_died(unsigned i, bool fault)
{
	struct guest *rt = &guests[i];
	const struct sd_guest *g = &desc.guest[i];
	if (!rt->up)
		return;
	if (g->blk >= 0)
		backend_forget(&blks[g->blk], g->blk_port);
	if (g->net >= 0)
		backend_forget(&nets[g->net], g->net_port);
	if (g->con >= 0)
		backend_forget(&con, g->con_port);
	uint64_t before = root_used();
	server_destroy(&rt->srv); /* its VCPUs, RAM and grants go with it */
	rt->up = false;
	uint64_t back = before - settled(before - rt->charged);
	printf("root: guest %u (%s) %s; ", i + 1, g->s.path, fault ? "faulted" : "stopped");
	if (back == rt->charged)
		printf("its VMM gave back all its memory\n");
	else
		printf("its VMM gave back %lu of its %lu bytes\n", back, rt->charged);
	if (!policy_restarts(&g->s, rt->restarts, "guest"))
		return;
	rt->restarts++;
	printf("root: guest %u restarting (restart %u of %u)\n", i + 1, rt->restarts,
	       g->s.restart_limit);
	guest_start(i);
}

static bool any_guest_up(void)
{
	for (unsigned i = 0; i < desc.nguests; i++)
		if (guests[i].up)
			return true;
	return false;
}

/* A backend faulted.  Its policy says whether a new one takes its place:
 * on the same endpoint and notification, which the root task keeps, so
 * its clients' VMMs need only set up again (VMM_EVENT_RECONNECT), and
 * their guests' queues, in guest RAM, go on from their used rings.  A
 * block server's driver is restarted with it, its channel emptied first:
 * what the old server had asked for is asked again by the guests' rings. */
static void backend_died(enum backend_kind k, unsigned i)
{
	static const char *const what[] = { "block server", "switch", "console server" };
	struct backend *b = k == BK_BLK ? &blks[i] : k == BK_NET ? &nets[i] : &con;
	const struct sd_backend *d = k == BK_BLK ? &desc.blk[i] : k == BK_NET ? &desc.net[i] : &desc.con;
	if (!b->up)
		return;
	b->up = false;
	printf("root: %s faulted\n", d->s.path);
	if (!policy_restarts(&d->s, b->restarts, what[k]))
		return; /* left stopped: its guests' devices no longer answer */
	b->restarts++;
	server_destroy(&b->srv);
	bool driver = k == BK_BLK && d->driver >= 0 && disk.chan;
	if (driver) {
		driver_kill(&disk.drv);
		disk_forget_requests(&disk);
	}
	err_t e = k == BK_BLK ? blk_start(i) : k == BK_NET ? net_start(i) : con_start();
	if (!e && driver)
		e = driver_restart(&disk.drv);
	b->up = !e;
	/* short: a line over one debug write (64 bytes) may be split by
	 * another server's output (system-console-restart beside CPU hogs) */
	printf("root: %s %s (restart %u of %u)\n", d->s.path,
	       e ? "could not be restarted" : "restarted", b->restarts, d->s.restart_limit);
	for (unsigned g = 0; !e && g < desc.nguests; g++) {
		const struct sd_guest *sg = &desc.guest[g];
		int uses = k == BK_BLK ? sg->blk : k == BK_NET ? sg->net : sg->con;
		if (guests[g].up && uses == (int)i)
			INV1(SYS_SIGNAL, guests[g].id, VMM_EVENT_RECONNECT);
	}
}

/* A test of that (blk.crash_after=N, net.crash_after=N): the block server
 * (the switch) is made to fault about N requests (frames) on, by its next
 * instruction's address made one that is not mapped. */
static void crash(struct server *s, const char *what)
{
	uint64_t r[5];
	if (INV0(SYS_THREAD_SUSPEND, s->thread) ||
	    inv(SYS_THREAD_READ_REGS, s->thread, 0, 0, 0, 0, 0, 0, r) ||
	    INV4(SYS_THREAD_WRITE_REGS, s->thread, 0x10, r[1], r[2], r[3]) ||
	    INV0(SYS_THREAD_RESUME, s->thread))
		printf("root: could not crash the %s\n", what);
	else
		printf("root: the %s is made to fault (crash_after)\n", what);
}

/* The monitor's figures for each server's Memory. */
static void report(const char *why)
{
	struct mon_memory m[3 + 2 * SD_BACKENDS + SD_GUESTS];
	unsigned n = 0;
	static const char *const names[] = { "vblk", "vnet", "blk1", "blk2", "net1", "net2", "con" };
	const struct server *srv[] = { &disk.drv.srv, &nic.drv.srv, &blks[0].srv, &blks[1].srv,
				       &nets[0].srv, &nets[1].srv, &con.srv };
	for (unsigned i = 0; i < 7; i++)
		if (srv[i]->mem)
			m[n++] = (struct mon_memory){ names[i], srv[i]->mem };
	for (unsigned i = 0; i < desc.nguests; i++)
		if (guests[i].up)
			m[n++] = (struct mon_memory){ desc.guest[i].s.path, guests[i].srv.mem };
	monitor_report(why, m, n);
}

/* The drivers', backends' and VMMs' faults and the VMMs' stops arrive on
 * `faults` (badges above), the
 * servers' progress ticks (bit 1 the block server's, bit 2 the switch's,
 * bit 4 the console server's),
 * the monitor key (bit MONITOR_KEY, from the VMM with the console) and its
 * timer (bit MONITOR_TIMER) on the notification bound to this thread. */
static void supervise(void)
{
	uint64_t every[3] = { 0, bootarg_u64("blk.kill_every=", 0) / BLK_PROGRESS_EVERY,
			      bootarg_u64("net.kill_every=", 0) / NET_PROGRESS_EVERY };
	uint64_t ticks[3] = { 0 }, crash_at[3] = { 0, bootarg_u64("blk.crash_after=", 0) / BLK_PROGRESS_EVERY,
						     bootarg_u64("net.crash_after=", 0) / NET_PROGRESS_EVERY };
	uint64_t con_crash_at = bootarg_u64("con.crash_after=", 0) / CON_PROGRESS_EVERY;
	INV1(SYS_THREAD_BIND_NOTIFICATION, ROOT_THREAD, progress);
	while (any_guest_up()) {
		struct sysregs r = { .nr = SYS_RECV, .cap = faults };
		if (sys(&r))
			continue;
		if (msginfo_label(r.info) == MSG_LABEL_NOTIFY) {
			if (r.cap & MONITOR_TIMER)
				monitor_tick();
			if (r.cap & MONITOR_KEY)
				report("Ctrl-T");
			if (r.cap & MONITOR_TIMER)
				report("monitor.every");
			for (unsigned k = 1; k < 3; k++)
				if (r.cap & (1u << (k - 1)) && every[k] && !(++ticks[k] % every[k]))
					driver_died(k, true);
			if (r.cap & 1 && crash_at[1] && !--crash_at[1])
				crash(&blks[0].srv, "block server");
			if (r.cap & 2 && crash_at[2] && !--crash_at[2])
				crash(&nets[0].srv, "switch");
			if (r.cap & CON_PROGRESS_BIT && con_crash_at && !--con_crash_at)
				crash(&con.srv, "console server");
		} else if (r.cap == BADGE_DISK || r.cap == BADGE_NIC) {
			driver_died((unsigned)r.cap, false);
		} else if (r.cap >= BADGE_BLK && r.cap < BADGE_BLK + desc.nblk) {
			backend_died(BK_BLK, (unsigned)r.cap - BADGE_BLK);
		} else if (r.cap >= BADGE_NET && r.cap < BADGE_NET + desc.nnet) {
			backend_died(BK_NET, (unsigned)r.cap - BADGE_NET);
		} else if (r.cap == BADGE_CON) {
			backend_died(BK_CON, 0);
		} else if (r.cap >= BADGE_GUEST && r.cap < BADGE_GUEST + desc.nguests) {
			guest_died((unsigned)r.cap - BADGE_GUEST, msginfo_label(r.info) != GUEST_STOPPED);
		}
	}
	printf("root: no guest is left\n");
}

void run_system(void)
{
	if (!read_description() || !(faults = new_obj(OBJ_ENDPOINT, 0)) ||
	    !(progress = new_obj(OBJ_NOTIFICATION, 0)) || !configs_make() || !backends_start())
		return;
	thread_name(ROOT_THREAD, "root");
	monitor_baseline();
	uint64_t every = bootarg_u64("monitor.every=", 0);
	if (every && !monitor_every(every, progress, MONITOR_TIMER))
		printf("root: no timer for the monitor\n");
	for (unsigned i = 0; i < desc.nguests; i++)
		guest_start(i);
	supervise();
}
