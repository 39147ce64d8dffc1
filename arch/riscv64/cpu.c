/* Hart control in HS-mode: per-hart state, what the H extension offers
 * (G-stage modes, VMID width), SBI hart start and shutdown. */
#include "arch/riscv64/riscv.h"
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/printk.h"


extern char secondary_entry[], _start[];

/* The CPU being started, for a hart that OpenSBI sends to _start instead
 * (head.S, lost_lottery: one load, so never half of two starts).  In .data:
 * harts that lose the lottery read it before the winner clears .bss. */
__attribute__((section(".data"))) struct cpu *riscv_start_cpu;
_Static_assert(__builtin_offsetof(struct cpu, hwid) == 24, "head.S's lost_lottery");
bool riscv_start_at_image; /* cairn.test=stale-start: play that race */

bool riscv_sstc;
static unsigned vmid_width;
static uint64_t probe_value;

const char *arch_name(void) { return "riscv64 in HS-mode"; }

struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__("mv %0, tp" : "=r"(c));
	return c;
}

unsigned arch_cpu_id(void) { return this_cpu()->id; }
uint64_t arch_cpu_hwid(void) { return this_cpu()->hwid; }
void arch_cpu_relax(void) { __asm__ volatile("nop"); }
void arch_irq_local_enable(void) { csr_set(sstatus, SSTATUS_SIE); }
void arch_irq_local_disable(void) { csr_clear(sstatus, SSTATUS_SIE); }
/* Asleep, a hart walks no G-stage table: a TLB flush meanwhile marks it
 * (riscv_hart_spared, uspace.c) rather than waiting for it, and it flushes
 * every VMID here when it wakes, before it runs anything. */
void arch_wait_for_interrupt(void)
{
	uint64_t *spared = &riscv_hart_spared[this_cpu()->id];
	__atomic_store_n(spared, 1, __ATOMIC_SEQ_CST);
	__asm__ volatile("wfi");
	if (__atomic_exchange_n(spared, 0, __ATOMIC_SEQ_CST) == 2)
		__asm__ volatile(".word 0x62000073" ::: "memory"); /* hfence.gvma: all VMIDs */
	riscv_irq_resync();
}

/* QEMU 7.2 can lose a guest's Sstc timer interrupt: riscv_cpu_update_mip
 * reads the VS timer's level before it takes the lock that the timer's
 * callback holds, and then clears the CPU's interrupt request although
 * VSTIP is pending.  WFI still returns (it looks at the pending bits), but
 * the interrupt is never taken: a parked VCPU's wake-up (vs_timer_irq) or
 * a loaded guest's tick was lost, about once in 15 boots of the root tests
 * beside two CPU hogs.  Any write of hvip makes QEMU look again; writing
 * back what it holds changes nothing on hardware. */
void riscv_irq_resync(void) { csr_write(0x645, csr_read(0x645)); /* hvip */ }

unsigned riscv_vmid_bits(void) { return vmid_width; }

_Noreturn void arch_halt(void)
{
	arch_irq_local_disable();
	for (;;)
		__asm__ volatile("wfi");
}

_Noreturn void arch_poweroff(void) { sbi_shutdown(); }

/* hgatp is WARL: a mode or VMID bit that does not stick is not there. */
static void hgatp_roundtrip(void)
{
	csr_write(0x680, probe_value); /* hgatp */
	probe_value = csr_read(0x680);
	csr_write(0x680, 0);
	__asm__ volatile(".word 0x62000073" ::: "memory"); /* hfence.gvma */
}

static uint64_t hgatp_try(uint64_t value)
{
	probe_value = value;
	hgatp_roundtrip();
	return probe_value;
}

static const char *gstage_modes(char *buf, size_t len)
{
	static const char *const name[] = { [8] = "Sv39x4", [9] = "Sv48x4", [10] = "Sv57x4" };
	size_t n = 0;
	buf[0] = 0;
	for (uint64_t m = 10; m >= 8; m--)
		if (hgatp_try(m << SATP_MODE_SHIFT) >> SATP_MODE_SHIFT == m)
			n += snprintf(buf + n, len - n, "%s%s", n ? "/" : "", name[m]);
	return n ? buf : "none";
}

static unsigned vmid_bits(void)
{
	uint64_t v = hgatp_try(HGATP_VMID_MASK << HGATP_VMID_SHIFT) >> HGATP_VMID_SHIFT;
	unsigned bits = 0; /* implemented VMID bits are the low ones */
	while (v & HGATP_VMID_MASK & (1ull << bits))
		bits++;
	return bits;
}

static void read_stimecmp(void) { (void)csr_read(0x14d); }

void arch_cpu_describe(char *buf, size_t len)
{
	char modes[32], sbi[48];
	sbi_describe(sbi, sizeof(sbi));
	snprintf(buf, len, "H extension, G-stage %s, %u-bit VMID, Sstc %s, %s",
		 gstage_modes(modes, sizeof(modes)), vmid_width,
		 riscv_sstc ? "yes" : "no (SBI timer)", sbi);
}

void riscv_cpu_setup(struct cpu *c)
{
	__asm__ volatile("mv tp, %0" :: "r"(c));
	riscv_trap_init();
	csr_write(sie, 0);
	csr_write(0x680, 0); /* hgatp: no guest translation yet */
	if (c->id == 0) {
		riscv_sstc = riscv_probe(read_stimecmp);
		vmid_width = vmid_bits();
	}
}

/* E_BUSY: not stopped yet, ask again.  That is SBI's "already available"
 * (still started) and, from OpenSBI, "invalid parameter" too: its answer
 * for a hart whose stop is still pending, which a busy host can make last
 * (the hart id and entry here are always valid).  Seen as root-fuzz-smp2's
 * "cpu 1 not on: error 2" beside two CPU hogs. */
err_t arch_cpu_start(struct cpu *c)
{
	__atomic_store_n(&riscv_start_cpu, c, __ATOMIC_RELEASE);
	char *entry = riscv_start_at_image ? _start : secondary_entry;
	long r = sbi_hart_start(c->hwid, (uintptr_t)entry, (uintptr_t)c);
	return r == 0 ? E_OK : r == -3 || r == -6 ? E_BUSY : E_NOENT;
}

bool arch_cpu_stoppable(void) { return sbi_can_stop_harts(); }

/* SBI HSM HART_STOP: the hart goes back to the SBI; HART_START starts it
 * at secondary_entry again, with its stack and its struct cpu.  Its timer
 * is stopped (hotplug_stop) and SIE cleared, so nothing wakes it early. */
void arch_cpu_stop(void)
{
	arch_irq_local_disable();
	csr_write(sie, 0);
	sbi_hart_stop();
}

/* secondary_entry (head.S) calls this with translation off, on its stack. */
_Noreturn void riscv_secondary(struct cpu *c)
{
	riscv_cpu_setup(c);
	riscv_mmu_enable();
	arch_irq_init_cpu();
	smp_secondary_main(c);
}

/* The H extension was checked at entry; hgatp stays bare until a guest. */
void arch_virt_init(void) {}
