/* The kernel's HS-mode translation (satp): Sv48, or Sv39 where the hart
 * has no Sv48, as the DTB's mmu-type says.
 *
 * The kernel is identity-mapped as on AArch64.  Native threads and guests
 * will be translated by the G-stage (hgatp) from VS/VU-mode, so satp stays
 * the kernel's alone; see docs/ARCHITECTURE.md. */
#include <libfdt.h>

#include "arch/riscv64/riscv.h"
#include "hyp/arch.h"
#include "hyp/boot.h"
#include "hyp/dtb.h"
#include "hyp/printk.h"
#include "hyp/string.h"
#include "mm/kmap.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_G (1ull << 5)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_LEAF (PTE_V | PTE_R | PTE_A | PTE_D | PTE_G)

/* Sv39 and Sv48 differ only in depth.  Device memory needs no PTE bits:
 * the platform's PMAs make MMIO uncached (Svpbmt is optional). */
#define SV_FORMAT(depth) {                                              \
	.levels = depth, .block_min_level = 1, .oa_shift = 2,          \
	.oa_mask = 0x003ffffffffffc00ull,                               \
	.table_mask = PTE_V | PTE_R | PTE_W | PTE_X, .table = PTE_V,    \
	.valid = PTE_V, .block = PTE_LEAF, .page = PTE_LEAF,            \
	.attr_set = { [0] = PTE_W, [1] = PTE_X, [2] = PTE_U },          \
}
static const struct pt_format sv39 = SV_FORMAT(3), sv48 = SV_FORMAT(4);

static uint64_t satp_value;
static bool mmu_on;


uint64_t arch_direct_map_offset(void) { return 0; }
bool arch_mmu_enabled(void) { return mmu_on; }

static inline void sfence_vma(void) { __asm__ volatile("sfence.vma" ::: "memory"); }

void riscv_mmu_enable(void)
{
	sfence_vma();
	csr_write(satp, satp_value);
	sfence_vma();
}

/* The first hart's mmu-type; "cairn.mmu=sv39" forces the Sv39 path. */
static bool use_sv48(const struct boot_info *bi)
{
	if (boot_arg(bi, "cairn.mmu=sv39"))
		return false;
	int node = fdt_node_offset_by_prop_value(bi->fdt, -1, "device_type", "cpu", 4);
	const char *t = node < 0 ? NULL : fdt_getprop(bi->fdt, node, "mmu-type", NULL);
	return t && (strcmp(t, "riscv,sv48") == 0 || strcmp(t, "riscv,sv57") == 0);
}

err_t arch_mmu_init(const struct boot_info *bi, struct buddy *pages)
{
	bool big = use_sv48(bi);
	riscv_start_at_image = boot_arg(bi, "cairn.test=stale-start"); /* cpu.c */
	err_t e = kmap_init(big ? &sv48 : &sv39, bi, pages, 0);
	if (e)
		return e;
	uint64_t mode = big ? SATP_MODE_SV48 : SATP_MODE_SV39;
	satp_value = mode << SATP_MODE_SHIFT | pa_addr(kmap_root()) >> PAGE_SHIFT;
	riscv_mmu_enable();
	if (csr_read(satp) != satp_value) /* WARL: an absent mode does not stick */
		boot_fail("satp mode %s not supported", big ? "Sv48" : "Sv39");
	printk("mmu: satp %s, kernel identity-mapped\n", big ? "Sv48" : "Sv39");
	mmu_on = true;
	return E_OK;
}

void *arch_map_device(paddr_t base, uint64_t size)
{
	err_t e = kmap_device(base, size);
	sfence_vma(); /* a hart may have cached the invalid entry */
	return e == E_OK ? (void *)(uintptr_t)base.pa : NULL;
}
