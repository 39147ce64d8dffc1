/* The IOMMU hooks of a port that drives none (it lists this file in
 * ARCH_SRCS): arch_io_pt_format() NULL keeps generic code from calling the
 * rest, and the root task's tests that need one are skipped
 * (BOOT_HAS_IOMMU). */
#include "hyp/arch.h"

err_t arch_iommu_init(const struct boot_info *bi) { (void)bi; return E_NOENT; }
const struct pt_format *arch_io_pt_format(void) { return NULL; }
unsigned arch_iommu_streams(void) { return 0; }
void arch_iommu_attach(unsigned sid, paddr_t root, unsigned asid) { (void)sid, (void)root, (void)asid; }
void arch_iommu_detach(unsigned sid) { (void)sid; }
void arch_iommu_flush(unsigned asid) { (void)asid; }
uint64_t arch_iommu_faults(unsigned sid, uint64_t *last) { (void)sid, *last = 0; return 0; }
