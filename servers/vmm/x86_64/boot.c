/* Linux's 64-bit boot protocol (Documentation/x86/boot.rst), done by the
 * VMM as no firmware is there: the bzImage lies whole where linux.c loads
 * every kernel, and its decompressor moves itself to where it runs.  Here,
 * in the 2 MiB the other ISAs give their DTB: the zero page (struct
 * boot_params: the image's setup header, the command line, the initramfs,
 * the e820 map, the RSDP), identity page tables for the first 4 GiB and a
 * GDT with the protocol's __BOOT_CS (0x10) and __BOOT_DS (0x18); the ACPI
 * tables at GUEST_ACPI.  VCPU 0 enters in long mode with rsi the zero
 * page; the others come up in real mode at their SIPI's page. */
#include "servers/vmm/vmm.h"

enum {
	BP_ACPI_RSDP = 0x070, BP_E820_ENTRIES = 0x1e8, BP_HDR = 0x1f1, BP_LOADER = 0x210,
	BP_LOADFLAGS = 0x211, BP_RAMDISK = 0x218, BP_RAMDISK_SIZE = 0x21c, BP_CMDLINE = 0x228,
	BP_XLOADFLAGS = 0x236, BP_CMDLINE_SIZE = 0x238, BP_E820 = 0x2d0,
};
#define RESET_VECTOR 0xffff0
#define ZP_PML4 0x1000
#define ZP_PDPT 0x2000
#define ZP_PD 0x3000                  /* four of them: 4 GiB of 2 MiB pages */
#define ZP_GDT 0x7000
#define ZP_CMDLINE 0x8000
#define ZP_SIZE 0x9000
#define E820_RAM 1
#define E820_RESERVED 2
#define XLF_KERNEL_64 1
#define LOADED_HIGH 1

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static unsigned e820(uint8_t *zp, unsigned n, uint64_t at, uint64_t size, uint32_t type)
{
	uint8_t *e = zp + BP_E820 + 20 * n;
	put64(e, at);
	put64(e + 8, size);
	put32(e + 16, type);
	return n + 1;
}

static void page_tables(uint8_t *zp, uint64_t zp_ipa)
{
	uint64_t *pml4 = (uint64_t *)(zp + ZP_PML4), *pdpt = (uint64_t *)(zp + ZP_PDPT);
	uint64_t *pd = (uint64_t *)(zp + ZP_PD);
	pml4[0] = (zp_ipa + ZP_PDPT) | 3;             /* present, writable */
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (zp_ipa + ZP_PD + i * 0x1000ull) | 3;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = (uint64_t)i << 21 | 0x83;      /* a 2 MiB page */
	uint64_t *gdt = (uint64_t *)(zp + ZP_GDT);
	gdt[2] = 0x00af9b000000ffffull;               /* 0x10: 64-bit code */
	gdt[3] = 0x00cf93000000ffffull;               /* 0x18: data */
}

uint64_t guest_fdt(const struct vmm *m, void *buf, uint64_t len, const char *bootargs,
		   uint64_t initrd, uint64_t initrd_size)
{
	const uint8_t *img = m->vm.ram_va + 0x200000; /* linux.c's IMAGE_OFFSET */
	uint8_t *zp = buf;
	uint64_t zp_ipa = (uint64_t)(zp - m->vm.ram_va) + m->vm.ram_ipa;
	uint16_t version;
	memcpy(&version, img + 0x206, 2);
	if (len < ZP_SIZE || memcmp(img + 0x202, "HdrS", 4) || version < 0x20c ||
	    !(img[BP_XLOADFLAGS] & XLF_KERNEL_64) || m->vm.ram_ipa) {
		printf("vmm: the kernel is not a bzImage with a 64-bit entry\n");
		return 0;
	}
	memset(zp, 0, ZP_SIZE);
	memcpy(zp + BP_HDR, img + BP_HDR, 0x202 + img[0x201] - BP_HDR); /* the setup header */
	zp[BP_LOADER] = 0xff;                                           /* no registered loader */
	zp[BP_LOADFLAGS] |= LOADED_HIGH;
	uint32_t cmdline_max;
	memcpy(&cmdline_max, img + BP_CMDLINE_SIZE, 4);
	/* the TSC's rate: no PIT or HPET is there to measure it against */
	snprintf((char *)zp + ZP_CMDLINE, cmdline_max < 2048 ? cmdline_max : 2048,
		 "tsc_early_khz=%lu %s", counter_freq() / 1000, bootargs);
	put32(zp + BP_CMDLINE, (uint32_t)(zp_ipa + ZP_CMDLINE));
	put32(zp + BP_RAMDISK, (uint32_t)initrd);
	put32(zp + BP_RAMDISK_SIZE, (uint32_t)initrd_size);
	unsigned n = e820(zp, 0, 0, LOW_RAM_END, E820_RAM);
	n = e820(zp, n, LOW_RAM_END, 0x100000 - LOW_RAM_END, E820_RESERVED);
	n = e820(zp, n, 0x100000, m->vm.ram_size - 0x100000, E820_RAM);
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	put64(zp + BP_ACPI_RSDP, acpi_build(m, m->vm.ram_va + GUEST_ACPI));
	/* The reset vector, where Linux's BIOS reboot jumps (its default when
	 * it finds no DMI): ACPI's reset register written, as firmware would. */
	static const uint8_t reset[] = { 0xb0, 0x01, 0xba, (PM_PORT + 4) & 0xff, (PM_PORT + 4) >> 8,
					 0xee, 0xf4, 0xeb, 0xfd }; /* mov al; mov dx; out; hlt; jmp */
	memcpy(m->vm.ram_va + RESET_VECTOR, reset, sizeof(reset));
	page_tables(zp, zp_ipa);
	return ZP_SIZE;
}

/* A segment register's value as VCPU_WRITE_REG takes it. */
static uint64_t seg(uint64_t sel, uint64_t attr, uint64_t limit)
{
	return sel | attr << 16 | limit << 32;
}

static err_t set(cptr_t v, const uint64_t (*r)[2], unsigned n)
{
	err_t e = E_OK;
	for (unsigned i = 0; i < n && !e; i++)
		e = INV2(SYS_VCPU_WRITE_REG, v, r[i][0], r[i][1]);
	return e;
}

/* Long mode with paging on the boot page tables, interrupts off. */
err_t x86_vcpu_long_mode(cptr_t v, uint64_t gdt, uint64_t cr3)
{
	const uint64_t code = seg(0x10, 0xa9b, 0xffffffff), data = seg(0x18, 0xc93, 0xffffffff);
	const uint64_t r[][2] = {
		{ VREG_X86_CR0, 0x80000033 }, { VREG_X86_CR4, 0x20 }, { VREG_X86_EFER, 0x500 },
		{ VREG_X86_CR3, cr3 }, { VREG_X86_CS, code }, { VREG_X86_DS, data },
		{ VREG_X86_ES, data }, { VREG_X86_SS, data }, { VREG_X86_FS, data },
		{ VREG_X86_GS, data }, { VREG_X86_GDTR, seg(0, 0, 0x1f) }, { VREG_X86_GDTR_BASE, gdt },
		{ VREG_PSTATE, 2 },
	};
	return set(v, r, sizeof(r) / sizeof(r[0]));
}

/* Real mode at page:0, as a SIPI leaves a CPU. */
err_t x86_vcpu_real_mode(cptr_t v, unsigned page)
{
	const uint64_t data = seg(0, 0x93, 0xffff);
	const uint64_t r[][2] = {
		{ VREG_X86_CR0, 0x10 }, { VREG_X86_CR4, 0 }, { VREG_X86_EFER, 0 }, { VREG_X86_CR3, 0 },
		{ VREG_X86_CS, seg((uint64_t)page << 8, 0x9b, 0xffff) },
		{ VREG_X86_CS_BASE, (uint64_t)page << 12 }, { VREG_X86_DS, data }, { VREG_X86_ES, data },
		{ VREG_X86_SS, data }, { VREG_X86_FS, data }, { VREG_X86_GS, data },
		{ VREG_X86_GDTR, seg(0, 0, 0xffff) }, { VREG_X86_IDTR, seg(0, 0, 0xffff) },
		{ VREG_PC, 0 }, { VREG_PSTATE, 2 },
	};
	return set(v, r, sizeof(r) / sizeof(r[0]));
}

/* The zero page's address, for the long-mode VCPU's page tables and GDT. */
uint64_t x86_zero_page_tables(uint64_t zp_ipa, uint64_t *gdt)
{
	*gdt = zp_ipa + ZP_GDT;
	return zp_ipa + ZP_PML4;
}
