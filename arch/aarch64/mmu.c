/* The kernel's EL2 stage-1 translation (TTBR0_EL2, 48-bit VA, 4 KiB granule).
 *
 * The kernel is identity-mapped: VA == PA for its image, for RAM (the direct
 * map) and for the device pages it uses.  EL2 without VHE has one VA range
 * and no user half, and native threads and guests are translated by their
 * own regimes, so nothing else competes for this one. */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/sysreg.h"
#include "hyp/arch.h"
#include "hyp/console.h"
#include "hyp/spinlock.h"
#include "hyp/string.h"
#include "mm/buddy.h"
#include "mm/pt.h"

#define AF (1ull << 10)
#define AP_RO (1ull << 7)
#define AP_1 (1ull << 6) /* RES1 in the EL2 regime */
#define SH_INNER (3ull << 8)
#define XN (1ull << 54)
#define ATTR(idx) ((uint64_t)(idx) << 2)

#define MAIR_DEVICE_nGnRE 0x04 /* index 0 */
#define MAIR_NORMAL_WB 0xff    /* index 1 */

/* The EL2 stage-1 descriptor format, as data for the generic walker. */
static const struct pt_format el2_stage1 = {
	.levels = 4,
	.block_min_level = 1,
	.oa_mask = 0x0000fffffffff000ull,
	.table_mask = 3, .table = 3,
	.valid = 1,
	.block = 1 | AF | AP_1,
	.page = 3 | AF | AP_1,
	.attr_set = { [3] = ATTR(0) },                         /* PT_DEVICE */
	.attr_clear = { [0] = AP_RO, [1] = XN, [3] = ATTR(1) | SH_INNER },
};

static struct pt kernel_pt;
static spinlock_t kernel_pt_lock = SPINLOCK_INIT;
static uint64_t tcr_value;
static bool mmu_on;

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], _end[];

uint64_t arch_direct_map_offset(void) { return 0; }
bool arch_mmu_enabled(void) { return mmu_on; }

static err_t alloc_table(void *ctx, paddr_t *pa)
{
	struct buddy *b = ctx;
	err_t e = buddy_alloc(b, 0, pa);
	if (e == E_OK)
		memset(buddy_va(b, *pa), 0, PAGE_SIZE);
	return e;
}

static err_t map_identity(uint64_t lo, uint64_t hi, unsigned attrs)
{
	return lo < hi ? pt_map(&kernel_pt, lo, pa_make(lo), hi - lo, attrs) : E_OK;
}

/* RAM around the kernel image; the image itself with section permissions. */
static err_t map_kernel(const struct boot_info *bi)
{
	uint64_t ks = (uintptr_t)__text_start, ke = (uintptr_t)_end;
	err_t e;
	for (unsigned i = 0; i < bi->nmem; i++) {
		uint64_t lo = bi->mem[i].base.pa, hi = range_end(bi->mem[i]);
		bool holds_kernel = lo <= ks && ke <= hi;
		if ((e = map_identity(lo, holds_kernel ? ks : hi, PT_W)) ||
		    (holds_kernel && (e = map_identity(ke, hi, PT_W))))
			return e;
	}
	if ((e = map_identity(ks, (uintptr_t)__text_end, PT_X)) ||
	    (e = map_identity((uintptr_t)__rodata_start, (uintptr_t)__rodata_end, 0)) ||
	    (e = map_identity((uintptr_t)__data_start, ke, PT_W)))
		return e;
	struct mem_range con = console_region();
	return map_identity(ALIGN_DOWN(con.base.pa, PAGE_SIZE),
			    ALIGN_UP(range_end(con), PAGE_SIZE), PT_W | PT_DEVICE);
}

void aarch64_mmu_enable(void)
{
	write_sysreg(mair_el2, MAIR_DEVICE_nGnRE | (MAIR_NORMAL_WB << 8));
	write_sysreg(tcr_el2, tcr_value);
	write_sysreg(ttbr0_el2, kernel_pt.root_pa.pa);
	isb();
	__asm__ volatile("tlbi alle2" ::: "memory");
	dsb(nsh);
	write_sysreg(sctlr_el2, SCTLR_EL2_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA |
				SCTLR_I | SCTLR_WXN);
	isb();
}

err_t arch_mmu_init(const struct boot_info *bi, struct buddy *pages)
{
	err_t e = pt_init(&kernel_pt, &el2_stage1, alloc_table, pages, 0);
	if (e || (e = map_kernel(bi)))
		return e;
	uint64_t parange = read_sysreg(id_aa64mmfr0_el1) & 7;
	/* T0SZ 16 (48-bit VA), walks inner/outer write-back cacheable and
	 * inner shareable, 4 KiB granule, PS from the CPU, RES1 bits 23/31. */
	tcr_value = 16 | (1 << 8) | (1 << 10) | (3 << 12) | (MIN(parange, 5ull) << 16) |
		    (1ull << 23) | (1ull << 31);
	aarch64_mmu_enable();
	mmu_on = true;
	return E_OK;
}

void *arch_map_device(paddr_t base, uint64_t size)
{
	uint64_t lo = ALIGN_DOWN(base.pa, PAGE_SIZE);
	uint64_t hi = ALIGN_UP(base.pa + size, PAGE_SIZE);
	err_t e = E_OK;
	spin_lock(&kernel_pt_lock);
	for (uint64_t p = lo; p < hi && e == E_OK; p += PAGE_SIZE) {
		paddr_t pa;
		pte_t leaf;
		if (!pt_lookup(&kernel_pt, p, &pa, &leaf)) /* shared pages stay */
			e = pt_map(&kernel_pt, p, pa_make(p), PAGE_SIZE, PT_W | PT_DEVICE);
	}
	/* New entries replace invalid ones: no TLB invalidation is needed. */
	dsb(ishst);
	isb();
	spin_unlock(&kernel_pt_lock);
	return e == E_OK ? (void *)(uintptr_t)base.pa : NULL;
}
