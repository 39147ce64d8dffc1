/* The VMM as a server of its own (cairn.root=linux): the root task starts
 * it (servers/root/spawn.c) in its own address space, with its own CNode
 * and Memory, the console, interrupt control and the boot modules, in the
 * root's slot layout, so the same helpers serve both.  It runs the Linux
 * guest its configuration page describes (servers/vmm/guest.h), then tells
 * the root task that the guest stopped. */
#include "servers/vmm/vmm.h"

const struct bootinfo *bootinfo;

int main(const struct bootinfo *bi)
{
	bootinfo = bi;
	ulib_console = ROOT_CONSOLE;
	slots_init(bi->first_free_slot);
	uint64_t m[5] = { 0 }, id[5];
	if (!inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, VMM_SLOT_ID, 0, 0, 0, 0, 0, id) &&
	    id[0] == OBJ_NOTIFICATION)
		vmm_index = (unsigned)id[2];
	inv(SYS_MEM_INFO, ROOT_MEMORY, 0, 0, 0, 0, 0, 0, m);
	printf("vmm: a server of its own (guest %u): its address space, a %lu-slot CNode, %lu MiB "
	       "of kernel memory\n", vmm_index, 1ul << bi->cnode_bits, m[0] >> 20);
	run_linux();
	/* Tell the root task, whose policy decides what follows; without a
	 * supervisor, this guest was the machine's purpose. */
	if (!inv(SYS_CNODE_IDENTIFY, ROOT_CNODE, VMM_SLOT_SUPERVISOR, 0, 0, 0, 0, 0, id) &&
	    id[0] == OBJ_ENDPOINT) {
		struct sysregs r = { .nr = SYS_SEND, .cap = VMM_SLOT_SUPERVISOR,
				     .info = msginfo(GUEST_STOPPED, 0, 0) };
		sys(&r);
		for (;;) { /* until the root task ends this VMM */
			struct sysregs w = { .nr = SYS_WAIT, .cap = VMM_SLOT_ID };
			sys(&w);
		}
	}
	INV0(SYS_DEBUG_POWEROFF, ROOT_CONSOLE);
	return 0;
}
