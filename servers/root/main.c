/* The root task: starts with every capability the kernel hands out, runs
 * the user-level test suite (cairn.root=test), the benchmarks
 * (cairn.root=bench; cairn.root=smpbench on several CPUs), the stress test (cairn.root=stress), the fuzzer
 * (cairn.root=fuzz), the multi-CPU fuzzer (cairn.root=fuzzsmp), the hostile
 * guest (cairn.root=vmhostile), the disk driver's test (cairn.root=disk), the system description's guests and servers
 * (cairn.root=linux, system.c) or the demo (default). */
#include "servers/root/root.h"

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
	else if (strstr(bi->bootargs, "cairn.root=smpbench"))
		run_bench_smp();
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
		run_system(); /* until no guest is left */
	else
		run_demo();
	INV0(SYS_DEBUG_POWEROFF, ROOT_CONSOLE);
	return 0;
}
