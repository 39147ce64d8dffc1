/* x86_64 has no Linux VMM yet (issue 15: Linux's 64-bit boot protocol, an
 * 8250 on I/O ports, the LAPIC and IOAPIC): its VMM says so and stops. */
#pragma once
#include "servers/vmm/guest.h"
#include "servers/vmm/vm.h"

struct vmm_arch {
	int none;
};

#define VMM_PASS_IRQ_OK(irq) false

static inline void arch_boot_args(uint64_t dtb, uint64_t a[2])
{
	a[0] = dtb;
	a[1] = 0;
}
