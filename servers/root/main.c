/* The root task: starts with every capability the kernel hands out, runs
 * the user-level test suite (cairn.root=test), the benchmarks
 * (cairn.root=bench), the stress test (cairn.root=stress), the fuzzer
 * (cairn.root=fuzz), the multi-CPU fuzzer (cairn.root=fuzzsmp), the hostile
 * guest (cairn.root=vmhostile), the disk driver's test (cairn.root=disk), the VMM server with a Linux guest
 * (cairn.root=linux, servers/vmm) or the demo (default). */
#include "servers/lib/vdev.h"
#include "servers/root/disk.h"

const struct bootinfo *bootinfo;

int main(const struct bootinfo *bi)
{
	bootinfo = bi;
	ulib_console = ROOT_CONSOLE;
	slots_init(bi->first_free_slot);
	printf("root: up, %lu cpus, bootargs \"%s\"\n", bi->ncpus, bi->bootargs);
	if (strstr(bi->bootargs, "cairn.root=test"))
		run_tests();
	else if (strstr(bi->bootargs, "cairn.root=bench"))
		run_bench();
	else if (strstr(bi->bootargs, "cairn.root=stress"))
		run_stress();
	else if (strstr(bi->bootargs, "cairn.root=fuzzsmp"))
		run_fuzz_smp();
	else if (strstr(bi->bootargs, "cairn.root=fuzz"))
		run_fuzz();
	else if (strstr(bi->bootargs, "cairn.root=disk"))
		run_disk_test();
	else if (strstr(bi->bootargs, "cairn.root=vmhostile"))
		run_vm_hostile();
	else if (strstr(bi->bootargs, "cairn.root=linux"))
		start_vmm(); /* it powers the machine off when its guest stops */
	else
		run_demo();
	INV0(SYS_DEBUG_POWEROFF, ROOT_CONSOLE);
	return 0;
}

/* The VMM runs as a server of its own, with kernel memory for the guest's
 * RAM (linux.mem, 256 MiB by default) and 64 MiB for everything else; the
 * block server (linux.blk, on by default) beside it serves the guest's
 * virtio-blk, joined to the VMM by one endpoint (servers/lib/vdev.h), on
 * QEMU's virtio-blk-pci disk through a driver server if the machine has one
 * (servers/root/disk.c), else on a RAM disk of its own.  Then the root task
 * supervises the driver: it starts a new one when the old one faults, and,
 * with blk.kill_every=N, kills it about every N requests (a test). */
static struct disk disk;
#define DRIVER_FAULTS_MAX 8

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

static _Noreturn void supervise(cptr_t progress)
{
	uint64_t every = bootarg_u64("blk.kill_every=", 0) / BLK_PROGRESS_EVERY, ticks = 0;
	unsigned faults = 0;
	if (progress)
		INV1(SYS_THREAD_BIND_NOTIFICATION, ROOT_THREAD, progress);
	for (;;) {
		struct sysregs r = { .nr = SYS_RECV, .cap = disk.chan ? disk.drv.fault_ep : progress };
		if (!r.cap || sys(&r)) { /* nothing to watch: wait for ever */
			r = (struct sysregs){ .nr = SYS_WAIT, .cap = new_obj(OBJ_NOTIFICATION, 0) };
			sys(&r);
			continue;
		}
		bool tick = msginfo_label(r.info) == MSG_LABEL_NOTIFY;
		if (tick && !disk.drv.srv.thread)
			continue; /* no driver to kill */
		if (tick && (!every || ++ticks % every))
			continue;
		if (!tick && ++faults > DRIVER_FAULTS_MAX) {
			printf("root: disk driver faulted %u times: not started again\n", faults);
			driver_kill(&disk.drv);
			continue;
		}
		if (tick)
			disk_catch_busy(&disk);
		err_t e = driver_restart(&disk.drv);
		printf("root: disk driver %s; a new one %s (restart %u; %lu requests replayed "
		       "before it)\n", tick ? "killed (blk.kill_every)" : "faulted",
		       e ? "FAILED" : "started", disk.drv.restarts, disk.chan->replayed);
	}
}

void start_vmm(void)
{
	extern const char vmm_image[];
	struct server s;
	uint64_t quota = (bootarg_u64("linux.mem=", 256) + 64) << 20;
	cptr_t ep = bootarg_u64("linux.blk=", 1) ? new_obj(OBJ_ENDPOINT, 0) : 0;
	cptr_t kick = new_obj(OBJ_NOTIFICATION, 0);
	cptr_t progress = bootarg_u64("blk.kill_every=", 0) ? new_obj(OBJ_NOTIFICATION, 0) : 0;
	err_t e = E_NOENT;
	if (ep && kick) {
		if (!disk_start(&disk, kick))
			disk = (struct disk){ 0 };
		e = start_blk(ep, kick, disk.chan ? progress : 0);
	}
	printf("root: block server %s\n", e ? "not started" : "started");
	e = server_create(&s, vmm_image, quota, ROOT_PRIO);
	if (!e) /* console input: the UART's interrupt */
		e = server_give(&s, ROOT_IRQ_CONTROL, ROOT_IRQ_CONTROL, R_ALL);
	if (!e && ep)
		e = server_give(&s, VDEV_SLOT_EP, ep, R_WRITE | R_GRANT);
	if (!e && ep)
		e = server_give(&s, VDEV_SLOT_KICK, kick, R_WRITE);
	if (!e)
		e = server_start(&s);
	printf("root: VMM server %s (%lu MiB quota)\n", e ? "did not start" : "started",
	       quota >> 20);
	if (!e)
		supervise(progress);
}
