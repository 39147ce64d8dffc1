/* The root task: the one user-space task the kernel starts.  Its ELF image
 * is linked into the kernel (hyp/root_image.S).  It gets a CNode with the
 * well-known capabilities of include/cairn/abi.h: all remaining memory as
 * one Memory quota, the IRQ control, the console, its own objects, a
 * boot-info page and the initrd's frames; everything it owns is paid from
 * that quota, so the accounting it sees is complete. */
#include "hyp/arch.h"
#include "hyp/console.h"
#include "hyp/cpu.h"
#include "hyp/dtb.h"
#include "hyp/fbcon.h"
#include "hyp/kmem.h"
#include "hyp/panic.h"
#include "hyp/printk.h"
#include "hyp/root.h"
#include <libfdt.h>
#include "hyp/string.h"
#include "hyp/thread.h"
#include "ipc/ipc.h"
#include "mm/aspace.h"
#include "mm/memory.h"

extern const char root_image_start[], root_image_end[];

struct memory root_mem = { .o = { .type = OBJ_MEMORY, .order = OBJ_SLAB } };
static struct obj irq_control = { .type = OBJ_IRQ_CONTROL, .order = OBJ_SLAB };
static struct obj console = { .type = OBJ_CONSOLE, .order = OBJ_SLAB };

struct loader {
	struct cnode *cn;
	struct aspace *as;
	struct cap *mem_cap;
	uint64_t next_slot;
};

static struct cap *slot(struct loader *l, uint64_t i) { return &cnode_slots(l->cn)[i]; }

static void give(struct loader *l, uint64_t i, struct obj *o, unsigned rights,
		 struct cap *parent)
{
	struct cap v = { .obj = o, .type = o->type, .rights = rights,
			 .size_bits = o->type == OBJ_FRAME ? FRAME_BITS_4K : 0 };
	obj_get(o);
	cap_install(slot(l, i), &v, parent);
}

/* A frame of any size: the capability says its size. */
static void give_frame(struct loader *l, uint64_t i, struct frame *f, unsigned rights,
		       struct cap *parent)
{
	give(l, i, &f->o, rights, parent);
	slot(l, i)->size_bits = f->bits;
}

/* A new frame at va in the root's space, its capability in the next slot. */
static void *new_page(struct loader *l, uint64_t va, unsigned rights)
{
	struct frame *f;
	if (frame_create(&root_mem, FRAME_BITS_4K, &f))
		panic("root task: out of memory");
	struct cap *c = slot(l, l->next_slot);
	give(l, l->next_slot++, &f->o, R_ALL, l->mem_cap);
	if (aspace_map(l->as, c, va, rights))
		panic("root task: cannot map 0x%lx", va);
	void *p = frame_kva(f);
	memset(p, 0, PAGE_SIZE);
	return p;
}

struct elf_hdr { uint8_t ident[16]; uint16_t type, machine; uint32_t version;
		 uint64_t entry, phoff, shoff; uint32_t flags;
		 uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx; };
struct elf_phdr { uint32_t type, flags; uint64_t offset, vaddr, paddr, filesz,
		  memsz, align; };

/* Load the image's PT_LOAD segments, text first; returns the entry. */
static uint64_t load_image(struct loader *l, struct bootinfo *bi)
{
	const struct elf_hdr *h = (const void *)root_image_start;
	if (memcmp(h->ident, "\177ELF", 4) || h->phentsize != sizeof(struct elf_phdr))
		panic("root task: not an ELF image");
	const struct elf_phdr *ph = (const void *)(root_image_start + h->phoff);
	for (unsigned i = 0; i < h->phnum; i++) {
		if (ph[i].type != 1 /* PT_LOAD */)
			continue;
		unsigned rights = R_READ | (ph[i].flags & 2 ? R_WRITE : 0) |
				  (ph[i].flags & 1 ? R_EXEC : 0);
		uint64_t start = ALIGN_DOWN(ph[i].vaddr, PAGE_SIZE);
		for (uint64_t va = start; va < ph[i].vaddr + ph[i].memsz; va += PAGE_SIZE) {
			char *p = new_page(l, va, rights);
			for (uint64_t b = 0; b < PAGE_SIZE; b++) {
				uint64_t off = va + b - ph[i].vaddr;
				if (va + b >= ph[i].vaddr && off < ph[i].filesz)
					p[b] = root_image_start[ph[i].offset + off];
			}
			bi->image_frames++;
			if (rights & R_EXEC)
				bi->image_text_frames++;
		}
	}
	return h->entry;
}

/* Whether a reservation other than r's own touches the page at pa. */
static bool page_shared(const struct boot_info *kbi, uint64_t pa, struct mem_range r)
{
	for (unsigned i = 0; i < kbi->nresv; i++) {
		struct mem_range o = kbi->resv[i].r;
		if (o.base.pa != r.base.pa && o.base.pa < pa + PAGE_SIZE && range_end(o) > pa)
			return true;
	}
	return false;
}

/* The initrd as read-only frames in the next slots: its own pages, which
 * the kernel's allocator never had, and nothing else's.  Its reservation
 * must start on a page and no other may touch its whole pages; a last,
 * partial page that another shares (GRUB puts its boot information right
 * after a module) is copied into a fresh frame instead. */
static void give_initrd(struct loader *l, struct bootinfo *bi, const struct boot_info *kbi)
{
	struct mem_range r = kbi->initrd;
	uint64_t end = ALIGN_UP(range_end(r), PAGE_SIZE), whole = ALIGN_DOWN(range_end(r), PAGE_SIZE);
	if (!r.size || r.base.pa % PAGE_SIZE)
		return;
	for (uint64_t pa = r.base.pa; pa < whole; pa += PAGE_SIZE)
		if (page_shared(kbi, pa, r))
			return;
	bi->initrd_first_slot = l->next_slot;
	for (uint64_t pa = r.base.pa; pa < end; pa += PAGE_SIZE) {
		struct frame *f;
		bool copy = pa == whole && page_shared(kbi, pa, r);
		if (copy ? frame_create(&root_mem, FRAME_BITS_4K, &f)
			 : frame_create_at(&root_mem, pa_make(pa), FRAME_BITS_4K, false, &f))
			panic("root task: out of memory");
		if (copy)
			memcpy(frame_kva(f), kmem_va(pa_make(pa)), range_end(r) - pa);
		give(l, l->next_slot++, &f->o, R_READ, l->mem_cap);
		bi->initrd_frames++;
	}
}

/* The root CNode keeps most of its slots for the root task. */
#define DEVICE_SLOTS_END (1u << (ROOT_CNODE_BITS - 1))

/* Device registers the DTB lists and the kernel does not drive: frames in
 * the next slots (2 MiB where aligned), each region once, never RAM, the
 * console, an interrupt controller or an IOMMU.  Top-level nodes only: the buses
 * beneath them are their drivers' business, except a PCI host bridge's
 * windows, which its drivers need. */
static bool overlaps(uint64_t base, uint64_t size, uint64_t pa, uint64_t len)
{
	return size && pa < base + size && base < pa + len;
}

/* Whether [pa, pa + len) holds a page given already, or the kernel's
 * console: its UART, or the framebuffer it draws on, which on a PC lies in
 * the PCI window given below. */
static bool given(const struct bootinfo *bi, uint64_t pa, uint64_t len)
{
	struct mem_range c = console_region(), f = fbcon_region();
	for (uint64_t i = 0; i < bi->ndev; i++)
		if (overlaps(bi->dev[i].base, bi->dev[i].size, pa, len))
			return true;
	return overlaps(c.base.pa, c.size, pa, len) || overlaps(f.base.pa, f.size, pa, len);
}

static bool kernel_device(const void *fdt, int node)
{
	return fdt_getprop(fdt, node, "interrupt-controller", NULL) ||
	       fdt_getprop(fdt, node, "#iommu-cells", NULL);
}

static void give_region(struct loader *l, struct bootinfo *bi, uint64_t base, uint64_t end)
{
	uint64_t pa = base;
	while (pa < end && bi->ndev < BOOTINFO_DEVS && l->next_slot < DEVICE_SLOTS_END) {
		while (pa < end && given(bi, pa, PAGE_SIZE))
			pa += PAGE_SIZE;
		if (pa >= end)
			return;
		uint64_t start = pa, first = l->next_slot;
		for (; pa < end && !given(bi, pa, PAGE_SIZE) && l->next_slot < DEVICE_SLOTS_END;) {
			bool big = IS_ALIGNED(pa, 2 * MiB) && end - pa >= 2 * MiB && !given(bi, pa, 2 * MiB);
			struct frame *f;
			if (frame_create_at(&root_mem, pa_make(pa), big ? FRAME_BITS_2M : FRAME_BITS_4K,
					    true, &f))
				panic("root task: out of memory");
			give_frame(l, l->next_slot++, f, R_READ | R_WRITE, l->mem_cap);
			pa += big ? 2 * MiB : PAGE_SIZE;
		}
		bi->dev[bi->ndev].base = start;
		bi->dev[bi->ndev].size = pa - start;
		bi->dev[bi->ndev].first_slot = first;
		bi->dev[bi->ndev].frames = l->next_slot - first;
		bi->ndev++;
	}
}

static void give_range(struct loader *l, struct bootinfo *bi, const void *fdt, int node,
		       struct mem_range r)
{
	uint64_t base = ALIGN_DOWN(r.base.pa, PAGE_SIZE);
	uint64_t end = ALIGN_UP(range_end(r), PAGE_SIZE);
	if (!r.size || end <= base || kmem_is_ram(pa_make(base)) ||
	    kmem_is_ram(pa_make(end - 1)) || kernel_device(fdt, node))
		return;
	give_region(l, bi, base, end);
}

/* A PCI host bridge's windows too (where its devices' BARs go): the first
 * GiB of each, so a 512 GiB 64-bit window does not eat the CNode. */
#define PCI_WINDOW_MAX (1ull << 30)

static void give_devices(struct loader *l, struct bootinfo *bi, const void *fdt)
{
	int depth = -1; /* the root node is depth 0, its children 1 */
	for (int node = fdt_next_node(fdt, -1, &depth); node >= 0;
	     node = fdt_next_node(fdt, node, &depth)) {
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);
		if (depth != 1 || !dtb_node_enabled(fdt, node) ||
		    (type && !strcmp(type, "memory")))
			continue;
		struct mem_range r;
		for (int i = 0; dtb_reg(fdt, node, i, &r) == E_OK; i++)
			give_range(l, bi, fdt, node, r);
		unsigned space;
		for (int i = 0; type && !strcmp(type, "pci") &&
				dtb_pci_window(fdt, node, i, &r, &space) == E_OK; i++)
			give_range(l, bi, fdt, node, (struct mem_range){ r.base, MIN(r.size, PCI_WINDOW_MAX) });
	}
}

/* Ports whose firmware gives no DTB (x86_64: ACPI) may make one of their
 * devices; and ports without a framebuffer console have none to keep. */
__attribute__((weak)) const void *arch_device_tree(void) { return NULL; }
__attribute__((weak)) struct mem_range fbcon_region(void) { return (struct mem_range){ 0 }; }

#define ROOT_STACK_PAGES 16
#define ROOT_DTB_VA 0x40000000ull

static void fill_bootinfo(struct loader *l, struct bootinfo *bi,
			  const struct boot_info *kbi, const void *fdt)
{
	bi->magic = BOOTINFO_MAGIC;
	bi->ncpus = ncpus_online;
	bi->nmem = kbi->nmem;
	for (unsigned i = 0; i < kbi->nmem && i < ARRAY_SIZE(bi->mem); i++) {
		bi->mem[i].base = kbi->mem[i].base.pa, bi->mem[i].size = kbi->mem[i].size;
		bi->mem_node[i] = kbi->mem_node[i];
	}
	bi->nnodes = kmem.nnodes;
	for (unsigned c = 0; c < ncpus_online; c++)
		bi->node_cpus[cpus[c].node] |= 1ull << c;
	for (unsigned i = 0; i < sizeof(bi->bootargs) - 1 && kbi->bootargs[i]; i++)
		bi->bootargs[i] = kbi->bootargs[i];
	bi->initrd_pa = kbi->initrd.base.pa;
	bi->initrd_size = kbi->initrd.size;
	bi->console_irq = console_irq();
	bi->cnode_bits = ROOT_CNODE_BITS;
	bi->prio = ROOT_PRIO;
	bi->features = (arch_vcpu_supported() ? BOOT_HAS_VCPU : 0) |
		       (arch_io_pt_format() ? BOOT_HAS_IOMMU : 0) |
		       (arch_cpu_stoppable() ? BOOT_HAS_HOTPLUG : 0);
	if (fdt) { /* a read-only copy of the DTB */
		uint64_t size = fdt_totalsize(fdt);
		for (uint64_t off = 0; off < size; off += PAGE_SIZE)
			memcpy(new_page(l, ROOT_DTB_VA + off, R_READ),
			       (const char *)fdt + off, MIN(PAGE_SIZE, size - off));
		bi->dtb_vaddr = ROOT_DTB_VA;
		bi->dtb_size = size;
	}
}

void root_task_create(const struct boot_info *kbi)
{
	uint64_t free = pmem_free_pages(&kmem) * PAGE_SIZE;
	uint64_t reserve = MAX(2 * MiB, free / 16);
	memory_init(&root_mem, ALIGN_DOWN(free - reserve, PAGE_SIZE), PMEM_ANY_NODE);

	struct loader l = { .next_slot = ROOT_FIRST_IMAGE_FRAME };
	struct thread *t;
	if (cnode_create(&root_mem, ROOT_CNODE_BITS, &l.cn) ||
	    aspace_create(&root_mem, 0, &l.as) ||
	    thread_create(&root_mem, arch_cpu_id(), &t))
		panic("root task: out of memory");
	give(&l, ROOT_MEMORY, &root_mem.o, R_ALL, NULL);
	l.mem_cap = slot(&l, ROOT_MEMORY);
	give(&l, ROOT_CNODE, &l.cn->o, R_ALL, l.mem_cap);
	give(&l, ROOT_ASPACE, &l.as->o, R_ALL, l.mem_cap);
	give(&l, ROOT_THREAD, &t->o, R_ALL, l.mem_cap);
	give(&l, ROOT_IRQ_CONTROL, &irq_control, R_ALL, NULL);
	give(&l, ROOT_CONSOLE, &console, R_ALL, NULL);

	struct frame *bif;
	if (frame_create(&root_mem, FRAME_BITS_4K, &bif))
		panic("root task: out of memory");
	give(&l, ROOT_BOOTINFO_FRAME, &bif->o, R_ALL, l.mem_cap);
	aspace_map(l.as, slot(&l, ROOT_BOOTINFO_FRAME), ROOT_BOOTINFO_VA, R_READ | R_WRITE);
	struct bootinfo *bi = frame_kva(bif);
	memset(bi, 0, PAGE_SIZE);

	uint64_t entry = load_image(&l, bi);
	for (unsigned i = 1; i <= ROOT_STACK_PAGES; i++)
		new_page(&l, ROOT_STACK_TOP - i * PAGE_SIZE, R_READ | R_WRITE);
	bi->stack_frames = ROOT_STACK_PAGES;
	const void *fdt = kbi->fdt ? kbi->fdt : arch_device_tree();
	fill_bootinfo(&l, bi, kbi, fdt);
	give_initrd(&l, bi, kbi);
	if (fdt)
		give_devices(&l, bi, fdt);
	bi->first_free_slot = l.next_slot;

	/* The thread: its CSpace is the CNode, guarded so that a capability
	 * address is simply a slot index. */
	struct cap cs = { .obj = &l.cn->o, .type = OBJ_CNODE, .rights = R_ALL,
			  .guard_bits = 64 - ROOT_CNODE_BITS };
	obj_get(&l.cn->o);
	cap_install(&t->cspace, &cs, slot(&l, ROOT_CNODE));
	thread_cspace_set(t);
	t->as = l.as;
	obj_get(&l.as->o);
	arch_regs_set_pc(&t->regs, entry);
	arch_regs_set_sp(&t->regs, ROOT_STACK_TOP);
	*regs_gpr(&t->regs, 0) = ROOT_BOOTINFO_VA;
	t->prio = ROOT_PRIO;
	t->mcp = PRIO_LEVELS - 1;
	printk("cairn: root task: %lu image pages, entry 0x%lx, %lu KiB quota, "
	       "%lu device regions\n", bi->image_frames, entry, root_mem.quota / KiB, bi->ndev);
	thread_make_runnable(t);
}
