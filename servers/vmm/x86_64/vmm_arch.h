/* The x86_64 guest's devices, as its VMM models them: a PC without
 * firmware.  Each VCPU's local APIC (xAPIC or x2APIC), its timer in
 * TSC-deadline mode (lapic.c), an IOAPIC (ioapic.c), a 16550A on COM1
 * (uart.c), ACPI tables that describe them (acpi.c) and the boot
 * protocol's zero page (boot.c); CPUID and MSRs (arch.c).  The physical
 * map is guest.h's x86_64 one: RAM from 0, devices below 4 GiB. */
#pragma once
#include "servers/vmm/guest.h"
#include "servers/vmm/vm.h"

#define GUEST_LAPIC 0xfee00000ull
#define GUEST_IOAPIC 0xfec00000ull
#define IOAPIC_PINS 24
#define COM1 0x3f8
#define COM1_GSI 4
#define PM_PORT 0x600               /* ACPI's sleep control (S5: off), then reset */
#define GUEST_ACPI 0xe0000ull       /* RSDP and tables, in the BIOS area e820 reserves */
#define LOW_RAM_END 0x9fc00ull      /* RAM below the BIOS areas */

struct vlapic {
	uint32_t tpr, ldr, dfr, svr, esr, icr_hi, icr_lo;
	uint32_t icr_dest;             /* x2APIC's: the ICR's top half */
	uint32_t lvt[7];               /* CMCI, timer, thermal, PMC, LINT0, LINT1, error */
	uint32_t tmict, tdcr;
	uint64_t deadline;             /* TSC-deadline MSR (0: disarmed) */
	bool started;                  /* by INIT-SIPI, or the boot VCPU */
	bool x2apic, off;              /* IA32_APIC_BASE's EXTD, and EN clear */
};

struct vioapic {
	uint32_t sel, id;
	uint64_t redir[IOAPIC_PINS];
};

struct vuart {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_irq;                  /* "transmitter empty" waits in IIR */
	bool line;                     /* its interrupt line as last raised */
};

struct vmm_arch {
	struct vlapic lapic[VM_MAX_VCPUS];
	struct vioapic ioapic;
	struct vuart uart;
	unsigned sipi_page;            /* where a VCPU started by SIPI begins */
	uint8_t cmos_index;            /* the RTC register port 0x71 reaches */
};

/* A device's interrupt before the guest's IOAPIC gives its pin a vector:
 * a virtual interrupt the kernel takes but never injects (not a vector). */
#define ARCH_UNROUTED_VIRQ(pin) VIRQ_X86_LIMIT

/* Devices of the system's own (passed through): none on x86_64 yet. */
#define VMM_PASS_IRQ_OK(irq) false

/* The boot VCPU's arguments (Linux's 64-bit boot protocol): rsi the zero
 * page, which guest_fdt writes where the other ISAs' DTB goes. */
static inline void arch_boot_args(uint64_t zero_page, uint64_t a[2])
{
	a[0] = 0;
	a[1] = zero_page;
}

/* The 64-bit entry of a bzImage loaded at ipa: its protected-mode part
 * follows the real-mode setup sectors, and enters 0x200 in. */
static inline uint64_t arch_entry(const uint8_t *image, uint64_t ipa)
{
	unsigned setup_sects = image[0x1f1] ? image[0x1f1] : 4;
	return ipa + (setup_sects + 1) * 512ull + 0x200;
}

struct vmm;
bool lapic_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val);
/* IA32_APIC_BASE and the x2APIC's MSRs: false for #GP (as msr() in arch.c). */
bool lapic_msr(struct vmm *m, unsigned vcpu, uint64_t n, bool write, uint64_t *val);
/* The TSC-deadline MSR written, or the VCPU's timer line fired. */
void lapic_set_deadline(struct vmm *m, unsigned vcpu, uint64_t tsc);
void lapic_timer_fired(struct vmm *m, unsigned vcpu);
/* EOI writes kept in the kernel (a doorbell no one waits on). */
void lapic_eoi_sink(struct vmm *m);
bool ioapic_mmio(struct vmm *m, uint64_t ipa, uint64_t acc, uint64_t *val);
void ioapic_raise(struct vmm *m, unsigned pin);
bool uart_port(struct vmm *m, unsigned port, uint64_t acc, uint64_t *val);
void uart_input(struct vmm *m);
/* The ACPI tables at GUEST_ACPI in the guest's RAM (va); the RSDP's address. */
uint64_t acpi_build(const struct vmm *m, uint8_t *va);
err_t x86_vcpu_long_mode(cptr_t vcpu, uint64_t gdt, uint64_t cr3);
err_t x86_vcpu_real_mode(cptr_t vcpu, unsigned page);
/* The boot page tables' root for the zero page at zp; *gdt its GDT. */
uint64_t x86_zero_page_tables(uint64_t zp, uint64_t *gdt);
/* VCPU i's LAPIC timer: a soft timer line (0: none), claimed once and
 * kept across the guest's resets (arch.c). */
cptr_t x86_timer_line(unsigned i);
