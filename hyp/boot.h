#pragma once
#include "hyp/types.h"

/* Generic boot, entered by the architecture on the boot CPU once it has a
 * stack, its trap vectors and its per-CPU pointer.  `fdt` is the DTB as the
 * kernel can read it now, `fdt_pa` where it lies in RAM. */
_Noreturn void kernel_boot(const void *fdt, paddr_t fdt_pa);
/* Print "cairn: boot error: ..." and power off. */
_Noreturn void boot_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
