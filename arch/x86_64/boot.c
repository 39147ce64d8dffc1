/* First C code on the boot CPU, in long mode on the boot page tables:
 * read the multiboot2 information (from GRUB, or built by Cairn's UEFI
 * loader in the same format), ACPI, then generic boot. */
#include "arch/x86_64/x86.h"
#include "hyp/arch.h"
#include "hyp/boot.h"
#include "hyp/console.h"
#include "hyp/dtb.h"
#include "hyp/fbcon.h"
#include "hyp/printk.h"
#include "hyp/string.h"

#define COM1 0x3f8
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_FB_RGB 1
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_MEMORY_AVAILABLE 1
#define LOW_MEMORY (1 * MiB)

static struct boot_info boot_info;

/* COM1 is the console: every PC and every QEMU x86 machine has it.  It is
 * port I/O, not a DTB-described MMIO UART, so no UART driver is needed. */
const struct uart_driver *const uart_drivers[] = { NULL };

void arch_early_putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

void com1_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFOs on */
	outb(COM1 + 4, 0x0b); /* DTR, RTS, and OUT2, which gates the line on a PC */
	outb(COM1 + 1, 0x01); /* raise it on received data: its IOAPIC pin stays
			       * masked until a taker binds it (IRQ_GET) */
}

int arch_early_getc(void) { return inb(COM1 + 5) & 1 ? inb(COM1) : -1; }

/* ISA IRQ 4, which QEMU's and PCs' MADTs leave at IOAPIC pin 4 (no
 * override).  It is edge-triggered: a rise while the pin is masked is
 * lost, so a taker drains the input again after it acks. */
uint64_t arch_early_irq(void) { return VEC_IRQ_BASE + 4; }

/* Adjacent available entries merge (UEFI splits RAM by type, and every
 * split-off type that is free after boot maps to "available"). */
static void add_ram(struct boot_info *bi, uint64_t base, uint64_t len)
{
	struct mem_range *last = bi->nmem ? &bi->mem[bi->nmem - 1] : NULL;
	if (last && range_end(*last) == base)
		last->size += len;
	else if (bi->nmem < BOOT_MAX_MEM)
		bi->mem[bi->nmem++] = (struct mem_range){ pa_make(base), len };
}

static void parse_mmap(struct boot_info *bi, const uint8_t *tag, uint32_t size)
{
	uint32_t esize = *(const uint32_t *)(tag + 8);
	for (uint32_t off = 16; esize >= 24 && off + esize <= size; off += esize) {
		const uint8_t *e = tag + off;
		uint64_t base, len;
		uint32_t type;
		memcpy(&base, e, 8);
		memcpy(&len, e + 8, 8);
		memcpy(&type, e + 16, 4);
		if (type == MB2_MEMORY_AVAILABLE && len && base + len > base)
			add_ram(bi, base, len);
	}
}

/* The first boot module is what an initrd is elsewhere (the root task's
 * boot modules: a Linux guest's images, a system description); the
 * header asks for it page-aligned, as the root task takes whole pages. */
static void parse_module(struct boot_info *bi, const uint8_t *tag)
{
	uint32_t start = *(const uint32_t *)(tag + 8), end = *(const uint32_t *)(tag + 12);
	if (end <= start)
		return;
	bi->initrd = (struct mem_range){ pa_make(start), end - start };
	printk("cairn: boot module %s at 0x%x, %u KiB\n", (const char *)tag + 16, start,
	       (end - start) >> 10);
	boot_reserve(bi, bi->initrd, "initrd (boot module)");
}

/* A direct-colour framebuffer (Cairn's UEFI loader passes the GOP's; GRUB
 * one it set a video mode for; its EGA text mode is left alone) becomes a
 * mirror of the console, once the memory map it must stay out of is read.
 * The boot tables map the first 4 GiB: one above is not used. */
static void parse_framebuffer(struct boot_info *bi, const uint8_t *tag, uint32_t size)
{
	if (size < 38 || tag[29] != MB2_FB_RGB)
		return;
	struct fb_info fb = { .bpp = tag[28] };
	uint64_t base;
	memcpy(&base, tag + 8, 8);
	memcpy(&fb.pitch, tag + 16, 12); /* pitch, width, height */
	for (unsigned i = 0; i < 3; i++)
		fb.pos[i] = tag[32 + 2 * i], fb.size[i] = tag[33 + 2 * i];
	fb.base = pa_make(base);
	if (base + (uint64_t)fb.pitch * fb.height > 4 * GiB)
		printk("fbcon: framebuffer at 0x%lx, above the 4 GiB mapped at boot: not used\n", base);
	else
		fbcon_init(&fb, bi, phys_to_virt(base));
}

static void parse_mbi(struct boot_info *bi, uint64_t mbi_pa, bool uefi)
{
	const uint8_t *mbi = phys_to_virt(mbi_pa), *fb = NULL;
	uint32_t total = *(const uint32_t *)mbi;
	bi->source = uefi ? "UEFI" : "multiboot2";
	bi->bootargs = "";
	for (uint32_t off = 8; off + 8 <= total;) {
		const uint8_t *tag = mbi + off;
		uint32_t type = *(const uint32_t *)tag, size = *(const uint32_t *)(tag + 4);
		if (type == 0 || size < 8 || off + size > total)
			break;
		if (type == MB2_TAG_CMDLINE)
			bi->bootargs = (const char *)tag + 8;
		else if (type == MB2_TAG_LOADER)
			printk("cairn: loaded by %s\n", (const char *)tag + 8);
		else if (type == MB2_TAG_MODULE && size >= 16 && !bi->initrd.size)
			parse_module(bi, tag);
		else if (type == MB2_TAG_MMAP)
			parse_mmap(bi, tag, size);
		else if (type == MB2_TAG_FRAMEBUFFER)
			fb = tag;
		else if ((type == MB2_TAG_ACPI_OLD || type == MB2_TAG_ACPI_NEW) &&
			 !(type == MB2_TAG_ACPI_OLD && pa_addr(bi->acpi_rsdp)))
			bi->acpi_rsdp = pa_make(mbi_pa + off + 8);
		off += ALIGN_UP(size, 8);
	}
	if (fb)
		parse_framebuffer(bi, fb, *(const uint32_t *)(fb + 4));
	boot_reserve(bi, (struct mem_range){ pa_make(mbi_pa), total }, "boot info");
	boot_reserve(bi, (struct mem_range){ pa_make(0), LOW_MEMORY },
		     "low memory (BIOS, AP trampoline)");
}

/* The boot tables cover 4 GiB, but generic boot links free memory through
 * the direct map before the kernel's own tables exist.  Higher RAM gets
 * 1 GiB pages in the boot tables; without them (qemu64 lacks pdpe1gb) it is
 * left out.  Either way nothing above 512 GiB (one PDPT) is used yet. */
static void boot_map_high_ram(struct boot_info *bi)
{
	extern uint64_t boot_pdpt_low[512];
	uint32_t r[4];
	cpuid(0x80000001, 0, r);
	uint64_t limit = (r[3] & (1u << 26)) ? 512 * GiB : 4 * GiB;
	uint64_t hi = 0;
	unsigned kept = 0;
	bool clipped = false;
	for (unsigned i = 0; i < bi->nmem; i++) {
		struct mem_range m = bi->mem[i];
		clipped |= range_end(m) > limit;
		if (m.base.pa >= limit)
			continue;
		m.size = MIN(m.size, limit - m.base.pa);
		bi->mem[kept++] = m;
		hi = MAX(hi, range_end(m));
	}
	bi->nmem = kept;
	if (limit == 4 * GiB) {
		if (clipped)
			printk("cairn: RAM above 4 GiB left unused: no 1 GiB pages (pdpe1gb)\n");
		return;
	}
	for (uint64_t g = 4; g < ALIGN_UP(hi, GiB) / GiB; g++)
		boot_pdpt_low[g] = g << 30 | 0x83; /* present, writable, 1 GiB */
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

_Noreturn void x86_boot(uint64_t mbi_pa, uint64_t from_uefi)
{
	struct boot_info *bi = &boot_info;
	pcpus[0].self = &pcpus[0];
	wrmsr(MSR_GS_BASE, (uintptr_t)&pcpus[0]); /* this_cpu() is NULL until set up */
	com1_init();
	cpus[0].hwid = arch_cpu_hwid();
	x86_cpu_setup(&cpus[0]);
	parse_mbi(bi, mbi_pa, from_uefi);
	boot_map_high_ram(bi);
	if (bi->nmem == 0)
		boot_fail("no available memory in the %s memory map", bi->source);
	err_t e = acpi_parse(bi);
	if (e)
		boot_fail("ACPI: no usable MADT (%s)", err_str(e));
	kernel_boot_info(bi);
}
