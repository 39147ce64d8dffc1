/* VCPUs on AArch64: guests at EL1 under HCR_EL2.TGE = 0, their EL1 system
 * registers, the GICv3 virtual CPU interface and the virtual timer, and the
 * decoding of their traps into exit messages (include/cairn/vcpu.h).
 *
 * Which registers are switched, and why (docs/ARCHITECTURE.md, "VCPUs"):
 * - the EL1 system registers a guest's kernel owns (EL1_REGS below), and
 *   TPIDR_EL0/TPIDRRO_EL0, which its user space owns;
 * - CNTV_CTL/CVAL (the guest's timer; the EL2 timer is the kernel's, and the
 *   EL1 physical timer, native threads' device timer, traps for guests:
 *   CNTHCTL_EL2.EL1PCEN = 0) and CNTVOFF;
 * - VMPIDR (the MPIDR the guest reads);
 * - the list registers, ICH_VMCR and the active-priority registers.
 * Parked when the VCPU stops being current: its state stays in the CPU's
 * registers, which native threads leave alone except for HCR_EL2, MDCR_EL2,
 * CNTHCTL_EL2, CPACR_EL1, CNTKCTL_EL1 and TPIDR*_EL0 (saved at the park);
 * its virtual timer keeps running and its interrupt (PPI 27) reaches the
 * kernel.  Saved in full only when another VCPU is loaded here or another
 * CPU needs the state (vcpu/vcpu.c). */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/fast.h"
#include "arch/aarch64/sysreg.h"
#include "hyp/arch.h"
#include "hyp/irq.h"
#include "hyp/kernel.h"
#include "hyp/kmem.h"
#include "mm/aspace.h"
#include "vcpu/vcpu.h"

#define ICH_HCR_EL2 S3_4_C12_C11_0
#define ICH_VTR_EL2 S3_4_C12_C11_1
#define ICH_ELRSR_EL2 S3_4_C12_C11_5
#define ICH_VMCR_EL2 S3_4_C12_C11_7
#define ICH_AP0R0_EL2 S3_4_C12_C8_0
#define ICH_AP1R0_EL2 S3_4_C12_C9_0
#define ICH_HCR_EN 1u
#define ICH_HCR_UIE 2u   /* maintenance interrupt when at most one LR is valid */
#define LR_STATE_PENDING (1ull << 62)
#define LR_STATE_MASK (3ull << 62)
#define LR_GROUP1 (1ull << 60)
#define LR_PRIO (0xa0ull << 48)
#define LR_VINTID_MASK 0xffffffffull

#define PPI_MAINTENANCE 25
#define CNTV_ENABLE 1u
#define CNTV_IMASK 2u

/* Guests: stage 2 on, physical interrupts and aborts to EL2 (and virtual
 * ones to the guest), WFI/WFE, SMC, implementation-defined registers and
 * ACTLR trapped, ID registers trapped (guest_id_reg), broadcasts inner
 * shareable. */
#define HCR_GUEST (HCR_EL2_RW | HCR_EL2_VM | HCR_EL2_FMO | HCR_EL2_IMO | HCR_EL2_AMO | \
		   (1ull << 9) /* FB */ | (1ull << 10) /* BSU IS */ |                  \
		   (1ull << 13) /* TWI */ | (1ull << 14) /* TWE */ |                    \
		   (1ull << 18) /* TID3 */ | (1ull << 19) /* TSC */ |                   \
		   (1ull << 20) /* TIDCP */ | (1ull << 21) /* TACR */)
#define HCR_NATIVE (HCR_EL2_RW | HCR_EL2_TGE | HCR_EL2_VM | HCR_EL2_DC | HCR_EL2_AMO | \
		    HCR_EL2_IMO | HCR_EL2_FMO)
/* Guests may not touch the PMU (CPU-global: the benchmarks' clock) or the
 * debug registers: TPM, TPMCR, TDA, TDOSA, TDRA. */
#define MDCR_GUEST_TRAPS ((1u << 5) | (1u << 6) | (1u << 9) | (1u << 10) | (1u << 11))
#define CPACR_NATIVE (3ull << 20)  /* EL0 FP/SIMD reaches CPTR_EL2's trap */
#define CNTKCTL_NATIVE (3ull | 1u << 9) /* EL0 reads both counters, may use the
					 * physical timer (a user driver's source) */
#define CNTHCTL_NATIVE 3ull        /* EL1PCTEN, EL1PCEN: EL0's physical timer works */
#define CNTHCTL_GUEST 1ull         /* a guest reads the counter, its physical timer traps */
#define PSTATE_EL1H_MASKED 0x3c5ull

static unsigned nr_lrs;
static uint64_t mdcr_native;

/* Registers saved and restored as they are: (id, register). */
#define EL1_REGS(X)                                                                   \
	X(VREG_SP_EL1, sp_el1) X(VREG_ELR_EL1, elr_el1) X(VREG_SPSR_EL1, spsr_el1)     \
	X(VREG_SCTLR_EL1, sctlr_el1) X(VREG_TTBR0_EL1, ttbr0_el1)                       \
	X(VREG_TTBR1_EL1, ttbr1_el1) X(VREG_TCR_EL1, tcr_el1) X(VREG_MAIR_EL1, mair_el1) \
	X(VREG_AMAIR_EL1, amair_el1) X(VREG_VBAR_EL1, vbar_el1) X(VREG_ESR_EL1, esr_el1) \
	X(VREG_FAR_EL1, far_el1) X(VREG_AFSR0_EL1, afsr0_el1)                           \
	X(VREG_AFSR1_EL1, afsr1_el1) X(VREG_CONTEXTIDR_EL1, contextidr_el1)             \
	X(VREG_TPIDR_EL1, tpidr_el1) X(VREG_PAR_EL1, par_el1)
/* The ones native threads change too. */
#define SHARED_REGS(X) X(VREG_CPACR_EL1, cpacr_el1) X(VREG_CNTKCTL_EL1, cntkctl_el1) \
	X(VREG_TPIDR_EL0, tpidr_el0) X(VREG_TPIDRRO_EL0, tpidrro_el0)
#define SAVE(id, reg) VSYS(a, id) = read_sysreg(reg);
#define LOAD(id, reg) write_sysreg(reg, VSYS(a, id));

static uint64_t lr_read(unsigned i)
{
	switch (i) {
#define R(n, enc) case n: return read_sysreg(enc);
	R(0, S3_4_C12_C12_0) R(1, S3_4_C12_C12_1) R(2, S3_4_C12_C12_2) R(3, S3_4_C12_C12_3)
	R(4, S3_4_C12_C12_4) R(5, S3_4_C12_C12_5) R(6, S3_4_C12_C12_6) R(7, S3_4_C12_C12_7)
	R(8, S3_4_C12_C13_0) R(9, S3_4_C12_C13_1) R(10, S3_4_C12_C13_2) R(11, S3_4_C12_C13_3)
	R(12, S3_4_C12_C13_4) R(13, S3_4_C12_C13_5) R(14, S3_4_C12_C13_6) R(15, S3_4_C12_C13_7)
#undef R
	}
	return 0;
}

static void lr_write(unsigned i, uint64_t v)
{
	switch (i) {
#define W(n, enc) case n: write_sysreg(enc, v); break;
	W(0, S3_4_C12_C12_0) W(1, S3_4_C12_C12_1) W(2, S3_4_C12_C12_2) W(3, S3_4_C12_C12_3)
	W(4, S3_4_C12_C12_4) W(5, S3_4_C12_C12_5) W(6, S3_4_C12_C12_6) W(7, S3_4_C12_C12_7)
	W(8, S3_4_C12_C13_0) W(9, S3_4_C12_C13_1) W(10, S3_4_C12_C13_2) W(11, S3_4_C12_C13_3)
	W(12, S3_4_C12_C13_4) W(13, S3_4_C12_C13_5) W(14, S3_4_C12_C13_6) W(15, S3_4_C12_C13_7)
#undef W
	}
}

bool arch_vcpu_supported(void) { return true; }

void arch_vcpu_reset(struct arch_vcpu *a)
{
	*a = (struct arch_vcpu){ 0 };
	VSYS(a, VREG_SCTLR_EL1) = 0x30d00800; /* RES1 bits; MMU and caches off */
	VSYS(a, VREG_MPIDR) = 1ull << 31;     /* RES1 */
}

void arch_vcpu_regs_reset(struct arch_regs *r)
{
	*r = (struct arch_regs){ .spsr = PSTATE_EL1H_MASKED };
}

static inline void guest_mode(const struct arch_vcpu *a)
{
	write_sysreg(hcr_el2, HCR_GUEST);
	write_sysreg(mdcr_el2, mdcr_native | MDCR_GUEST_TRAPS);
	write_sysreg(cnthctl_el2, CNTHCTL_GUEST);
	SHARED_REGS(LOAD)
}

static inline __attribute__((always_inline)) void resume(struct arch_vcpu *a)
{
	guest_mode(a);
	write_sysreg(ICH_HCR_EL2, ICH_HCR_EN);
	isb();
}

void arch_vcpu_resume(struct arch_vcpu *a) { resume(a); }

/* Per CPU, the VCPU that last ran under each VMID slot (a VMID modulo 64:
 * a collision costs a flush, never a stale entry). */
static const struct arch_vcpu *vmid_last[MAX_CPUS][64];

/* The guest's TLB maintenance is broadcast (HCR_EL2.FB), but a VM's VCPUs
 * share its VMID and the architecture gives each PE a private TLB: a VCPU
 * must not find its sibling's entries, nor its own from an earlier run
 * here (the guest may map one address per CPU with one ASID).  So a VCPU
 * loaded where another of its VM ran last, or that it has left since,
 * has the VMID's stage-1 entries and the instruction cache dropped here
 * first (KVM's last_vcpu_ran).  A VMID of an old generation is replaced
 * by a new one, which nothing has cached: nothing to drop. */
static void tlb_sanitize(struct arch_vcpu *a, unsigned cpu)
{
	const struct aspace *as = vcpu_of(a)->thread->as;
	const struct arch_vcpu **last = &vmid_last[cpu][as->vmid % 64];
	if (*last == a && a->loaded_on == cpu + 1)
		return;
	*last = a;
	a->loaded_on = cpu + 1;
	if (as->vmid_gen != vmid_gen)
		return;
	uint64_t old = read_sysreg(vttbr_el2);
	write_sysreg(vttbr_el2, (uint64_t)as->vmid << 48);
	isb();
	__asm__ volatile("tlbi vmalle1; ic iallu; dsb nsh" ::: "memory");
	write_sysreg(vttbr_el2, old);
	isb();
}

void arch_vcpu_load(struct arch_vcpu *a)
{
	tlb_sanitize(a, arch_cpu_id());
	guest_mode(a);
	EL1_REGS(LOAD)
	write_sysreg(cntvoff_el2, VSYS(a, VREG_CNTVOFF));
	write_sysreg(vmpidr_el2, VSYS(a, VREG_MPIDR));
	write_sysreg(cntv_cval_el0, VSYS(a, VREG_CNTV_CVAL));
	write_sysreg(cntv_ctl_el0, VSYS(a, VREG_CNTV_CTL));
	for (unsigned i = 0; i < nr_lrs; i++)
		lr_write(i, a->lr[i]);
	write_sysreg(ICH_VMCR_EL2, a->vmcr);
	write_sysreg(ICH_AP0R0_EL2, a->ap0r0);
	write_sysreg(ICH_AP1R0_EL2, a->ap1r0);
	write_sysreg(ICH_HCR_EL2, ICH_HCR_EN);
	isb();
}

/* What native threads change is saved; the interface stays quiet meanwhile
 * (no maintenance interrupts for a guest that is not running); TPIDR*_EL0
 * are the guest's business, not a native thread's. */
static inline __attribute__((always_inline)) void park_native(struct arch_vcpu *a, bool sync)
{
	SHARED_REGS(SAVE)
	write_sysreg(ICH_HCR_EL2, 0);
	write_sysreg(hcr_el2, HCR_NATIVE);
	write_sysreg(mdcr_el2, mdcr_native);
	write_sysreg(cnthctl_el2, CNTHCTL_NATIVE);
	write_sysreg(cpacr_el1, CPACR_NATIVE);
	write_sysreg(cntkctl_el1, CNTKCTL_NATIVE);
	write_sysreg(tpidr_el0, 0);
	write_sysreg(tpidrro_el0, 0);
	if (sync) /* else the caller's next isb does it */
		isb();
}

void arch_vcpu_park_native(struct arch_vcpu *a) { park_native(a, true); }

void arch_vcpu_save(struct arch_vcpu *a)
{
	EL1_REGS(SAVE)
	VSYS(a, VREG_CNTV_CTL) = read_sysreg(cntv_ctl_el0);
	VSYS(a, VREG_CNTV_CVAL) = read_sysreg(cntv_cval_el0);
	for (unsigned i = 0; i < nr_lrs; i++)
		a->lr[i] = lr_read(i);
	a->vmcr = read_sysreg(ICH_VMCR_EL2);
	a->ap0r0 = read_sysreg(ICH_AP0R0_EL2);
	a->ap1r0 = read_sysreg(ICH_AP1R0_EL2);
	/* Its timer falls silent here: a kernel timer stands in for it. */
	write_sysreg(cntv_ctl_el0, 0);
	isb();
}

/* Pending interrupts into free list registers.  An interrupt already in a
 * list register is not listed twice (the GIC forbids it): pending again
 * while active, it becomes pending and active. */
void arch_vcpu_flush_virqs(struct vcpu *v)
{
	if (!vcpu_has_deliverable(v))
		return;
	uint64_t lr[VGIC_MAX_LRS];
	for (unsigned i = 0; i < nr_lrs; i++)
		lr[i] = lr_read(i);
	for (int virq; (virq = vcpu_take_deliverable(v)) >= 0;) {
		unsigned i, free = nr_lrs;
		for (i = 0; i < nr_lrs; i++) {
			if (!(lr[i] & LR_STATE_MASK))
				free = MIN(free, i);
			else if ((lr[i] & LR_VINTID_MASK) == (uint64_t)virq)
				break;
		}
		if (i < nr_lrs) {
			lr[i] |= LR_STATE_PENDING;
		} else if (free < nr_lrs) {
			lr[free] = LR_STATE_PENDING | LR_GROUP1 | LR_PRIO | (uint64_t)virq;
			i = free;
		} else {
			vcpu_set_pending(v, (unsigned)virq); /* no room: keep it */
			write_sysreg(ICH_HCR_EL2, ICH_HCR_EN | ICH_HCR_UIE);
			break;
		}
		lr_write(i, lr[i]);
	}
	isb();
}

bool arch_vcpu_virq_pending(const struct arch_vcpu *a)
{
	(void)a; /* loaded: the registers are the truth */
	for (unsigned i = 0; i < nr_lrs; i++)
		if (lr_read(i) & LR_STATE_PENDING)
			return true;
	return false;
}

uint64_t arch_vcpu_timer_deadline(const struct arch_vcpu *a)
{
	uint64_t ctl = VSYS(a, VREG_CNTV_CTL);
	if ((ctl & (CNTV_ENABLE | CNTV_IMASK)) != CNTV_ENABLE)
		return ~0ull;
	return VSYS(a, VREG_CNTV_CVAL) + VSYS(a, VREG_CNTVOFF);
}

void arch_vcpu_timer_fired(struct arch_vcpu *a) { VSYS(a, VREG_CNTV_CTL) |= CNTV_IMASK; }

/* PSTATE a VMM may set: NZCV, DAIF and an AArch64 EL0 or EL1 mode. */
static bool pstate_ok(uint64_t p)
{
	unsigned m = p & 0xf;
	return !(p & ~(0xf00003cfull)) && !(p & 0x10) && (m == 0 || m == 4 || m == 5);
}

err_t arch_vcpu_reg_read(struct vcpu *v, uint64_t id, uint64_t *val)
{
	struct arch_regs *r = v->thread ? &v->thread->regs : NULL;
	if (id >= VREG_SP_EL1 && id < VREG_COUNT)
		*val = VSYS(&v->arch, id);
	else if (id > VREG_PSTATE)
		return E_RANGE;
	else if (!r)
		return E_NOENT; /* general registers live in the bound thread */
	else
		*val = id <= 30 ? r->x[id] : id == VREG_SP_EL0 ? r->sp : id == VREG_PC ? r->pc : r->spsr;
	return E_OK;
}

err_t arch_vcpu_reg_write(struct vcpu *v, uint64_t id, uint64_t val)
{
	struct arch_regs *r = v->thread ? &v->thread->regs : NULL;
	if (id >= VREG_SP_EL1 && id < VREG_COUNT) {
		VSYS(&v->arch, id) = val;
		return E_OK;
	}
	if (id > VREG_PSTATE)
		return E_RANGE;
	if (!r)
		return E_NOENT;
	if (id <= 30)
		r->x[id] = val;
	else if (id == VREG_SP_EL0)
		r->sp = val;
	else if (id == VREG_PC)
		r->pc = val;
	else if (pstate_ok(val))
		r->spsr = val;
	else
		return E_INVAL; /* never EL2, never AArch32 */
	return E_OK;
}

/* --- Exits ------------------------------------------------------------- */

enum { EC_WFX = 0x01, EC_FP = 0x07, EC_HVC64 = 0x16, EC_SMC64 = 0x17, EC_SYSREG = 0x18,
       EC_IABT_LOW = 0x20, EC_DABT_LOW = 0x24 };
#define ESR_ISV (1u << 24)
#define ESR_WNR (1u << 6)
#define ESR_IL (1u << 25)

static uint64_t reg_or_zero(const struct arch_regs *r, unsigned n) { return n == 31 ? 0 : r->x[n]; }

/* The instruction at guest virtual address va, through the guest's own
 * stage 1 and its stage 2 (both still loaded), or VMEXIT_NO_INSN. */
static uint64_t guest_insn(uint64_t va)
{
	uint64_t saved = read_sysreg(par_el1);
	__asm__ volatile("at s12e1r, %0" : : "r"(va));
	isb();
	uint64_t par = read_sysreg(par_el1);
	write_sysreg(par_el1, saved);
	paddr_t pa = pa_make((par & 0x0000fffffffff000ull) | (va & 0xfff));
	if ((par & 1) || !kmem_is_ram(pa) || !IS_ALIGNED(va, 4))
		return VMEXIT_NO_INSN;
	return *(volatile uint32_t *)kmem_va(pa);
}

static void decode_data_abort(const struct arch_regs *r, uint64_t *w)
{
	uint64_t esr = r->esr;
	w[0] = (read_sysreg(hpfar_el2) >> 4 << 12) | (r->far & 0xfff);
	w[5] = r->far;
	if (!(esr & ESR_ISV)) {
		w[3] = esr & ESR_WNR ? VMACC_WRITE : 0;
		w[4] = guest_insn(r->pc);
		return;
	}
	unsigned sas = (esr >> 22) & 3, srt = (esr >> 16) & 31;
	w[3] = VMACC_VALID | sas | (uint64_t)srt << VMACC_REG_SHIFT |
	       (esr & ESR_WNR ? VMACC_WRITE : 0) | (esr & (1u << 21) ? VMACC_SIGN : 0) |
	       (esr & (1u << 15) ? VMACC_64 : 0);
	if (esr & ESR_WNR) {
		uint64_t val = reg_or_zero(r, srt);
		w[4] = sas == 3 ? val : val & ((1ull << (8u << sas)) - 1);
	}
}

/* The ID registers (op0 3, op1 0, CRn 0, CRm 1-7) as a guest sees them:
 * the CPU's, less what the kernel does not switch or let guests use: SVE,
 * SME, MTE, pointer authentication (its keys), AMU, MPAM, and the PMU,
 * statistical profiling, trace and branch records (MDCR_EL2 traps those).
 * Unallocated encodings read as zero, as the architecture has them. */
#define FIELD(lo) (0xfull << (lo))
static uint64_t guest_id_reg(unsigned crm, unsigned op2)
{
	uint64_t v = 0;
	switch (crm << 3 | op2) {
#define ID(c, o) case c << 3 | o: v = read_sysreg(S3_0_C0_C##c##_##o); break;
#define ID8(c) ID(c, 0) ID(c, 1) ID(c, 2) ID(c, 3) ID(c, 4) ID(c, 5) ID(c, 6) ID(c, 7)
	ID8(1) ID8(2) ID8(3) ID8(4) ID8(5) ID8(6) ID8(7)
#undef ID8
#undef ID
	}
	switch (crm << 3 | op2) {
	case 4 << 3 | 0: /* ID_AA64PFR0: SVE, MPAM, AMU */
		return v & ~(FIELD(32) | FIELD(40) | FIELD(44));
	case 4 << 3 | 1: /* ID_AA64PFR1: MTE, MPAM_frac, SME */
		return v & ~(FIELD(8) | FIELD(16) | FIELD(24));
	case 4 << 3 | 4: /* ID_AA64ZFR0, ID_AA64SMFR0 */
	case 4 << 3 | 5:
		return 0;
	case 5 << 3 | 0: /* ID_AA64DFR0: TraceVer, PMUVer, PMSVer, TraceBuffer, BRBE */
		return v & ~(FIELD(4) | FIELD(8) | FIELD(32) | FIELD(44) | FIELD(52));
	case 6 << 3 | 1: /* ID_AA64ISAR1: APA, API, GPA, GPI */
		return v & ~(FIELD(4) | FIELD(8) | FIELD(24) | FIELD(28));
	case 6 << 3 | 2: /* ID_AA64ISAR2: GPA3, APA3 */
		return v & ~(FIELD(8) | FIELD(12));
	default:
		return v;
	}
}

/* A trapped ID register read, answered here (TID3 traps every one). */
static bool id_reg_read(struct arch_regs *r)
{
	uint64_t esr = r->esr;
	unsigned op0 = (esr >> 20) & 3, op2 = (esr >> 17) & 7, op1 = (esr >> 14) & 7;
	unsigned crn = (esr >> 10) & 15, crm = (esr >> 1) & 15, rt = (esr >> 5) & 31;
	if (op0 != 3 || op1 != 0 || crn != 0 || crm < 1 || !(esr & 1))
		return false;
	if (rt != 31)
		r->x[rt] = guest_id_reg(crm, op2);
	r->pc += 4;
	return true;
}

static void abort_fast(struct thread *t, struct arch_regs *r, unsigned cpu);

/* An MMIO or system-register read's value into its register, as the CPU
 * would have loaded it (the access word says how). */
static inline __attribute__((always_inline)) void write_read_value(struct arch_regs *r, uint64_t acc,
								    uint64_t val)
{
	unsigned bits = 8u << (acc & VMACC_SIZE_MASK);
	if (bits < 64) {
		val &= (1ull << bits) - 1;
		if ((acc & VMACC_SIGN) && (val >> (bits - 1)))
			val |= ~0ull << bits;
	}
	if (!(acc & VMACC_64))
		val &= 0xffffffffull;
	if (vmacc_reg(acc) != 31)
		r->x[vmacc_reg(acc)] = val;
}

/* A trap from the guest of thread t (its registers saved in r), on this
 * CPU; Cairn's hypercalls went to kernel_vcpu_hypercall already. */
_Noreturn void aarch64_guest_trap(struct thread *t, struct arch_regs *r, unsigned ec, unsigned cpu)
{
	uint64_t *w = t->fault; /* the message, decoded in place (vcpu.h) */
	vmexit_clear(w);
	w[2] = r->esr;
	switch (ec) {
	case EC_WFX:
		r->pc += 4;
		kernel_vcpu_wait(t, r->esr & 1, cpu);
	case EC_FP:
		kernel_fp_unavailable(t);
	case EC_HVC64:
	case EC_SMC64:
		if (ec == EC_HVC64)
			r->pc -= 4; /* ELR is past an HVC: every exit names its instruction */
		w[0] = r->x[0], w[1] = r->pc, w[3] = r->x[1], w[4] = r->x[2], w[5] = r->x[3];
		kernel_vcpu_exit(t, ec == EC_HVC64 ? VMEXIT_HVC : VMEXIT_SMC, cpu);
	case EC_SYSREG: {
		if (id_reg_read(r)) { /* straight back: no lock, its space still loaded */
			vcpu_count(t->vcpu, vc_label(VMEXIT_SYSREG));
			uint64_t vttbr = read_sysreg(vttbr_el2);
			arch_user_enter(r, pa_make(vttbr & ((1ull << 48) - 1)), vttbr >> 48);
		}
		unsigned rt = (r->esr >> 5) & 31;
		bool read = r->esr & 1;
		w[0] = r->esr & 0x1ffffff & ~(0x1fu << 5 | 1u);
		w[1] = r->pc;
		w[3] = VMACC_VALID | VMACC_64 | 3 | (uint64_t)rt << VMACC_REG_SHIFT |
		       (read ? 0 : VMACC_WRITE);
		w[4] = read ? 0 : reg_or_zero(r, rt);
		kernel_vcpu_exit(t, VMEXIT_SYSREG, cpu);
	}
	case EC_DABT_LOW:
		w[1] = r->pc;
		decode_data_abort(r, w);
		if (w[3] & VMACC_VALID)
			abort_fast(t, r, cpu); /* returns if it declines */
		kernel_vcpu_exit(t, VMEXIT_DATA_ABORT, cpu);
	case EC_IABT_LOW:
		w[0] = (read_sysreg(hpfar_el2) >> 4 << 12) | (r->far & 0xfff);
		w[1] = r->pc;
		w[5] = r->far;
		kernel_vcpu_exit(t, VMEXIT_INSN_ABORT, cpu);
	default:
		w[1] = r->pc;
		kernel_vcpu_exit(t, VMEXIT_OTHER, cpu);
	}
}

/* --- The HVC fast path ----------------------------------------------- */

/* The general way for a guest's HVC: aarch64_user_trap, as any trap
 * (declared as returning, so that it is reached by a branch). */
static __attribute__((noinline, noipa)) struct thread *hvc_general(struct thread *t, struct cpu *c)
{
	aarch64_user_trap(&t->regs, 8, c);
}

/* A guest's exit, sent to its VMM as the exit message ipc_fastpath_kmsg
 * would send (kernel_vcpu_exit's work): `words` puts its six words in the
 * guest's fault and the VMM's message registers, the VCPU is parked and
 * the VMM entered, sharing the big lock (hyp/bkl.h: the guest's VCPU is
 * this CPU's, parked in its own registers).  A VMM not waiting on this
 * CPU, a write to a doorbell (kernel_vcpu_exit rings it), or anything the
 * fast paths decline goes to `decline`, with nothing done.  Every way out
 * a tail call, so that the caller needs no frame. */
typedef void exit_words(struct thread *t, struct arch_regs *r, uint64_t *w, uint64_t *mr);
typedef struct thread *exit_decline(struct thread *t, struct cpu *c);
static inline __attribute__((always_inline)) struct thread *
exit_fast(struct thread *t, struct arch_regs *r, struct cpu *c, enum vmexit_label label,
	  exit_words *words, exit_decline *decline)
{
	struct sched *s = c->sched;
	struct cap *fep = &t->fault_ep;
	struct thread *vmm;
	if (!bkl_share(s)) /* or its fast paths closed */
		return decline(t, c);
	if (fep->type != OBJ_ENDPOINT || !(fep->rights & R_WRITE) ||
	    (label == VMEXIT_DATA_ABORT && (t->fault[3] & VMACC_WRITE) &&
	     aspace_doorbell(t->as, t->fault[0])) ||
	    (label == VMEXIT_DATA_ABORT && aspace_status(t->as, t->fault[0])) ||
	    !(vmm = call_partner(s, (struct endpoint *)fep->obj, c->id))) {
		bkl_unshare(s);
		return decline(t, c);
	}
	vcpu_count(t->vcpu, vc_label(label));
	_Static_assert(VMEXIT_WORDS == 6, "the words sent");
	words(t, r, t->fault, regs_gpr(&vmm->regs, REG_MR0));
	t->fault_label = label;
	t->fault_kind = KMSG_VMEXIT;
	t->fault_len = VMEXIT_WORDS;
	t->fault_pending = true;
	link_call(t, vmm, msginfo(label, VMEXIT_WORDS, 0), fep->badge);
	c->vcpu_in = NULL; /* vcpu_leave_for_native */
	park_native(&t->vcpu->arch, true);
	switch_to(s, t, vmm);
	return svc_enter(vmm, c, s, ENTER_IPC, true); /* it waited in a receive */
}

/* An HVC's words, as aarch64_guest_trap decodes them. */
static inline __attribute__((always_inline)) void hvc_words(struct thread *t, struct arch_regs *r,
							    uint64_t *w, uint64_t *mr)
{
	uint64_t pc = r->pc - 4; /* ELR is past an HVC: every exit names its instruction */
	uint64_t x0 = r->x[0], x1 = r->x[1], x2 = r->x[2], x3 = r->x[3];
	uint64_t esr = read_sysreg(esr_el2); /* again: no register kept for it */
	(void)t;
	r->pc = pc;
	mr[0] = w[0] = x0, mr[1] = w[1] = pc, mr[2] = w[2] = esr;
	mr[3] = w[3] = x1, mr[4] = w[4] = x2, mr[5] = w[5] = x3;
}

/* A guest's HVC, entered from hvc_entry (vectors.S) with its registers
 * saved in r as svc_entry saves them: exit_fast, in one function that
 * calls nothing.  A Cairn hypercall, or whatever exit_fast declines, takes
 * the general way.  About 128 instructions, with the entry and exit
 * around it 183 (docs/PERF.md). */
struct thread *aarch64_hvc(struct thread *t, struct cpu *c)
{
	struct arch_regs *r = &t->regs;
	r->esr = read_sysreg(esr_el2); /* for the general way (FAR: an HVC has none) */
	if (r->x[0] >> 16 == HC_BASE >> 16 || !t->vcpu)
		return hvc_general(t, c);
	return exit_fast(t, r, c, VMEXIT_HVC, hvc_words, hvc_general);
}

/* A data abort's words, decoded already (aarch64_guest_trap). */
static void abort_words(struct thread *t, struct arch_regs *r, uint64_t *w, uint64_t *mr)
{
	(void)t, (void)r;
	mr[0] = w[0], mr[1] = w[1], mr[2] = w[2], mr[3] = w[3], mr[4] = w[4], mr[5] = w[5];
}

static struct thread *abort_decline(struct thread *t, struct cpu *c)
{
	(void)t, (void)c;
	return NULL;
}

/* A guest's MMIO access, decoded by the CPU (ESR.ISV), on exit_fast's way
 * from user_trap: the VMM's registers are loaded straight away. */
static void abort_fast(struct thread *t, struct arch_regs *r, unsigned cpu)
{
	struct thread *next = exit_fast(t, r, &cpus[cpu], VMEXIT_DATA_ABORT, abort_words,
					abort_decline);
	if (next) {
		uint64_t vttbr = read_sysreg(vttbr_el2); /* exit_fast loaded the VMM's */
		arch_user_enter(&next->regs, pa_make(vttbr & ((1ull << 48) - 1)), vttbr >> 48);
	}
}

/* The VMM's reply_recv answering an HVC or an MMIO access (aarch64_svc,
 * sharing the lock): fastpath_reply_recv with vcpu_exit_reply's HVC and
 * read cases and vcpu_enter_parked inline, then the guest entered.  An
 * abort, another exit or a hypercall goes to svc_reply_guest, which takes
 * the lock whole. */
struct thread *aarch64_reply_hvc(struct thread *t, struct cpu *c)
{
	struct sched *s = c->sched;
	struct thread *g = t->caller; /* fault_pending */
	struct vcpu *v = g->vcpu;
	const uint64_t *mr = regs_gpr(&t->regs, REG_MR0);
	unsigned len = msginfo_len(arg(t, REG_INFO));
	struct endpoint *ep;
	bool hvc = g->fault_label == VMEXIT_HVC;
	if (g->fault_kind != KMSG_VMEXIT || !(hvc || g->fault_label == VMEXIT_DATA_ABORT) || !v ||
	    !len || (mr[0] & VMREPLY_ABORT) || !(ep = reply_recv_ok(t, g, s, c->id, arg(t, REG_INFO))))
		return svc_reply_guest(t, c);
	g->fault_pending = false;
	uint64_t flags = mr[0], *x = g->regs.x, acc = g->fault[3];
	if (!hvc) { /* an MMIO read's value: arch_vcpu_exit_reply's case */
		if ((flags & VMREPLY_READ) && len >= 2 &&
		    (acc & (VMACC_VALID | VMACC_WRITE)) == VMACC_VALID)
			write_read_value(&g->regs, acc, mr[1]);
	} else if ((flags & VMREPLY_REGS) && len >= 5) { /* x0-x3 = MR1-MR4 */
		x[0] = mr[1], x[1] = mr[2], x[2] = mr[3], x[3] = mr[4];
	} else if (flags & VMREPLY_REGS) {
		for (unsigned i = 0; i + 1 < len; i++)
			x[i] = mr[i + 1];
	}
	if (flags & VMREPLY_ADVANCE)
		g->regs.pc = g->fault[1] + 4;
	reply_recv_done(t, g, s, ep);
	if (v->hw_cpu == (int)c->id && !v->exception) { /* parked here */
		resume(&v->arch);
		c->vcpu_in = v;
	}
	return svc_enter(g, c, s, ENTER_GUEST, true);
}

/* --- Replies ----------------------------------------------------------- */

/* An exception for the guest's EL1, as the CPU would take it: a
 * synchronous external abort for aborts, an unknown-reason exception for
 * the rest.  Noted here, taken when the VCPU is next loaded (its EL1
 * registers may still be parked in another CPU's). */
static void note_exception(struct arch_vcpu *a, const struct arch_regs *r, uint64_t label,
			   const uint64_t *exit)
{
	bool lower = (r->spsr & 0xf) == 0;
	uint64_t esr = ESR_IL;
	if (label == VMEXIT_DATA_ABORT)
		esr |= (lower ? 0x24ull : 0x25ull) << 26 | (exit[2] & ESR_WNR) | 0x10;
	else if (label == VMEXIT_INSN_ABORT)
		esr |= (lower ? 0x20ull : 0x21ull) << 26 | 0x10;
	a->exc_esr = esr;
	a->exc_elr = exit[1];
	a->exc_far = label == VMEXIT_DATA_ABORT || label == VMEXIT_INSN_ABORT ? exit[5] : ~0ull;
}

void arch_vcpu_take_exception(struct arch_vcpu *a, struct arch_regs *r)
{
	unsigned mode = r->spsr & 0xf;
	if (a->exc_far != ~0ull)
		write_sysreg(far_el1, a->exc_far);
	write_sysreg(esr_el1, a->exc_esr);
	write_sysreg(elr_el1, a->exc_elr);
	write_sysreg(spsr_el1, r->spsr);
	r->spsr = PSTATE_EL1H_MASKED;
	r->pc = read_sysreg(vbar_el1) + (mode == 0 ? 0x400 : mode == 5 ? 0x200 : 0);
}

void arch_vcpu_skip_insn(struct arch_regs *r, const uint64_t *exit) { r->pc = exit[1] + 4; }

bool arch_vcpu_exit_reply(struct arch_vcpu *a, struct arch_regs *r, uint64_t label,
			  const uint64_t *exit, const uint64_t *mr, unsigned len)
{
	uint64_t flags = mr[0];
	if (flags & VMREPLY_ABORT) {
		note_exception(a, r, label, exit);
		return true;
	}
	bool reads = (label == VMEXIT_DATA_ABORT || label == VMEXIT_SYSREG) &&
		     (exit[3] & VMACC_VALID) && !(exit[3] & VMACC_WRITE);
	if ((flags & VMREPLY_READ) && len >= 2 && reads)
		write_read_value(r, exit[3], mr[1]);
	if ((flags & VMREPLY_REGS) && (label == VMEXIT_HVC || label == VMEXIT_SMC))
		for (unsigned i = 0; i < 4 && i + 1 < len; i++)
			r->x[i] = mr[i + 1];
	if (flags & VMREPLY_ADVANCE)
		r->pc = exit[1] + 4;
	return false;
}

/* --- Per-CPU set-up and the interrupts the kernel keeps -------------------- */

/* The guest's timer fired while it ran or was parked here: mask it (the
 * guest unmasks it when it programs the next deadline, as Linux does) and
 * raise its interrupt. */
static void vtimer_irq(unsigned irq)
{
	(void)irq;
	write_sysreg(cntv_ctl_el0, read_sysreg(cntv_ctl_el0) | CNTV_IMASK);
	struct vcpu *v = this_cpu()->vcpu_hw;
	if (v)
		vcpu_raise(v, VIRQ_VTIMER);
}

/* List registers ran low: the way back into the guest refills them. */
static void maintenance_irq(unsigned irq)
{
	(void)irq;
	write_sysreg(ICH_HCR_EL2, read_sysreg(ICH_HCR_EL2) & ~(uint64_t)ICH_HCR_UIE);
}

void aarch64_vcpu_init_cpu(uint64_t mdcr)
{
	mdcr_native = mdcr;
	nr_lrs = MIN((unsigned)(read_sysreg(ICH_VTR_EL2) & 0x1f) + 1, VGIC_MAX_LRS);
	write_sysreg(ICH_HCR_EL2, 0);
	if (arch_cpu_id() == 0) {
		irq_register(VIRQ_VTIMER, vtimer_irq);
		irq_register(PPI_MAINTENANCE, maintenance_irq);
		irq_reserve(VIRQ_VTIMER);
		irq_reserve(PPI_MAINTENANCE);
	}
	arch_irq_unmask(VIRQ_VTIMER);
	arch_irq_unmask(PPI_MAINTENANCE);
}
