/* The debug console capability: write, allocator statistics, power off. */
#include "hyp/arch.h"
#include "hyp/console.h"
#include "hyp/kmem.h"
#include "hyp/printk.h"
#include "hyp/syscall.h"

static err_t console(struct thread *t)
{
	struct cap *c;
	return lookup_cap(t, arg(t, REG_CAP), OBJ_CONSOLE, R_WRITE, &c);
}

/* The bytes travel in x0-x7, so the kernel never reads user memory. */
err_t sys_debug_write(struct thread *t)
{
	err_t e = console(t);
	uint64_t len = arg(t, REG_INFO);
	if (e)
		return e;
	if (len > MSG_WORDS * 8)
		return E_RANGE;
	char buf[MSG_WORDS * 8 + 1];
	for (unsigned i = 0; i < len; i++)
		buf[i] = arg(t, i / 8) >> (8 * (i % 8));
	buf[len] = 0;
	printk("%s", buf);
	return E_OK;
}

/* Console input, up to 8 bytes in x0 (first byte lowest), their count in x1. */
err_t sys_debug_read(struct thread *t)
{
	err_t e = console(t);
	if (e)
		return e;
	uint64_t bytes = 0;
	unsigned n = 0;
	for (int c; n < 8 && (c = console_getc()) >= 0; n++)
		bytes |= (uint64_t)(uint8_t)c << (8 * n);
	set_ret(t, 0, bytes);
	set_ret(t, 1, n);
	return E_OK;
}

err_t sys_debug_stats(struct thread *t)
{
	err_t e = console(t);
	if (e)
		return e;
	uint64_t node = arg(t, 0);
	if (node >= kmem.nnodes)
		return E_RANGE;
	set_ret(t, 0, pmem_free_pages(&kmem));
	set_ret(t, 1, obj_live);
	set_ret(t, 2, kmem.node[node].free_pages);
	set_ret(t, 3, kmem.node[node].managed_pages);
	return E_OK;
}

err_t sys_debug_poweroff(struct thread *t)
{
	err_t e = console(t);
	if (e)
		return e;
	printk("cairn: powered off by the root task\n");
	arch_poweroff();
}
