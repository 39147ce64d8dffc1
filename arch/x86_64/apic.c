/* Interrupts on x86_64: the local APIC (x2APIC mode where the CPU has it,
 * MMIO otherwise) for per-CPU interrupts, IPIs and the timer, and the
 * IOAPIC for device lines.  The legacy 8259 PICs are masked for good.
 * Interrupt numbers are vectors: IOAPIC pin n is 0x20 + n. */
#include "arch/x86_64/x86.h"
#include "hyp/arch.h"
#include "hyp/dtb.h"
#include "hyp/printk.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_EXTD (1ull << 10)
#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV 0x3e0
#define ICR_PENDING (1u << 12)
#define LVT_MASKED (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)

#define IOAPIC_VER 1
#define IOAPIC_REDIR(pin) (0x10 + 2 * (pin))

static bool x2apic;
static volatile uint32_t *xapic;
static volatile uint32_t *ioapic;
static unsigned ioapic_pins;

static uint32_t lapic_read(unsigned reg)
{
	return x2apic ? (uint32_t)rdmsr(0x800 + (reg >> 4)) : xapic[reg / 4];
}

static void lapic_write(unsigned reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		xapic[reg / 4] = v;
}

uint64_t arch_cpu_hwid(void)
{
	uint32_t r[4];
	if (x2apic)
		return (uint32_t)rdmsr(0x802);
	cpuid(1, 0, r);
	return r[1] >> 24; /* initial APIC id: usable before the LAPIC is mapped */
}

void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

static void ioapic_write(unsigned reg, uint32_t v)
{
	ioapic[0] = reg;
	ioapic[4] = v;
}

static uint32_t ioapic_read(unsigned reg)
{
	ioapic[0] = reg;
	return ioapic[4];
}

static void pic_disable(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

err_t arch_irq_init(const struct boot_info *bi)
{
	(void)bi;
	uint32_t r[4];
	cpuid(1, 0, r);
	x2apic = r[2] & (1u << 21);
	pic_disable();
	if (!x2apic && !(xapic = arch_map_device(pa_make(acpi.lapic_pa), PAGE_SIZE)))
		return E_NOMEM;
	if (acpi.ioapic_pa) {
		if (!(ioapic = arch_map_device(pa_make(acpi.ioapic_pa), PAGE_SIZE)))
			return E_NOMEM;
		ioapic_pins = ((ioapic_read(IOAPIC_VER) >> 16) & 0xff) + 1;
		for (unsigned p = 0; p < ioapic_pins; p++)
			ioapic_write(IOAPIC_REDIR(p), LVT_MASKED);
	}
	printk("irq: local APIC %s at 0x%lx, IOAPIC at 0x%lx with %u pins "
	       "(GSI base %u), 8259 PICs masked\n", x2apic ? "x2APIC mode" : "xAPIC mode",
	       acpi.lapic_pa, acpi.ioapic_pa, ioapic_pins, acpi.ioapic_gsi_base);
	return E_OK;
}

void arch_irq_init_cpu(void)
{
	if (x2apic)
		wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EN | APIC_BASE_EXTD);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS); /* software enable */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
}

static void set_line(unsigned irq, bool on)
{
	unsigned pin = irq - VEC_IRQ_BASE;
	if (irq < VEC_IRQ_BASE || pin >= ioapic_pins)
		return;
	/* fixed delivery, physical destination: the boot CPU */
	ioapic_write(IOAPIC_REDIR(pin) + 1, (uint32_t)cpus[0].hwid << 24);
	ioapic_write(IOAPIC_REDIR(pin), irq | (on ? 0 : LVT_MASKED));
}

void arch_irq_unmask(unsigned irq)
{
	if (irq == VEC_TIMER)
		lapic_write(LAPIC_LVT_TIMER, lapic_read(LAPIC_LVT_TIMER) & ~LVT_MASKED);
	else
		set_line(irq, true);
}

void arch_irq_mask(unsigned irq)
{
	if (irq == VEC_TIMER)
		lapic_write(LAPIC_LVT_TIMER, lapic_read(LAPIC_LVT_TIMER) | LVT_MASKED);
	else
		set_line(irq, false);
}

/* MSI lines: vectors no IOAPIC pin, exception or kernel vector uses, and
 * never 0x80, whose gate ring 3 may enter (an interrupt there from user
 * mode would read as a system call). */
static bool msi_line(uint64_t irq)
{
	return irq >= VEC_MSI_FIRST && irq <= VEC_MSI_LAST && irq != VEC_SYSCALL;
}

/* IOAPIC pins (vectors 0x20 + pin, below the MSI lines; none without an
 * IOAPIC) and MSI lines. */
bool arch_irq_user_ok(uint64_t irq)
{
	return (irq >= VEC_IRQ_BASE && irq - VEC_IRQ_BASE < ioapic_pins && irq < VEC_MSI_FIRST) ||
	       msi_line(irq);
}

/* Fixed delivery, edge, physical destination: the boot CPU, which takes
 * every device interrupt (it never goes off line).  Masking is software's
 * (hyp/irq_handler.c): the devices are not the kernel's. */
bool arch_irq_msi_message(unsigned irq, uint64_t *addr, uint64_t *data)
{
	if (!msi_line(irq))
		return false;
	*addr = 0xfee00000ull | (cpus[0].hwid & 0xff) << 12;
	*data = irq;
	return true;
}

static void icr_send(uint32_t apic_id, uint32_t low)
{
	if (x2apic) {
		wrmsr(0x830, (uint64_t)apic_id << 32 | low);
		return;
	}
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, low);
	while (lapic_read(LAPIC_ICR_LO) & ICR_PENDING)
		arch_cpu_relax();
}

/* Fixed delivery, edge, physical destination. */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector) { icr_send(apic_id, vector); }

static void delay_us(uint64_t us)
{
	uint64_t end = arch_timer_now() + arch_timer_freq() * us / 1000000;
	while (arch_timer_now() < end)
		arch_cpu_relax();
}

/* The universal start-up algorithm (Intel SDM vol. 3, 9.4.4.1). */
void lapic_send_init_sipi(uint32_t apic_id, uint8_t vector)
{
	icr_send(apic_id, 0x4500);          /* INIT, level assert */
	delay_us(10000);
	for (int i = 0; i < 2; i++) {
		icr_send(apic_id, 0x4600 | vector); /* start-up */
		delay_us(200);
	}
}

/* --- Timer: TSC for time, the LAPIC timer for the one-shot ----------- */
static uint64_t tsc_hz, lapic_hz;
static bool tsc_deadline;

uint64_t arch_timer_now(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

uint64_t arch_timer_freq(void) { return tsc_hz; }
unsigned arch_timer_irq(void) { return VEC_TIMER; }

/* Count TSC and LAPIC ticks over 10 ms of PIT channel 2 (1.193182 MHz). */
static void calibrate(void)
{
	const unsigned pit_ticks = 11932;
	outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb0);                       /* ch2, lo/hi, mode 0 */
	outb(0x42, pit_ticks & 0xff);
	outb(0x42, pit_ticks >> 8);
	lapic_write(LAPIC_TIMER_DIV, 0x3);      /* divide by 16 */
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	uint64_t t0 = arch_timer_now();
	while (!(inb(0x61) & 0x20))
		;
	uint64_t t1 = arch_timer_now();
	uint32_t left = lapic_read(0x390);
	lapic_write(LAPIC_TIMER_INIT, 0);
	tsc_hz = (t1 - t0) * 100;
	lapic_hz = (uint64_t)(0xffffffffu - left) * 100;
}

err_t arch_timer_init(const struct boot_info *bi)
{
	(void)bi;
	uint32_t r[4];
	cpuid(1, 0, r);
	tsc_deadline = r[2] & (1u << 24);
	calibrate();
	printk("timer: TSC and LAPIC calibrated against the PIT; %s\n",
	       tsc_deadline ? "TSC-deadline mode" : "LAPIC one-shot mode");
	return tsc_hz && lapic_hz ? E_OK : E_NOENT;
}

void arch_timer_oneshot(uint64_t deadline)
{
	uint32_t lvt = (lapic_read(LAPIC_LVT_TIMER) & LVT_MASKED) | VEC_TIMER;
	if (tsc_deadline) {
		lapic_write(LAPIC_LVT_TIMER, lvt | LVT_TSC_DEADLINE);
		wrmsr(0x6e0, deadline ? deadline : 1);
		return;
	}
	uint64_t now = arch_timer_now();
	uint64_t delta = deadline > now ? MIN(deadline - now, tsc_hz) : 1;
	uint64_t count = delta * (lapic_hz / 1000) / (tsc_hz / 1000);
	lapic_write(LAPIC_LVT_TIMER, lvt);
	lapic_write(LAPIC_TIMER_DIV, 0x3);
	lapic_write(LAPIC_TIMER_INIT, (uint32_t)MAX(count, 1u));
}

void arch_timer_stop(void)
{
	if (tsc_deadline)
		wrmsr(0x6e0, 0);
	else
		lapic_write(LAPIC_TIMER_INIT, 0);
}
