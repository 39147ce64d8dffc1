/* The x86_64 guest's exits: I/O ports (COM1, ACPI's sleep and reset
 * registers, what Linux reads of the PIT and the RTC; any other port
 * reads all ones, as an empty ISA bus does),
 * MMIO to the local APICs and the IOAPIC, CPUID, MSRs, and what is left of
 * SVM's intercepts.  CPUID is the machine's, less what this VMM does not
 * model (XSAVE, MONITOR, MTRRs, machine checks, SVM, performance counters,
 * speculation controls), plus x2APIC (lapic.c), the TSC-deadline timer, an
 * always-running APIC timer and the hypervisor bit. */
#include "servers/vmm/vmm.h"

const char arch_console_args[] = "console=ttyS0 earlyprintk=ttyS0 tsc=reliable";

#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_WBINVD 0x89
#define SLP_EN 0x20
#define SLP_TYP_S5 (5u << 2)
#define MSR_TSC 0x10
#define MSR_PAT 0x277
#define MSR_MISC_ENABLE 0x1a0
#define MISC_ENABLE_NO_BTS_PEBS (1ull << 11 | 1ull << 12) /* as KVM's */
#define MSR_TSC_DEADLINE 0x6e0
#define VMM_EVENT_TIMER(i) (1ull << (8 + (i)))

/* Each VCPU's timer line, claimed once and kept across guest resets. */
static cptr_t timer_line[VM_MAX_VCPUS];
static uint64_t pat[VM_MAX_VCPUS];

/* The ways a PC is reset or powered off: ACPI's sleep control (S5) and
 * reset registers, and the older ones Linux falls back to: the keyboard
 * controller's reset line (0xfe to port 0x64) and the chipset's reset
 * control (port 0xcf9, bit 2). */
static bool power_port(struct vmm *m, unsigned port, uint64_t acc, uint64_t val)
{
	if (!(acc & VMACC_WRITE))
		return false;
	if (port == PM_PORT && (val & (SLP_EN | 0x1c)) == (SLP_EN | SLP_TYP_S5))
		m->stopped = "powered off";
	else if ((port == PM_PORT + 4 && val == 1) || (port == 0x64 && val == 0xfe) ||
		 (port == 0xcf9 && (val & 4)))
		m->stopped = "reset";
	if (m->stopped)
		vcons_flush(m);
	return m->stopped != NULL;
}

/* The PC clocks Linux reads though the ACPI tables offer none.  Its quick
 * TSC calibration polls PIT channel 2 until the count's high byte falls
 * from 0xff: reading all ones, as an empty bus does, it polled 50,000
 * times (100,000 exits, most of the exits of a boot) before it gave up; a
 * count of 0 ends it at once (the TSC's rate is on its command line).
 * Its wall clock is the CMOS RTC's, read while no update is in progress:
 * all ones, it retried for a second of guest time (40,000 exits); here,
 * a clock that was never set (2000-01-01 00:00:00, BCD, 24 hours) and
 * never updating. */
static bool clock_port(struct vmm *m, unsigned port, uint64_t acc, uint64_t *val)
{
	static const uint8_t rtc[14] = { [7] = 1, [8] = 1, [0xa] = 0x26, [0xb] = 0x02,
					 [0xd] = 0x80 };
	uint8_t *index = &m->arch.cmos_index;
	if (port != 0x42 && port != 0x70 && port != 0x71)
		return false;
	if (acc & VMACC_WRITE) {
		if (port == 0x70)
			*index = *val & 0x7f; /* bit 7 masks NMIs: none here */
		return true;         /* setting the clock or the PIT: not kept */
	}
	*val = port == 0x71 && *index < sizeof rtc ? rtc[*index] : 0;
	return true;
}

static bool io_port(struct vmm *m, unsigned port, uint64_t acc, uint64_t *val)
{
	if (uart_port(m, port, acc, val))
		return true;
	if (power_port(m, port, acc, *val))
		return true;
	if (clock_port(m, port, acc, val))
		return true;
	if (!(acc & VMACC_WRITE)) /* the sleep status reads 0 */
		*val = port == PM_PORT + 1 ? 0 : ~0ull >> (64 - (8u << (acc & VMACC_SIZE_MASK)));
	return true;
}

bool arch_mmio(struct vmm *m, unsigned vcpu, uint64_t ipa, uint64_t acc, uint64_t *val)
{
	if (ipa & VMEXIT_IO_PORT)
		return io_port(m, (unsigned)(ipa & 0xffff), acc, val);
	return lapic_mmio(m, vcpu, ipa, acc, val) || ioapic_mmio(m, ipa, acc, val);
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* Bits of CPUID this VMM takes away or adds (docs/ABI.md: the guest's CPUID). */
#define C1_MONITOR (1u << 3)
#define C1_VMX (1u << 5)
#define C1_X2APIC (1u << 21)
#define C1_TSC_DEADLINE (1u << 24)
#define C1_XSAVE_AVX (7u << 26)
#define C1_HYPERVISOR (1u << 31)
#define D1_MCE (1u << 7)
#define D1_APIC (1u << 9)
#define D1_MTRR (1u << 12)
#define D1_MCA (1u << 14)
#define D1_HTT (1u << 28)
#define A6_ARAT (1u << 2)
#define C81_SVM_TOPO_PERF (1u << 1 | 1u << 2 | 1u << 3 | 1u << 22 | 1u << 23 | 1u << 29)
#define D81_RDTSCP (1u << 27)

static void guest_cpuid(const struct vmm *m, unsigned vcpu, uint32_t leaf, uint32_t sub,
			uint32_t r[4])
{
	cpuid(leaf, sub, r);
	switch (leaf) {
	case 1:
		r[1] = vcpu << 24 | 1u << 16 | (r[1] & 0xffff);
		r[2] = (r[2] & ~(C1_MONITOR | C1_VMX | C1_XSAVE_AVX)) | C1_X2APIC | C1_TSC_DEADLINE |
		       C1_HYPERVISOR;
		r[3] = (r[3] & ~(D1_MCE | D1_MTRR | D1_MCA | D1_HTT)) | D1_APIC;
		break;
	case 6:
		r[0] = A6_ARAT, r[1] = r[2] = r[3] = 0;
		break;
	case 7:
		r[3] = 0; /* speculation controls and the like */
		if (sub)
			r[0] = r[1] = r[2] = 0;
		break;
	case 0x80000001:
		r[2] &= ~C81_SVM_TOPO_PERF;
		r[3] &= ~D81_RDTSCP;
		break;
	case 0x80000008:
		r[1] = 0, r[2] = 0; /* no speculation controls; one core a package */
		break;
	case 4: case 0xa: case 0xb: case 0xd: case 0xf: case 0x10: case 0x1f:
	case 0x8000000a: case 0x8000001d: case 0x8000001e:
		r[0] = r[1] = r[2] = r[3] = 0;
		break;
	default:
		if (leaf >= 0x40000000 && leaf < 0x80000000) /* no hypervisor leaves */
			r[0] = r[1] = r[2] = r[3] = 0;
		break;
	}
	(void)m;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* An MSR: true when answered (read value in *val), false for #GP. */
static bool msr(struct vmm *m, unsigned vcpu, uint64_t n, bool write, uint64_t *val)
{
	switch (n) {
	case MSR_TSC:
		if (!write)
			*val = rdtsc();
		return true;
	case MSR_PAT:
		if (write)
			pat[vcpu] = *val;
		else
			*val = pat[vcpu];
		return true;
	case MSR_TSC_DEADLINE:
		if (write)
			lapic_set_deadline(m, vcpu, *val);
		else
			*val = m->arch.lapic[vcpu].deadline;
		return true;
	case MSR_MISC_ENABLE: /* Intel's: read by Linux's boot code (XD_DISABLE) */
		if (!write)
			*val = MISC_ENABLE_NO_BTS_PEBS;
		return true; /* its bits model nothing here: a write changes nothing */
	case 0x8b:         /* microcode patch level */
	case 0xc0010010:   /* SYSCFG */
	case 0xc0010015:   /* HWCR */
	case 0xc0011029:   /* DE_CFG */
		if (!write)
			*val = 0;
		return true;
	default:
		return lapic_msr(m, vcpu, n, write, val);
	}
}

static bool sysreg(struct vmm *m, const struct vm_exit *x, uint64_t *reply)
{
	unsigned i = vm_exit_vcpu(x);
	bool write = x->w[3] & VMACC_WRITE;
	uint64_t val = x->w[4];
	if (x->w[0] & VMEXIT_CPUID) {
		uint32_t r[4];
		guest_cpuid(m, i, (uint32_t)x->w[0], (uint32_t)x->w[4], r);
		reply[0] |= VMREPLY_REGS;
		for (unsigned k = 0; k < 4; k++)
			reply[1 + k] = r[k];
	} else if (!msr(m, i, x->w[0], write, &val)) {
		vmm_refuse(x, reply);
	} else if (!write) {
		reply[0] |= VMREPLY_READ;
		reply[1] = val;
	}
	return true;
}

/* A quadword of guest RAM at gpa, or all ones outside it. */
static uint64_t guest_q(const struct vm *vm, uint64_t gpa)
{
	gpa &= ~7ull;
	if (gpa < vm->ram_ipa || gpa - vm->ram_ipa >= vm->ram_size)
		return ~0ull;
	return *(const uint64_t *)(vm->ram_va + (gpa - vm->ram_ipa));
}

/* The guest's 4-level walk of va from cr3, entry by entry when said; the
 * guest-physical address, or all ones where the walk ends early. */
static uint64_t guest_walk(const struct vm *vm, const char *what, uint64_t cr3, uint64_t va)
{
	uint64_t table = cr3 & 0x000ffffffffff000ull, e = 0;
	if (what)
		printf("vmm: walk of %s %lx:", what, va);
	for (int level = 3; level >= 0; level--) {
		e = guest_q(vm, table + ((va >> (12 + 9 * level)) & 511) * 8);
		if (what)
			printf(" %lx", e);
		if (!(e & 1))
			break;
		uint64_t span = 1ull << (12 + 9 * level);
		if (!level || (level < 3 && (e & 0x80))) {
			if (what)
				printf("\n");
			return (e & 0x000ffffffffff000ull & ~(span - 1)) | (va & (span - 1));
		}
		table = e & 0x000ffffffffff000ull;
	}
	if (what)
		printf("\n");
	return ~0ull;
}

/* An aligned quadword at the guest's virtual address va (all ones if
 * unmapped). */
static uint64_t guest_aq(const struct vm *vm, uint64_t cr3, uint64_t va)
{
	uint64_t pa = guest_walk(vm, NULL, cr3, va);
	return pa == ~0ull ? ~0ull : guest_q(vm, pa);
}

/* A quadword at any guest virtual address (TSS fields are unaligned). */
static uint64_t guest_vq(const struct vm *vm, uint64_t cr3, uint64_t va)
{
	unsigned sh = (va & 7) * 8;
	uint64_t lo = guest_aq(vm, cr3, va & ~7ull);
	return sh ? lo >> sh | guest_aq(vm, cr3, (va & ~7ull) + 8) << (64 - sh) : lo;
}

/* IDT gate n: its handler and IST index. */
static void shutdown_gate(const struct vm *vm, uint64_t cr3, uint64_t idt, unsigned n)
{
	uint64_t lo = guest_vq(vm, cr3, idt + n * 16), hi = guest_vq(vm, cr3, idt + n * 16 + 8);
	uint64_t h = (lo & 0xffff) | (lo >> 32 & 0xffff0000ull) | hi << 32;
	printf("vmm: gate %u: handler %lx ist %lu attr %lx\n", n, h, lo >> 32 & 7, lo >> 40 & 0xff);
}

/* What a triple-faulted VCPU was doing, for its post-mortem: registers,
 * the event whose delivery began the chain, the guest's own page-table
 * walks of its rip, stack and IDT, the code and the stack there, the
 * gates involved and the TSS's interrupt stacks. */
static void shutdown_state(struct vmm *m, unsigned i, uint64_t event)
{
	static const uint64_t id[] = { VREG_PC, VREG_X86_RSP, VREG_X86_CR0, VREG_X86_CR2,
				       VREG_X86_CR3, VREG_X86_CR4, VREG_X86_IDTR,
				       VREG_X86_IDTR_BASE, VREG_X86_EFER, VREG_X86_CS,
				       VREG_X86_TR_BASE, VREG_PSTATE };
	uint64_t v[12] = { 0 }, r[5];
	const struct vm *vm = &m->vm;
	for (unsigned k = 0; k < 12; k++)
		if (!inv(SYS_VCPU_READ_REG, m->vm.v[i].vcpu, id[k], 0, 0, 0, 0, 0, r))
			v[k] = r[0];
	printf("vmm: rip %lx rsp %lx rflags %lx cr0 %lx cr2 %lx cr3 %lx cr4 %lx idtr %lx base %lx"
	       " efer %lx cs %lx tr base %lx\n", v[0], v[1], v[11], v[2], v[3], v[4], v[5],
	       v[6] >> 32, v[7], v[8], v[9], v[10]);
	printf("vmm: first event %lx: vector %lu type %lu%s\n", event, event & 0xff,
	       event >> 8 & 7, event >> 31 & 1 ? "" : " (none recorded)");
	guest_walk(vm, "rip", v[4], v[0]);
	guest_walk(vm, "rsp", v[4], v[1]);
	guest_walk(vm, "idt", v[4], v[7]);
	guest_walk(vm, "cr2", v[4], v[3]);
	printf("vmm: code at rip:");
	for (unsigned k = 0; k < 16; k++)
		printf(" %02lx", guest_vq(vm, v[4], v[0] + k) & 0xff);
	printf("\n");
	printf("vmm: stack: %lx %lx %lx %lx %lx %lx\n", guest_vq(vm, v[4], v[1]),
	       guest_vq(vm, v[4], v[1] + 8), guest_vq(vm, v[4], v[1] + 16),
	       guest_vq(vm, v[4], v[1] + 24), guest_vq(vm, v[4], v[1] + 32),
	       guest_vq(vm, v[4], v[1] + 40));
	if (event >> 31 & 1)
		shutdown_gate(vm, v[4], v[7], event & 0xff);
	shutdown_gate(vm, v[4], v[7], 14);
	shutdown_gate(vm, v[4], v[7], 8);
	printf("vmm: tss rsp0 %lx ist1-3 %lx %lx %lx\n", guest_vq(vm, v[4], v[10] + 4),
	       guest_vq(vm, v[4], v[10] + 0x24), guest_vq(vm, v[4], v[10] + 0x2c),
	       guest_vq(vm, v[4], v[10] + 0x34));
}

bool arch_exit(struct vmm *m, const struct vm_exit *x, uint64_t *reply)
{
	if (x->label == VMEXIT_SYSREG)
		return sysreg(m, x, reply);
	if (x->label == VMEXIT_OTHER && (x->w[2] == SVM_EXIT_WBINVD || x->w[2] == SVM_EXIT_INVD))
		return true; /* no caches to write back: the step is all */
	if (x->label == VMEXIT_OTHER && x->w[2] == SVM_EXIT_SHUTDOWN) {
		vcons_flush(m);
		printf("vmm: vcpu %u shut down (a triple fault)\n", vm_exit_vcpu(x));
		shutdown_state(m, vm_exit_vcpu(x), x->w[4]);
		m->stopped = "crashed";
		return false;
	}
	vmm_refuse(x, reply);
	return true;
}

/* VCPU i's timer line: a soft timer line whose expiry reaches the exit
 * loop's notification as VMM_EVENT_TIMER(i). */
static cptr_t timer_claim(unsigned i)
{
	for (unsigned k = 0; !timer_line[i] && k < IRQ_SOFT_TIMERS; k++)
		timer_line[i] = vmm_claim_irq(IRQ_SOFT_TIMER + k, 8 + i);
	return timer_line[i];
}

cptr_t x86_timer_line(unsigned i) { return timer_line[i]; }

void arch_vcpu_init(struct vmm *m, unsigned i)
{
	struct vlapic *l = &m->arch.lapic[i];
	cptr_t v = m->vm.v[i].vcpu;
	err_t e;
	*l = (struct vlapic){ .dfr = ~0u, .svr = 0xff, .started = true };
	for (unsigned k = 0; k < 7; k++)
		l->lvt[k] = 1u << 16; /* masked */
	pat[i] = 0x0007040600070406ull;
	if (!timer_claim(i))
		printf("vmm: vcpu %u has no timer line\n", i);
	if (i == 0) { /* the boot protocol: long mode, rsi the zero page (r9 here) */
		lapic_eoi_sink(m);
		uint64_t r[5], gdt, cr3;
		if (!(e = inv(SYS_VCPU_READ_REG, v, 9, 0, 0, 0, 0, 0, r))) {
			cr3 = x86_zero_page_tables(r[0], &gdt);
			if (!(e = x86_vcpu_long_mode(v, gdt, cr3)))
				e = INV2(SYS_VCPU_WRITE_REG, v, 6, r[0]);
		}
	} else {
		e = x86_vcpu_real_mode(v, m->arch.sipi_page);
	}
	if (e)
		printf("vmm: vcpu %u: its start state was refused (%u)\n", i, e);
}

err_t arch_vcpu_restart(struct vmm *m, unsigned i, uint64_t pc, uint64_t arg)
{
	(void)m, (void)i, (void)pc, (void)arg;
	return E_INVAL; /* a VCPU is made at its first SIPI and never stops */
}

/* A line can fire for a VCPU that a reset took away before its next SIPI
 * (the guest's state is new, the line is not): it is turned off and acked
 * all the same, or it stayed masked and that VCPU never had a timer again
 * (Linux's RCU stalled on CPU 1 after a reset, beside two CPU hogs). */
void arch_events(struct vmm *m, uint64_t bits)
{
	for (unsigned i = 0; i < m->nvcpus; i++)
		if ((bits & VMM_EVENT_TIMER(i)) && timer_line[i])
			lapic_timer_fired(m, i);
}

void arch_raise_irq(struct vmm *m, unsigned irq)
{
	ioapic_raise(m, irq);
}

void arch_console_input(struct vmm *m)
{
	uart_input(m);
}
