/* The kernel's EL2 stage-1 translation (TTBR0_EL2, 48-bit VA, 4 KiB granule).
 *
 * The kernel is identity-mapped: VA == PA for its image, for RAM (the direct
 * map) and for the device pages it uses.  EL2 without VHE has one VA range
 * and no user half, and native threads and guests are translated by their
 * own regimes, so nothing else competes for this one. */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/sysreg.h"
#include "hyp/arch.h"
#include "mm/kmap.h"

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

static uint64_t tcr_value;
static bool mmu_on;


uint64_t arch_direct_map_offset(void) { return 0; }
bool arch_mmu_enabled(void) { return mmu_on; }

void aarch64_mmu_enable(void)
{
	write_sysreg(mair_el2, MAIR_DEVICE_nGnRE | (MAIR_NORMAL_WB << 8));
	write_sysreg(tcr_el2, tcr_value);
	write_sysreg(ttbr0_el2, pa_addr(kmap_root()));
	isb();
	__asm__ volatile("tlbi alle2" ::: "memory");
	dsb(nsh);
	write_sysreg(sctlr_el2, SCTLR_EL2_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA |
				SCTLR_I | SCTLR_WXN);
	isb();
}

err_t arch_mmu_init(const struct boot_info *bi, struct buddy *pages)
{
	err_t e = kmap_init(&el2_stage1, bi, pages, 0);
	if (e)
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
	err_t e = kmap_device(base, size);
	/* New entries replace invalid ones: no TLB invalidation is needed. */
	dsb(ishst);
	isb();
	return e == E_OK ? (void *)(uintptr_t)base.pa : NULL;
}
