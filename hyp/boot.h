#pragma once
#include "hyp/types.h"

struct boot_info;

/* Generic boot, entered by the architecture on the boot CPU once it has a
 * stack, its trap vectors and its per-CPU pointer.
 *
 * DTB platforms call kernel_boot_fdt: `fdt` is the DTB as the kernel can
 * read it now, `fdt_pa` where it lies in RAM.  Firmware that hands over its
 * own tables (UEFI, multiboot2) has the architecture fill a boot_info and
 * call kernel_boot_info.  kernel_boot is their common tail. */
_Noreturn void kernel_boot_fdt(const void *fdt, paddr_t fdt_pa);
_Noreturn void kernel_boot_info(struct boot_info *bi);
_Noreturn void kernel_boot(struct boot_info *bi);
/* Print "cairn: boot error: ..." and power off. */
_Noreturn void boot_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
