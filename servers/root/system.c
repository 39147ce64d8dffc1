/* cairn.root=linux: the system make run shows.  The VMM runs as a server of
 * its own, with kernel memory for the guest's RAM (linux.mem, 256 MiB by
 * default) and 64 MiB for everything else.  Beside it, each a server:
 *   the block server (linux.blk, on by default), which serves the guest's
 *     virtio-blk on QEMU's virtio-blk-pci disk through a driver server if
 *     the machine has one (disk.c), else on a RAM disk of its own;
 *   the net server (linux.net, on by default where the machine has a
 *     virtio-net-pci NIC), a switch between the guest's virtio-net and the
 *     NIC, through a driver server (servers/vnet);
 *   the PCI server, which finds both devices (driver.c).
 * Each backend is joined to the VMM by one endpoint and its notification
 * (servers/lib/vdev.h): the VMM's virtio slot 0 is the disk, slot 1 the
 * network.  linux.guests=N (up to 4) starts N guests, each with a VMM of
 * its own, a port on the switch and an Nth of the disk; the first has the
 * console's input.  Then the root task supervises the disk driver: it
 * starts a new one when the old one faults, and, with blk.kill_every=N,
 * kills it about every N requests (a test). */
#include "servers/lib/netchan.h"
#include "servers/lib/vdev.h"
#include "servers/root/disk.h"
#include "servers/vmm/vmm.h"

#define DRIVER_FAULTS_MAX 8

static struct disk disk;
static struct { struct driver drv; cptr_t chan, data; } nic;
static cptr_t faults; /* the drivers' fault endpoint */

static err_t start_blk(cptr_t ep, cptr_t kick, cptr_t progress)
{
	extern const char blk_image[];
	struct server b;
	bool real = disk.chan != NULL;
	uint64_t quota = (real ? 0 : bootarg_u64("blk.mib=", 16) + 16) << 20;
	err_t e = server_create(&b, blk_image, quota + (16ull << 20), ROOT_PRIO);
	if (!e)
		e = server_give(&b, VDEV_SLOT_EP, ep, R_READ);
	if (!e)
		e = server_give(&b, VDEV_SLOT_KICK, kick, R_READ | R_WRITE);
	if (!e && real)
		disk_give_client(&disk, &b);
	if (!e && progress)
		e = server_give(&b, BLK_SLOT_PROGRESS, progress, R_WRITE);
	return e ? e : server_start(&b);
}

/* The NIC's driver, its channel's memory the root task's. */
static bool nic_start(cptr_t client)
{
	extern const char vnet_image[];
	static const uint32_t ids[] = { 0x10001af4, 0x10411af4 }; /* legacy, modern */
	struct pcidev p;
	if (!pci_server_start() || !pci_find(ids, 2, &p))
		return false;
	nic.chan = new_obj(OBJ_FRAME, FRAME_BITS_4K);
	nic.data = new_obj(OBJ_FRAME, FRAME_BITS_2M);
	if (!nic.chan || !nic.data || !driver_init(&nic.drv, vnet_image, &p, client) ||
	    !driver_watch(&nic.drv, faults, 2))
		return false;
	driver_give(&nic.drv, NIC_SLOT_CHAN, nic.chan, R_READ | R_WRITE);
	driver_give(&nic.drv, NIC_SLOT_DATA, nic.data, R_READ | R_WRITE);
	err_t e = driver_start(&nic.drv);
	printf("root: NIC driver %s (INTID %u)\n", e ? "did not start" : "started", p.intid);
	return !e;
}

/* The switch: port 1 is this VMM's guest (the badge on its endpoint). */
static err_t start_net(cptr_t ep, cptr_t kick, cptr_t progress)
{
	extern const char net_image[];
	struct server n;
	err_t e = server_create(&n, net_image, 16ull << 20, ROOT_PRIO);
	if (!e)
		e = server_give(&n, VDEV_SLOT_EP, ep, R_READ);
	if (!e)
		e = server_give(&n, NET_SLOT_KICK, kick, R_READ | R_WRITE);
	if (!e)
		e = server_give(&n, NET_SLOT_DRIVER, nic.drv.ntfn, R_WRITE);
	if (!e)
		e = server_give(&n, NET_SLOT_CHAN, nic.chan, R_READ | R_WRITE);
	if (!e)
		e = server_give(&n, NET_SLOT_DATA, nic.data, R_READ | R_WRITE);
	if (!e && bootarg_u64("net.kill_every=", 0))
		e = server_give(&n, NET_SLOT_PROGRESS, progress, R_WRITE);
	return e ? e : server_start(&n);
}

/* The drivers' supervisor: their faults arrive on one endpoint (badge 1
 * the disk's, 2 the NIC's), and the servers' progress ticks (bit 1 the
 * block server's, bit 2 the switch's) on the notification bound to this
 * thread.  A driver that faults is started anew, at most DRIVER_FAULTS_MAX
 * times; with blk.kill_every=N (net.kill_every=N) one is killed about every
 * N requests (frames), a test of the restart. */
static _Noreturn void supervise(cptr_t faults, cptr_t progress)
{
	uint64_t every[3] = { 0, bootarg_u64("blk.kill_every=", 0) / BLK_PROGRESS_EVERY,
			      bootarg_u64("net.kill_every=", 0) / NET_PROGRESS_EVERY };
	uint64_t ticks[3] = { 0 };
	unsigned nfaults[3] = { 0 };
	struct driver *drv[3] = { NULL, disk.chan ? &disk.drv : NULL, nic.chan ? &nic.drv : NULL };
	const char *name[3] = { "", "disk", "NIC" };
	INV1(SYS_THREAD_BIND_NOTIFICATION, ROOT_THREAD, progress);
	for (;;) {
		struct sysregs r = { .nr = SYS_RECV, .cap = faults };
		if (sys(&r))
			continue;
		bool tick = msginfo_label(r.info) == MSG_LABEL_NOTIFY;
		for (unsigned k = 1; k < 3; k++) {
			if (tick ? !(r.cap & (1u << (k - 1))) : r.cap != k)
				continue;
			if (!drv[k] || !drv[k]->srv.thread || (tick && (!every[k] || ++ticks[k] % every[k])))
				continue;
			if (!tick && ++nfaults[k] > DRIVER_FAULTS_MAX) {
				printf("root: %s driver faulted %u times: not started again\n", name[k],
				       nfaults[k]);
				driver_kill(drv[k]);
				continue;
			}
			if (tick && k == 1 && !disk_catch_busy(&disk))
				printf("root: the disk driver held no request when killed\n");
			err_t e = driver_restart(drv[k]);
			printf("root: %s driver %s; a new one %s (restart %u", name[k],
			       tick ? "killed (kill_every)" : "faulted", e ? "FAILED" : "started",
			       drv[k]->restarts);
			if (k == 1)
				printf("; %lu requests replayed before it", disk.chan->replayed);
			printf(")\n");
		}
	}
}

/* Guest i's VMM: its part of the disk, its port on the switch (the block
 * and net servers tell their clients apart by the badge on the endpoint),
 * and console input (guest 1 only: the console has one reader). */
static err_t start_guest(unsigned i, cptr_t blk_ep, cptr_t blk_kick, cptr_t net_ep,
			 cptr_t net_kick)
{
	extern const char vmm_image[];
	struct server s;
	uint64_t quota = (bootarg_u64("linux.mem=", 256) + 64) << 20;
	cptr_t port = slot_alloc(), disk_port = slot_alloc(), id = slot_alloc();
	cptr_t n = new_obj(OBJ_NOTIFICATION, 0);
	err_t e = port && disk_port && id && n ? server_create(&s, vmm_image, quota, ROOT_PRIO)
					       : E_NOMEM;
	if (!e)
		e = inv(SYS_CNODE_MINT, ROOT_CNODE, id, ROOT_CNODE, n, R_READ, i, 0, 0);
	if (!e)
		e = server_give(&s, VMM_SLOT_ID, id, R_READ);
	if (!e && i == 1) /* console input: the UART's interrupt */
		e = server_give(&s, ROOT_IRQ_CONTROL, ROOT_IRQ_CONTROL, R_ALL);
	if (!e && blk_ep)
		e = inv(SYS_CNODE_MINT, ROOT_CNODE, disk_port, ROOT_CNODE, blk_ep, R_WRITE | R_GRANT,
			i, 0, 0);
	if (!e && blk_ep)
		e = server_give(&s, VDEV_SLOT_EP, disk_port, R_WRITE | R_GRANT);
	if (!e && blk_ep)
		e = server_give(&s, VDEV_SLOT_KICK, blk_kick, R_WRITE);
	if (!e && net_ep) /* the switch tells its ports apart by the badge */
		e = inv(SYS_CNODE_MINT, ROOT_CNODE, port, ROOT_CNODE, net_ep, R_WRITE | R_GRANT, i,
			0, 0);
	if (!e && net_ep)
		e = server_give(&s, VDEV_SLOT_EP + 2, port, R_WRITE | R_GRANT);
	if (!e && net_ep)
		e = server_give(&s, VDEV_SLOT_KICK + 2, net_kick, R_WRITE);
	if (!e)
		e = server_start(&s);
	printf("root: VMM server for guest %u %s (%lu MiB quota)\n", i,
	       e ? "did not start" : "started", quota >> 20);
	return e;
}

void start_vmm(void)
{
	cptr_t ep = bootarg_u64("linux.blk=", 1) ? new_obj(OBJ_ENDPOINT, 0) : 0;
	cptr_t kick = new_obj(OBJ_NOTIFICATION, 0);
	cptr_t progress = new_obj(OBJ_NOTIFICATION, 0);
	cptr_t net_ep = bootarg_u64("linux.net=", 1) ? new_obj(OBJ_ENDPOINT, 0) : 0;
	cptr_t net_kick = new_obj(OBJ_NOTIFICATION, 0);
	uint64_t guests = bootarg_u64("linux.guests=", 1);
	err_t e = E_NOENT;
	faults = new_obj(OBJ_ENDPOINT, 0);
	if (!faults || !progress)
		return;
	if (ep && kick) {
		if (!disk_start(&disk, kick, faults))
			disk = (struct disk){ 0 };
		bool kills = disk.chan && bootarg_u64("blk.kill_every=", 0);
		e = start_blk(ep, kick, kills ? progress : 0);
	}
	printf("root: block server %s\n", e ? "not started" : "started");
	if (net_ep && (!net_kick || !nic_start(net_kick) || start_net(net_ep, net_kick, progress)))
		net_ep = 0; /* no NIC, no network */
	printf("root: net server %s\n", net_ep ? "started" : "not started");
	bool any = false;
	for (unsigned i = 1; i <= guests && i <= 4; i++)
		any |= !start_guest(i, ep, kick, net_ep, net_kick);
	if (any)
		supervise(faults, progress);
}
