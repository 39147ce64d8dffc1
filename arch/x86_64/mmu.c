/* The kernel's 4-level page tables (CR3): RAM direct-mapped at DIRECT_MAP,
 * the image at KERNEL_VBASE + its physical address with section
 * permissions (NX through EFER.NXE), devices uncached on demand.  The low
 * half is left to native threads (issue 4). */
#include "arch/x86_64/x86.h"
#include "hyp/arch.h"
#include "hyp/fbcon.h"
#include "mm/kmap.h"

#define P (1ull << 0)
#define RW (1ull << 1)
#define US (1ull << 2)
#define PWT (1ull << 3)
#define PCD (1ull << 4)
#define A PTE_A
#define D (1ull << 6)
#define PS (1ull << 7)
#define G (1ull << 8)
#define NX (1ull << 63)

/* 2 MiB leaves at the page-directory level; 1 GiB leaves would need
 * pdpe1gb, which qemu64 lacks.  Tables grant everything; leaves decide. */
static const struct pt_format x86_4level = {
	.levels = 4, .block_min_level = 2,
	.oa_mask = 0x000ffffffffff000ull,
	.table_mask = P | RW | US | PS, .table = P | RW | US,
	.valid = P,
	.block = P | PS | A | D | G, .page = P | A | D | G,
	.attr_set = { [0] = RW, [2] = US, [3] = PCD | PWT },
	.attr_clear = { [1] = NX },
};

/* The kernel's format with user leaves and no global bit. */
static const struct pt_format x86_user = {
	.levels = 4, .block_min_level = 2,
	.oa_mask = 0x000ffffffffff000ull,
	.table_mask = P | RW | US | PS, .table = P | RW | US,
	.valid = P,
	.block = P | PS | A | D | US, .page = P | A | D | US,
	.attr_set = { [0] = RW, [3] = PCD | PWT },
	.attr_clear = { [1] = NX },
};

const struct pt_format *arch_user_pt_format(void) { return &x86_user; }

extern char _start_va[], _end[];
static uint64_t cr3;

uint64_t arch_direct_map_offset(void) { return DIRECT_MAP; }
bool arch_mmu_enabled(void) { return true; } /* long mode always pages */

struct mem_range arch_kernel_image(void)
{
	return (struct mem_range){ pa_make((uintptr_t)_start_va - KERNEL_VBASE),
				   (uintptr_t)_end - (uintptr_t)_start_va };
}

void x86_mmu_enable(void) { __asm__ volatile("mov %0, %%cr3" :: "r"(cr3) : "memory"); }

err_t arch_mmu_init(const struct boot_info *bi, struct buddy *pages)
{
	err_t e = kmap_init(&x86_4level, bi, pages, KERNEL_VBASE);
	if (e)
		return e;
	fbcon_map(); /* the console draws on it as soon as these tables are in */
	cr3 = pa_addr(kmap_root());
	x86_mmu_enable();
	return E_OK;
}

void *arch_map_device(paddr_t base, uint64_t size)
{
	/* New entries replace non-present ones, which x86 never caches. */
	return kmap_device(base, size) == E_OK ? phys_to_virt(base.pa) : NULL;
}
