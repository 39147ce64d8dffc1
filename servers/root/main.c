/* The root task: starts with every capability the kernel hands out, runs
 * the user-level test suite (cairn.root=test), the benchmarks
 * (cairn.root=bench), the stress test (cairn.root=stress), the fuzzer
 * (cairn.root=fuzz), the multi-CPU fuzzer (cairn.root=fuzzsmp), the hostile
 * guest (cairn.root=vmhostile), the disk driver's test (cairn.root=disk), the VMM server with a Linux guest
 * (cairn.root=linux, servers/vmm) or the demo (default). */
#include <libfdt.h>
#include "servers/lib/vdev.h"
#include "servers/root/spawn.h"

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
 * virtio-blk, joined to the VMM by one endpoint (servers/lib/vdev.h). */
void start_vmm(void)
{
	extern const char vmm_image[], blk_image[];
	struct server s, b;
	uint64_t quota = (bootarg_u64("linux.mem=", 256) + 64) << 20;
	uint64_t blk_quota = (bootarg_u64("blk.mib=", 16) + 16) << 20;
	cptr_t ep = bootarg_u64("linux.blk=", 1) ? new_obj(OBJ_ENDPOINT, 0) : 0;
	err_t e = ep ? server_create(&b, blk_image, blk_quota, ROOT_PRIO) : E_NOENT;
	if (!e && !(e = server_give(&b, VDEV_SLOT_EP, ep, R_READ)))
		e = server_start(&b);
	printf("root: block server %s\n", e ? "not started" : "started");
	e = server_create(&s, vmm_image, quota, ROOT_PRIO);
	if (!e) /* console input: the UART's interrupt */
		e = server_give(&s, ROOT_IRQ_CONTROL, ROOT_IRQ_CONTROL, R_ALL);
	if (!e && ep)
		e = server_give(&s, VDEV_SLOT_EP, ep, R_WRITE | R_GRANT);
	if (!e)
		e = server_start(&s);
	printf("root: VMM server %s (%lu MiB quota)\n", e ? "did not start" : "started",
	       quota >> 20);
	if (e)
		return;
	cptr_t never = new_obj(OBJ_NOTIFICATION, 0);
	for (;;) { /* the VMM ends the run */
		struct sysregs w = { .nr = SYS_WAIT, .cap = never };
		sys(&w);
	}
}
