/* The VMM as a server of its own (cairn.root=linux): the root task starts
 * it (servers/root/spawn.c) in its own address space, with its own CNode
 * and Memory, the console, interrupt control and the boot modules, in the
 * root's slot layout, so the same helpers serve both.  It runs the Linux
 * guest, then powers the machine off. */
#include "servers/vmm/vmm.h"

const struct bootinfo *bootinfo;

int main(const struct bootinfo *bi)
{
	bootinfo = bi;
	ulib_console = ROOT_CONSOLE;
	slots_init(bi->first_free_slot);
	uint64_t m[5] = { 0 };
	inv(SYS_MEM_INFO, ROOT_MEMORY, 0, 0, 0, 0, 0, 0, m);
	printf("vmm: a server of its own: its address space, a %lu-slot CNode, %lu MiB of "
	       "kernel memory\n", 1ul << bi->cnode_bits, m[0] >> 20);
	run_linux();
	INV0(SYS_DEBUG_POWEROFF, ROOT_CONSOLE);
	return 0;
}
