/* Generic boot: parse the DTB, set up physical memory, turn the MMU on,
 * bring up the interrupt controller, timer and the other CPUs, and print a
 * one-screen summary that ends with "cairn: boot ok". */
#include <libfdt.h>

#include "hyp/arch.h"
#include "hyp/boot.h"
#include "hyp/kernel.h"
#include "hyp/root.h"
#include "hyp/console.h"
#include "hyp/cpu.h"
#include "hyp/kmem.h"
#include "hyp/printk.h"
#include "hyp/selftest.h"
#include "ipc/ipc.h"
#include "mm/pmem.h"

static struct boot_info boot_info;

_Noreturn void boot_fail(const char *fmt, ...)
{
	va_list ap;
	printk("cairn: boot error: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\ncairn: powering off\n");
	arch_poweroff();
}

static void print_range(const char *what, struct mem_range r, const char *name)
{
	printk("  %-9s 0x%010lx-0x%010lx %6lu KiB  %s\n", what, r.base.pa,
	       range_end(r) - 1, r.size / KiB, name ? name : "");
}

static void print_memory(const struct boot_info *bi)
{
	printk("mem: %u range(s), %u reserved\n", bi->nmem, bi->nresv);
	for (unsigned i = 0; i < bi->nmem; i++)
		print_range("ram", bi->mem[i], NULL);
	for (unsigned i = 0; i < bi->nresv; i++)
		print_range("reserved", bi->resv[i].r, bi->resv[i].name);
}

static void print_allocator(const struct pmem *p)
{
	for (unsigned n = 0; n < p->nnodes; n++) {
		const struct buddy *b = &p->node[n];
		printk("mm: buddy %lu of %lu pages free (%lu MiB)", b->free_pages,
		       b->managed_pages, b->free_pages * PAGE_SIZE / MiB);
		if (p->nnodes > 1)
			printk(" on node %u", n);
		printk("; free blocks per order:\n ");
		for (unsigned o = 0; o < BUDDY_ORDERS; o++)
			if (b->nfree[o])
				printk(" %u:%lu", o, b->nfree[o]);
		printk("\n");
	}
	printk("mm: slab classes %u-%u bytes, one slab per Memory object\n",
	       1u << SLAB_MIN_SHIFT, 1u << (SLAB_MIN_SHIFT + SLAB_CLASSES - 1));
}

/* p, if it points into the `size` bytes at `from`, moved to `to`. */
static const char *moved(const char *p, uintptr_t from, uint64_t size, const void *to)
{
	uintptr_t off = (uintptr_t)p - from;
	return off < size ? (const char *)to + off : p;
}

/* Once the MMU is on the kernel reaches RAM, its image and devices only, so
 * a DTB that firmware left outside the RAM it describes is copied into RAM
 * first, while the MMU is still off and every address reads as itself; the
 * strings boot_info borrows from it (bootargs, reservation names) move too. */
static void keep_dtb_reachable(struct boot_info *bi)
{
	if (!bi->fdt)
		return;
	uint64_t at = (uintptr_t)bi->fdt, size = fdt_totalsize(bi->fdt);
	for (unsigned i = 0; i < bi->nmem; i++)
		if (at >= bi->mem[i].base.pa && at + size <= range_end(bi->mem[i]))
			return;
	unsigned order = 0;
	while ((PAGE_SIZE << order) < size)
		order++;
	paddr_t pa;
	if (pmem_alloc(&kmem, PMEM_ANY_NODE, order, &pa))
		boot_fail("no memory for a copy of the DTB");
	bi->fdt = memcpy(kmem_va(pa), bi->fdt, size);
	bi->bootargs = moved(bi->bootargs, at, size, bi->fdt);
	for (unsigned i = 0; i < bi->nresv; i++)
		bi->resv[i].name = moved(bi->resv[i].name, at, size, bi->fdt);
	printk("dtb: at 0x%lx, outside RAM: copied to 0x%lx\n", at, pa.pa);
}

static unsigned local_node(void) { return cpus[arch_cpu_id()].node; }

/* The boot CPU's NUMA node (the others' are set as they start): where the
 * kernel's page tables go, and every CPU's allocations look first. */
static unsigned boot_node(const struct boot_info *bi)
{
	for (unsigned i = 0; i < bi->ncpus; i++)
		if (bi->cpu_hwid[i] == cpus[0].hwid && kmem.node[bi->cpu_node[i]].free_pages)
			cpus[0].node = bi->cpu_node[i];
	kmem.local = local_node;
	return cpus[0].node;
}

static void setup_memory(struct boot_info *bi)
{
	if (boot_reserve(bi, arch_kernel_image(), "kernel"))
		boot_fail("too many reserved ranges");
	err_t e = pmem_init(&kmem, bi, arch_direct_map_offset());
	if (e)
		boot_fail("no usable memory (%s)", err_str(e));
	print_memory(bi);
	keep_dtb_reachable(bi);
	if ((e = arch_mmu_init(bi, &kmem.node[boot_node(bi)])))
		boot_fail("kernel page tables: %s", err_str(e));
	print_allocator(&kmem);
}

/* Each NUMA node's RAM and CPUs (the QEMU scenario numa-2-nodes reads it). */
static void print_nodes(const struct boot_info *bi)
{
	for (unsigned n = 0; n < kmem.nnodes && kmem.nnodes > 1; n++) {
		uint64_t ram = 0, mask = 0;
		for (unsigned i = 0; i < bi->nmem; i++)
			ram += bi->mem_node[i] == n ? bi->mem[i].size : 0;
		for (unsigned c = 0; c < ncpus_online; c++)
			mask |= (uint64_t)(cpus[c].node == n) << c;
		printk("numa: node %u: %lu MiB RAM, %lu pages free, cpus 0x%lx, nearest", n,
		       ram / MiB, kmem.node[n].free_pages, mask);
		for (unsigned i = 0; i < kmem.nnodes; i++)
			printk(" %u", kmem.near[n][i]);
		printk("\n");
	}
}

static void print_banner(void)
{
	printk("\ncairn: Cairn microkernel hypervisor, %s\n", arch_name());
}

_Noreturn void kernel_boot_fdt(const void *fdt, paddr_t fdt_pa)
{
	struct boot_info *bi = &boot_info;
	print_banner();
	if (dtb_parse(fdt, bi) != E_OK)
		boot_fail("DTB at 0x%lx: %s", fdt_pa.pa, bi->why);
	struct mem_range dtb = { fdt_pa, fdt_totalsize(fdt) };
	if (boot_reserve(bi, dtb, "dtb"))
		boot_fail("too many reserved ranges");
	bi->source = "DTB";
	kernel_boot(bi);
}

_Noreturn void kernel_boot_info(struct boot_info *bi)
{
	print_banner();
	kernel_boot(bi);
}

static const struct boot_info *machine;

bool kmem_is_ram(paddr_t pa)
{
	for (unsigned i = 0; i < machine->nmem; i++)
		if (pa.pa >= machine->mem[i].base.pa && pa.pa < range_end(machine->mem[i]))
			return true;
	return false;
}

_Noreturn void kernel_boot(struct boot_info *bi)
{
	char features[160];
	machine = bi;
	arch_cpu_describe(features, sizeof(features));
	printk("cpu: %u found (%s), booting on hwid 0x%lx; %s\n",
	       bi->ncpus, bi->source, arch_cpu_hwid(), features);
	printk("cairn: bootargs \"%s\"\n", bi->bootargs);
	setup_memory(bi);
	arch_virt_init();

	err_t e;
	if ((e = arch_irq_init(bi)))
		boot_fail("interrupt controller: %s", err_str(e));
	arch_irq_init_cpu();
	if ((e = arch_iommu_init(bi)) && e != E_NOENT)
		boot_fail("IOMMU: %s", err_str(e));
	if ((e = arch_timer_init(bi)))
		boot_fail("timer: %s", err_str(e));
	printk("timer: %lu Hz, irq %u, one-shot; cpu0 interrupt after %lu us\n",
	       arch_timer_freq(), arch_timer_irq(), timer_selftest(500));

	bool mm_ok = true;
	for (unsigned n = 0; n < kmem.nnodes && boot_arg(bi, "cairn.test=mm"); n++)
		mm_ok &= mm_selftest(&kmem.node[n], n, bi);
	if (!mm_ok)
		boot_fail("page allocator self-test failed");
	if (boot_arg(bi, "cairn.test=fault")) {
		volatile uintptr_t unmapped = 0x10; /* page 0 is never mapped */
		*(volatile uint64_t *)unmapped = 1;  /* must trap and report */
	}

	unsigned n = smp_boot(bi);
	uint64_t ms = arch_timer_now() * 1000 / arch_timer_freq();
	print_nodes(bi);
	printk("cairn: boot ok (%u of %u cpus, %lu MiB free, %lu ms since reset)\n",
	       n, bi->ncpus, pmem_free_pages(&kmem) * PAGE_SIZE / MiB, ms);
	if (!arch_user_pt_format()) {
		printk("cairn: no native threads on this port yet\n");
		for (;;)
			arch_wait_for_interrupt();
	}
	ipc_fastpath_on = !boot_arg(bi, "cairn.fastpath=off");
	if (boot_arg(bi, "cairn.idle_poll=off"))
		idle_poll_us = 0;
	bkl_lock();
	root_task_create(bi);
	bkl_unlock();
	kernel_start_cpu();
}
