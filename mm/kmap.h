/* The kernel's own address space, built once at boot by every architecture
 * with its page-table format as data: a direct map of all RAM, the kernel
 * image with section permissions at its link address, and device pages
 * mapped on demand. */
#pragma once
#include "mm/pt.h"

struct boot_info;
struct buddy;

/* Build the tables: RAM at pa + dm_offset read-write and never executable,
 * except where the image lies when it is linked there itself (an
 * identity-mapped kernel); the image's sections text RX, rodata R, data RW;
 * and the console's MMIO page.  The image's sections are the linker
 * script's symbols; it lies at VA - image_offset physically. */
err_t kmap_init(const struct pt_format *fmt, const struct boot_info *bi,
		struct buddy *pages, uint64_t image_offset);
/* Map a device range uncached and non-executable at pa + dm_offset; pages
 * already mapped stay as they are.  The caller orders the table writes
 * before use (barriers differ per architecture). */
err_t kmap_device(paddr_t base, uint64_t size);
paddr_t kmap_root(void);
