/* VCPUs on riscv64: guests in VS-mode on the G-stage tables native threads
 * use (same spaces, same VMIDs), their VS CSRs, virtual interrupts through
 * hvip, the timer (Sstc's vstimecmp, or the guest's SBI set_timer), and
 * the decoding of their traps into exit messages (include/cairn/vcpu.h).
 *
 * Which state is switched, and why (docs/ARCHITECTURE.md, riscv64 VCPUs):
 * native threads run in VU-mode with vsatp bare, vsstatus.FS Initial,
 * nothing delegated (hedeleg = hideleg = 0), no virtual interrupt (hvip
 * 0) and hie their own (vsie is hie's VS bits); they cannot reach the
 * other VS CSRs.  So parking a VCPU (its thread stops being current) saves
 * and resets just those six; the rest (vstvec, vsscratch, vsepc, vscause,
 * vstval, vstimecmp) stays in the
 * hart until another VCPU is loaded there or another hart needs it
 * (vcpu/vcpu.c).  A parked VCPU's vstimecmp keeps counting: hie.VSTIE
 * makes its expiry an HS interrupt (not delegated while natives run),
 * which wakes the VCPU as AArch64's virtual timer PPI does. */
#include "arch/riscv64/riscv.h"
#include "hyp/arch.h"
#include "hyp/bits.h"
#include "hyp/irq.h"
#include "hyp/kernel.h"
#include "mm/aspace.h"
#include "vcpu/vcpu.h"

#define CSR_VSSTATUS 0x200
#define CSR_VSTVEC 0x205
#define CSR_VSSCRATCH 0x240
#define CSR_VSEPC 0x241
#define CSR_VSCAUSE 0x242
#define CSR_VSTVAL 0x243
#define CSR_VSATP 0x280
#define CSR_VSTIMECMP 0x24d
#define CSR_HEDELEG 0x602
#define CSR_HIDELEG 0x603
#define CSR_HIE 0x604
#define CSR_HTIMEDELTA 0x605
#define CSR_HENVCFG 0x60a
#define CSR_HIP 0x644
#define CSR_HVIP 0x645
#define CSR_HTINST 0x64a

/* csr_*() with the numbers above expanded first. */
#define rd(c) csr_read(c)
#define wr(c, v) csr_write(c, v)
#define setb(c, v) csr_set(c, v)
#define clrb(c, v) csr_clear(c, v)

#define HSTATUS_VTW (1ull << 21)       /* a guest's WFI traps (virtual instruction) */
#define HENVCFG_STCE (1ull << 63)      /* the guest has its own stimecmp */
#define VSSIP (1ull << 2)
#define VSTIP (1ull << 6)
#define VSEIP (1ull << 10)
#define VS_IRQS (VSSIP | VSTIP | VSEIP)
#define SSTATUS_SPIE (1ull << 5)
#define VSSTATUS_NATIVE (1ull << 13)   /* FS Initial: FP is sstatus.FS's to gate */
#define UXL_64 (2ull << 32)
#define INSN_WFI 0x10500073u
#define EXT_VIRQS0 (~0xffffull | 1ull << VIRQ_RV_EXT) /* word 0's external ones */

enum { EXC_ILLEGAL = 2, EXC_LOAD_ACCESS = 5, EXC_STORE_ACCESS = 7, EXC_INSN_ACCESS = 1,
       EXC_ECALL_VS = 10, EXC_INSN_GPAGE = 20, EXC_LOAD_GPAGE = 21, EXC_VIRT_INSN = 22,
       EXC_STORE_GPAGE = 23 };
/* What a guest's kernel takes itself: misaligned fetches, breakpoints,
 * misaligned loads and stores, its user mode's ecalls, its own page
 * faults.  Illegal instructions come here first: FP state is lazy. */
#define HEDELEG_GUEST (1ull << 0 | 1ull << 3 | 1ull << 4 | 1ull << 6 | 1ull << 8 | \
		       1ull << 12 | 1ull << 13 | 1ull << 15)

bool arch_vcpu_supported(void) { return true; }

void arch_vcpu_reset(struct arch_vcpu *a)
{
	*a = (struct arch_vcpu){ .hvip = 0 };
	VCSR(a, VREG_RV_VSSTATUS) = UXL_64;
	VCSR(a, VREG_RV_VSTIMECMP) = ~0ull;
}

/* VS-mode at pc 0, interrupts off (vsstatus.SIE 0). */
void arch_vcpu_regs_reset(struct arch_regs *r) { *r = (struct arch_regs){ .spp = SSTATUS_SPP }; }

/* The guest's timer in host time, ~0 for none (or, without Sstc, one
 * that has fired already). */
uint64_t arch_vcpu_timer_deadline(const struct arch_vcpu *a)
{
	uint64_t cmp = VCSR(a, VREG_RV_VSTIMECMP);
	if (cmp == ~0ull || (!riscv_has_sstc() && a->timer_due))
		return ~0ull;
	return cmp - VCSR(a, VREG_RV_HTIMEDELTA);
}

/* Without Sstc the timer is a kernel timer whether loaded or not, and its
 * interrupt hvip.VSTIP, until the guest sets the next deadline. */
void arch_vcpu_timer_fired(struct arch_vcpu *a)
{
	if (!riscv_has_sstc()) {
		a->timer_due = true;
		a->hvip |= VSTIP;
	}
}

static void sbi_timer_arm(struct arch_vcpu *a)
{
	uint64_t due = arch_vcpu_timer_deadline(a);
	struct vcpu *v = vcpu_of(a);
	if (due != ~0ull)
		ktimer_arm(&v->vtimer, arch_cpu_id(), due);
	else
		ktimer_cancel(&v->vtimer);
}

/* An external interrupt (9, 16-1019) pending and enabled: the guest's
 * VSEIP, until a claim (VREG_RV_CLAIM) takes the last. */
static bool ext_pending(const struct vcpu *v)
{
	for (uint32_t ws = v->pending_words; ws; ws &= ws - 1) {
		unsigned i = bit_lowest(ws);
		uint64_t m = v->pending[i] & ~v->disabled[i] & (i ? ~0ull : EXT_VIRQS0);
		if (m)
			return true;
	}
	return false;
}

static uint64_t ext_claim(struct vcpu *v)
{
	for (unsigned i = 0; i < VIRQ_WORDS; i++) {
		uint64_t m = v->pending[i] & ~v->disabled[i] & (i ? ~0ull : EXT_VIRQS0);
		if (m) {
			unsigned b = bit_lowest(m);
			v->pending[i] &= ~(1ull << b);
			if (!v->pending[i])
				v->pending_words &= ~(1u << i);
			return i * 64 + b;
		}
	}
	return 0;
}

static inline void guest_mode(const struct arch_vcpu *a)
{
	wr(CSR_VSATP, VCSR(a, VREG_RV_VSATP));
	wr(CSR_VSSTATUS, VCSR(a, VREG_RV_VSSTATUS));
	wr(CSR_HIE, VCSR(a, VREG_RV_VSIE) << 1 & VS_IRQS); /* vsie is hie's VS bits */
	wr(CSR_HVIP, a->hvip | (ext_pending(vcpu_of(a)) ? VSEIP : 0));
	wr(CSR_HEDELEG, HEDELEG_GUEST);
	wr(CSR_HIDELEG, VS_IRQS);
}

void arch_vcpu_resume(struct arch_vcpu *a) { guest_mode(a); }

/* The VCPU each CPU loaded last, and the VMID it was to run with. */
static struct { const struct arch_vcpu *vcpu; unsigned vmid; } last_load[MAX_CPUS];

/* A guest's VS-stage TLB entries are tagged with its VMID, which every
 * VCPU of the VM shares, and its own SFENCE.VMA and FENCE.I act on the hart
 * it runs on only.  So a hart it comes to may hold stale entries of the
 * VMID (and stale instructions): its own from an earlier run here (it has
 * run, and fenced, elsewhere since) or a sibling VCPU's.  They go unless
 * this VCPU was the last loaded here, with this VMID, and was loaded
 * nowhere since (KVM's kvm_riscv_local_tlb_sanitize, on a change of hart).
 * HFENCE.VVMA acts on hgatp's VMID, so the guest's is put there for it;
 * kernel_enter loads the real one next (aspace_activate has run: the VMID
 * is final).  A VCPU parked here and resumed needs none of this: no other
 * VCPU can have run here meanwhile without saving it. */
static void tlb_sanitize(struct arch_vcpu *a, unsigned cpu)
{
	const struct aspace *as = vcpu_of(a)->thread->as;
	if (last_load[cpu].vcpu == a && last_load[cpu].vmid == as->vmid && a->loaded_on == cpu + 1)
		return;
	last_load[cpu].vcpu = a;
	last_load[cpu].vmid = as->vmid;
	a->loaded_on = cpu + 1;
	uint64_t mine = csr_read(hgatp);
	csr_write(hgatp, riscv_hgatp(as->vmid, as->pt.root_pa));
	riscv_hfence_vvma_all();
	csr_write(hgatp, mine);
	riscv_fence_i();
}

void arch_vcpu_load(struct arch_vcpu *a)
{
	tlb_sanitize(a, arch_cpu_id());
	guest_mode(a);
	wr(CSR_VSTVEC, VCSR(a, VREG_RV_VSTVEC));
	wr(CSR_VSSCRATCH, VCSR(a, VREG_RV_VSSCRATCH));
	wr(CSR_VSEPC, VCSR(a, VREG_RV_VSEPC));
	wr(CSR_VSCAUSE, VCSR(a, VREG_RV_VSCAUSE));
	wr(CSR_VSTVAL, VCSR(a, VREG_RV_VSTVAL));
	wr(CSR_HTIMEDELTA, VCSR(a, VREG_RV_HTIMEDELTA));
	if (riscv_has_sstc())
		wr(CSR_VSTIMECMP, VCSR(a, VREG_RV_VSTIMECMP));
	else
		sbi_timer_arm(a); /* vcpu_load cancelled it: it runs while loaded too */
}

/* Native threads' settings back; the guest's timer, still counting in
 * vstimecmp, interrupts HS-mode when due (vs_timer_irq). */
void arch_vcpu_park_native(struct arch_vcpu *a)
{
	VCSR(a, VREG_RV_VSATP) = rd(CSR_VSATP);
	VCSR(a, VREG_RV_VSSTATUS) = rd(CSR_VSSTATUS);
	VCSR(a, VREG_RV_VSIE) = rd(CSR_HIE) >> 1 & (VS_IRQS >> 1);
	a->hvip = rd(CSR_HVIP) & ~VSEIP; /* the guest may have cleared VSSIP */
	wr(CSR_VSATP, 0);
	wr(CSR_VSSTATUS, VSSTATUS_NATIVE);
	wr(CSR_HVIP, 0);
	wr(CSR_HEDELEG, 0);
	wr(CSR_HIDELEG, 0);
	wr(CSR_HIE, riscv_has_sstc() ? VSTIP : 0);
}

/* After a park: the rest into memory, its timer silenced (a kernel timer
 * stands in, vcpu/vcpu.c). */
void arch_vcpu_save(struct arch_vcpu *a)
{
	VCSR(a, VREG_RV_VSTVEC) = rd(CSR_VSTVEC);
	VCSR(a, VREG_RV_VSSCRATCH) = rd(CSR_VSSCRATCH);
	VCSR(a, VREG_RV_VSEPC) = rd(CSR_VSEPC);
	VCSR(a, VREG_RV_VSCAUSE) = rd(CSR_VSCAUSE);
	VCSR(a, VREG_RV_VSTVAL) = rd(CSR_VSTVAL);
	if (riscv_has_sstc()) {
		VCSR(a, VREG_RV_VSTIMECMP) = rd(CSR_VSTIMECMP);
		wr(CSR_VSTIMECMP, ~0ull);
		clrb(CSR_HIE, VSTIP);
	}
}

/* Pending interrupts into hvip: software (1) and, without Sstc, timer (5)
 * are taken off the pending set (the guest clears VSSIP itself; VSTIP goes
 * when it sets its next deadline); external ones stay until claimed. */
void arch_vcpu_flush_virqs(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;
	uint64_t take = v->pending[0] & ~v->disabled[0] & (1u << VIRQ_RV_SOFT | 1u << VIRQ_RV_VTIMER);
	if (take & 1u << VIRQ_RV_SOFT)
		a->hvip |= VSSIP;
	v->pending[0] &= ~take;
	if (!v->pending[0])
		v->pending_words &= ~1u;
	uint64_t hvip = rd(CSR_HVIP);
	wr(CSR_HVIP, (hvip & VSSIP) | a->hvip | (ext_pending(v) ? VSEIP : 0));
}

/* Loaded: the hart's pending VS interrupts the guest enabled (WFI's wake). */
bool arch_vcpu_virq_pending(const struct arch_vcpu *a)
{
	(void)a;
	return rd(CSR_HIP) & rd(CSR_HIE) & VS_IRQS;
}

/* A parked VCPU's vstimecmp passed: wake it once (it is entered with
 * VSTIP pending; parking it again re-arms this). */
static void vs_timer_irq(unsigned irq)
{
	(void)irq;
	clrb(CSR_HIE, VSTIP);
	struct vcpu *v = this_cpu()->vcpu_hw;
	if (v)
		vcpu_raise(v, VIRQ_RV_VTIMER);
}

void riscv_vcpu_init_cpu(void)
{
	csr_set(hstatus, HSTATUS_VTW);
	wr(CSR_HIE, 0);
	if (riscv_has_sstc()) {
		wr(CSR_HENVCFG, HENVCFG_STCE);
		wr(CSR_VSTIMECMP, ~0ull);
	}
	if (arch_cpu_id() == 0) {
		irq_register(RISCV_IRQ_LOCAL + 6, vs_timer_irq);
		irq_reserve(RISCV_IRQ_LOCAL + 6);
	}
}

/* --- Registers ------------------------------------------------------------ */

/* x1-x31 in struct arch_regs, which keeps them in ABI-role order
 * (arch_regs.h); NULL for x0. */
static uint64_t *gpr(struct arch_regs *r, unsigned n)
{
	static const int8_t slot[32] = { -1, 15, -2, 16, 17, 8, 9, 10, 18, 19, 0, 1, 2, 3, 4, 5,
					 6, 7, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 11, 12,
					 13, 14 };
	return slot[n & 31] == -2 ? &r->sp : slot[n & 31] < 0 ? NULL : &r->x[slot[n & 31]];
}

err_t arch_vcpu_reg_read(struct vcpu *v, uint64_t id, uint64_t *val)
{
	struct arch_regs *r = v->thread ? &v->thread->regs : NULL;
	if (id == VREG_RV_CLAIM)
		*val = ext_claim(v);
	else if (id >= VREG_FIRST_SYS && id < VREG_RV_CLAIM)
		*val = VCSR(&v->arch, id);
	else if (id > VREG_RV_MODE)
		return E_RANGE;
	else if (!r)
		return E_NOENT;
	else
		*val = id == VREG_RV_PC ? r->pc : id == VREG_RV_MODE ? r->spp != 0 :
		       id ? *gpr(r, (unsigned)id) : 0;
	return E_OK;
}

/* Any value is safe in a VS CSR (each is WARL, and VS-mode's only); the
 * mode is VS or VU, never HS. */
err_t arch_vcpu_reg_write(struct vcpu *v, uint64_t id, uint64_t val)
{
	struct arch_regs *r = v->thread ? &v->thread->regs : NULL;
	if (id >= VREG_FIRST_SYS && id < VREG_RV_CLAIM) {
		VCSR(&v->arch, id) = val;
		if (id == VREG_RV_VSTIMECMP || id == VREG_RV_HTIMEDELTA) /* a new deadline */
			v->arch.timer_due = false, v->arch.hvip &= ~VSTIP;
		return E_OK;
	}
	if (id > VREG_RV_MODE && id != VREG_RV_CLAIM)
		return E_RANGE;
	if (!r && id < VREG_FIRST_SYS)
		return E_NOENT;
	if (id == 0 || id == VREG_RV_CLAIM || (id == VREG_RV_MODE && val > 1))
		return E_INVAL;
	if (id == VREG_RV_PC)
		r->pc = val;
	else if (id == VREG_RV_MODE)
		r->spp = val ? SSTATUS_SPP : 0;
	else
		*gpr(r, (unsigned)id) = val;
	return E_OK;
}

/* --- Exits ------------------------------------------------------------- */

/* An exception for the guest, as the hart would take it into VS-mode (its
 * CSRs loaded): vsepc the pc, SPP its mode, SPIE its SIE, pc vstvec. */
static void guest_exception(struct arch_regs *r, uint64_t cause, uint64_t tval)
{
	uint64_t s = rd(CSR_VSSTATUS) & ~(SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SIE);
	if (rd(CSR_VSSTATUS) & SSTATUS_SIE)
		s |= SSTATUS_SPIE;
	wr(CSR_VSSTATUS, s | r->spp);
	wr(CSR_VSEPC, r->pc);
	wr(CSR_VSCAUSE, cause);
	wr(CSR_VSTVAL, tval);
	r->pc = rd(CSR_VSTVEC) & ~3ull;
	r->spp = SSTATUS_SPP;
}

/* Back to the guest with no exit and no lock: its space is still loaded. */
static _Noreturn void guest_return(struct arch_regs *r)
{
	uint64_t hgatp = csr_read(hgatp);
	arch_user_enter(r, pa_make((hgatp & ((1ull << 44) - 1)) << PAGE_SHIFT),
			(unsigned)(hgatp >> HGATP_VMID_SHIFT & HGATP_VMID_MASK));
}

static unsigned insn_len(uint64_t insn) { return (insn & 3) == 3 ? 4 : 2; }

/* The access a load or store makes (the standard and compressed integer
 * forms), as the access word; 0 for any other instruction. */
static uint64_t access_of(uint32_t insn)
{
	unsigned f3 = insn >> 12 & 7, size, reg, write = 0, sign = 0;
	if ((insn & 3) == 3) {
		if ((insn & 0x7f) == 0x03 && f3 != 7) {
			size = f3 & 3, reg = insn >> 7 & 31, sign = !(f3 & 4) && size != 3;
		} else if ((insn & 0x7f) == 0x23 && f3 < 4) {
			size = f3, reg = insn >> 20 & 31, write = 1;
		} else {
			return 0;
		}
	} else {
		unsigned q = insn & 3, f = insn >> 13 & 7;
		if ((q != 0 && q != 2) || (f & 3) < 2)
			return 0; /* c.lw/c.ld/c.sw/c.sd, and their sp-relative forms */
		size = f & 1 ? 3 : 2, write = f >= 6, sign = size == 2 && !write;
		if (q == 0)
			reg = 8 + (insn >> 2 & 7);
		else
			reg = write ? insn >> 2 & 31 : insn >> 7 & 31;
		if (q == 2 && !write && reg == 0)
			return 0;
	}
	return VMACC_VALID | VMACC_64 | size | (write ? VMACC_WRITE : 0) |
	       (sign ? VMACC_SIGN : 0) | (uint64_t)reg << VMACC_REG_SHIFT |
	       (insn_len(insn) == 2 ? VMACC_INSN16 : 0);
}

/* The guest's instruction at va, as it would fetch it (hlvx.hu, through
 * its own translation and the G-stage), or VMEXIT_NO_INSN. */
static uint64_t guest_insn(uint64_t va)
{
	int64_t lo = riscv_guest_fetch16(va), hi = 0;
	if (lo < 0)
		return VMEXIT_NO_INSN;
	if ((lo & 3) == 3 && (hi = riscv_guest_fetch16(va + 2)) < 0)
		return VMEXIT_NO_INSN;
	return (uint64_t)hi << 16 | (uint64_t)lo;
}

/* A guest-page fault: the guest-physical address, and the access from
 * htinst (a transformed instruction: bit 0 set, bit 1 clear for a
 * compressed one) or, where the hart leaves it 0, the instruction itself. */
static void decode_gpage(const struct arch_regs *r, uint64_t cause, uint64_t tval, uint64_t *w)
{
	uint64_t tinst = rd(CSR_HTINST), insn;
	w[0] = csr_read(htval) << 2 | (tval & 3);
	w[5] = tval;
	if (cause == EXC_INSN_GPAGE)
		return;
	if (tinst & 1)
		insn = (uint32_t)tinst | 2; /* its fields where the standard form has them */
	else
		insn = tinst ? VMEXIT_NO_INSN : guest_insn(r->pc);
	w[3] = insn == VMEXIT_NO_INSN ? 0 : access_of((uint32_t)insn);
	if ((tinst & 1) && !(tinst & 2))
		w[3] |= VMACC_INSN16;
	if (!w[3]) {
		w[3] = cause == EXC_STORE_GPAGE ? VMACC_WRITE : 0;
		w[4] = insn;
	} else if (w[3] & VMACC_WRITE) {
		unsigned reg = vmacc_reg(w[3]), bits = 8u << (w[3] & VMACC_SIZE_MASK);
		uint64_t val = reg ? *gpr((struct arch_regs *)r, reg) : 0;
		w[4] = bits == 64 ? val : val & ((1ull << bits) - 1);
	}
}

/* SBI set_timer, the kernel's (it owns the timer, as on AArch64): with Sstc
 * straight into vstimecmp, without it a kernel timer and hvip.VSTIP. */
static _Noreturn void guest_set_timer(struct thread *t, struct arch_regs *r, unsigned cpu)
{
	struct arch_vcpu *a = &t->vcpu->arch;
	uint64_t when = r->x[0];
	vcpu_count(t->vcpu, vc_label(VMEXIT_HVC));
	if (riscv_has_sstc()) {
		wr(CSR_VSTIMECMP, when);
		r->x[0] = 0; /* SBI_SUCCESS */
		r->pc += 4;
		guest_return(r);
	}
	bkl_lock();
	if (!kernel_entry_void(t, cpu)) {
		VCSR(a, VREG_RV_VSTIMECMP) = when;
		a->timer_due = false;
		a->hvip &= ~VSTIP;
		clrb(CSR_HVIP, VSTIP);
		sbi_timer_arm(a);
		r->x[0] = 0;
		r->pc += 4;
	}
	kernel_exit();
}

/* A trap from the guest of thread t (registers in r, mode noted). */
_Noreturn void riscv_guest_trap(struct thread *t, struct arch_regs *r, uint64_t cause,
				unsigned cpu)
{
	uint64_t *w = t->fault, tval = csr_read(stval); /* decoded in place (vcpu.h) */
	vmexit_clear(w);
	w[1] = r->pc;
	w[2] = cause;
	switch (cause) {
	case EXC_ECALL_VS:
		if (r->x[7] >> 16 == HC_BASE >> 16) {
			r->pc += 4;
			kernel_vcpu_hypercall(t, cpu);
		}
		if (r->x[7] == SBI_TIME ? r->x[6] == 0 : r->x[7] == 0)
			guest_set_timer(t, r, cpu);
		w[0] = r->x[7], w[3] = r->x[6], w[4] = r->x[0], w[5] = r->x[1];
		kernel_vcpu_exit(t, VMEXIT_HVC, cpu);
	case EXC_LOAD_GPAGE:
	case EXC_STORE_GPAGE:
		decode_gpage(r, cause, tval, w);
		kernel_vcpu_exit(t, VMEXIT_DATA_ABORT, cpu);
	case EXC_INSN_GPAGE:
		decode_gpage(r, cause, tval, w);
		kernel_vcpu_exit(t, VMEXIT_INSN_ABORT, cpu);
	case EXC_VIRT_INSN:
		if (tval == INSN_WFI) {
			r->pc += 4;
			riscv_irq_resync(); /* a tick QEMU lost, pending: taken */
			kernel_vcpu_wait(t, false, cpu);
		}
		w[4] = tval;
		kernel_vcpu_exit(t, VMEXIT_OTHER, cpu);
	case EXC_ILLEGAL:
		if (riscv_fp_first_use(tval))
			kernel_fp_unavailable(t);
		guest_exception(r, cause, tval); /* the guest's own, as on a hart */
		guest_return(r);
	default:
		w[4] = tval;
		kernel_vcpu_exit(t, VMEXIT_OTHER, cpu);
	}
}

/* --- Replies ----------------------------------------------------------- */

/* The exiting instruction's length: 2 for a compressed one. */
static unsigned exit_insn_len(uint64_t label, const uint64_t *exit)
{
	if (label != VMEXIT_DATA_ABORT)
		return 4;
	if (exit[3] & VMACC_VALID)
		return exit[3] & VMACC_INSN16 ? 2 : 4;
	return exit[4] == VMEXIT_NO_INSN ? 4 : insn_len(exit[4]);
}

void arch_vcpu_skip_insn(struct arch_regs *r, const uint64_t *exit)
{
	r->pc = exit[1] + exit_insn_len(VMEXIT_DATA_ABORT, exit);
}

void arch_vcpu_take_exception(struct arch_vcpu *a, struct arch_regs *r)
{
	guest_exception(r, a->exc_cause, a->exc_tval);
}

bool arch_vcpu_exit_reply(struct arch_vcpu *a, struct arch_regs *r, uint64_t label,
			  const uint64_t *exit, const uint64_t *mr, unsigned len)
{
	uint64_t flags = mr[0], acc = exit[3];
	if (flags & VMREPLY_ABORT) { /* an access fault, or an illegal instruction */
		bool abort = label == VMEXIT_DATA_ABORT || label == VMEXIT_INSN_ABORT;
		a->exc_cause = label == VMEXIT_INSN_ABORT ? EXC_INSN_ACCESS :
			       !abort ? EXC_ILLEGAL :
			       exit[2] == EXC_STORE_GPAGE ? EXC_STORE_ACCESS : EXC_LOAD_ACCESS;
		a->exc_tval = abort ? exit[5] : 0;
		return true;
	}
	if ((flags & VMREPLY_READ) && len >= 2 && label == VMEXIT_DATA_ABORT &&
	    (acc & VMACC_VALID) && !(acc & VMACC_WRITE) && vmacc_reg(acc)) {
		unsigned bits = 8u << (acc & VMACC_SIZE_MASK);
		uint64_t val = mr[1];
		if (bits < 64) {
			val &= (1ull << bits) - 1;
			if ((acc & VMACC_SIGN) && (val >> (bits - 1)))
				val |= ~0ull << bits;
		}
		*gpr(r, vmacc_reg(acc)) = val;
	}
	if ((flags & VMREPLY_REGS) && label == VMEXIT_HVC) /* SBI's error and value */
		for (unsigned i = 0; i < 2 && i + 1 < len; i++)
			r->x[i] = mr[i + 1];
	if (flags & VMREPLY_ADVANCE)
		r->pc = exit[1] + exit_insn_len(label, exit);
	return false;
}
