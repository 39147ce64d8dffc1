/* What SVM (svm.c) and VMX (vmx.c) share: the VCPU operations generic code
 * calls, forwarded to the back end this CPU has; the VCPU registers; the
 * decoding of exits into messages (MMIO instructions, ports, MSRs, CPUID:
 * docs/ABI.md, "VM exits on x86_64") and the replies to them. */
#include "arch/x86_64/hv.h"
#include "hyp/irq.h"
#include "hyp/kernel.h"
#include "hyp/kmem.h"
#include "hyp/panic.h"
#include "hyp/string.h"
#include "mm/aspace.h"
#include "mm/pt.h"

bool arch_vcpu_supported(void) { return x86_hv() != NULL; }
/* DR0-DR3 are neither the VMCB's nor the VMCS's: a guest's would be the
 * next guest's on this CPU (the host uses none), so they go with the VCPU. */
void arch_vcpu_load(struct arch_vcpu *a)
{
	x86_hv()->load(a);
	__asm__ volatile("mov %0, %%dr0; mov %1, %%dr1; mov %2, %%dr2; mov %3, %%dr3"
			 :: "r"(a->dr[0]), "r"(a->dr[1]), "r"(a->dr[2]), "r"(a->dr[3]));
}

void arch_vcpu_save(struct arch_vcpu *a)
{
	__asm__ volatile("mov %%dr0, %0; mov %%dr1, %1; mov %%dr2, %2; mov %%dr3, %3"
			 : "=r"(a->dr[0]), "=r"(a->dr[1]), "=r"(a->dr[2]), "=r"(a->dr[3]));
	x86_hv()->save(a);
}
void arch_vcpu_flush_virqs(struct vcpu *v) { x86_hv()->flush_virqs(v); }
bool arch_vcpu_virq_pending(const struct arch_vcpu *a) { (void)a; return x86_hv()->virq_pending(); }

_Noreturn void x86_vcpu_enter(struct pcpu *p, struct arch_regs *r, paddr_t root, unsigned vmid)
{
	x86_hv()->enter(p, r, root, vmid);
	__builtin_unreachable();
}

/* The physical address width the CPU checks page-table entries against
 * (CPUID 0x80000008), for x86_gva_permits. */
static unsigned phys_bits = 52;

/* A VEC_TLB taken in ring 0 after an exit: leaving the guest was the point. */
static void tlb_ipi(unsigned irq) { (void)irq; }

void x86_hv_init_cpu(void)
{
	if (!x86_hv())
		return;
	if (arch_cpu_id() == 0) {
		uint32_t id[4];
		irq_register(VEC_TLB, tlb_ipi);
		cpuid(0x80000000, 0, id);
		if (id[0] >= 0x80000008) {
			cpuid(0x80000008, 0, id);
			phys_bits = id[0] & 0xff;
		}
	}
	x86_hv()->init_cpu();
}

void x86_hv_fini_cpu(void)
{
	if (x86_hv())
		x86_hv()->fini_cpu();
}

/* Parked, the state stays in this CPU's VMCB or VMCS: native threads never
 * use it. */
void arch_vcpu_park_native(struct arch_vcpu *a) { (void)a; }
void arch_vcpu_resume(struct arch_vcpu *a) { (void)a; }
uint64_t arch_vcpu_timer_deadline(const struct arch_vcpu *a) { (void)a; return ~0ull; }
void arch_vcpu_timer_fired(struct arch_vcpu *a) { (void)a; }

/* Reset: flat 32-bit protected mode with paging off, as multiboot and
 * Linux's 32-bit boot protocol enter (the test guest starts so; a VMM may
 * set any state). */
void arch_vcpu_reset(struct arch_vcpu *a)
{
	*a = (struct arch_vcpu){ 0 };
	const uint64_t flat = 0xffffffffull << 32;
	VSYS(a, VREG_X86_CS) = flat | 0xc9bull << 16 | 0x08;
	for (unsigned n = 0; n < 6; n++)
		if (n != 1)
			VSYS(a, VREG_X86_ES + 2 * n) = flat | 0xc93ull << 16 | 0x10;
	VSYS(a, VREG_X86_GDTR) = VSYS(a, VREG_X86_IDTR) = 0xffffull << 32;
	VSYS(a, VREG_X86_LDTR) = 0x82ull << 16;
	VSYS(a, VREG_X86_TR) = 0xffffull << 32 | 0x8bull << 16;
	VSYS(a, VREG_X86_CR0) = 0x11;   /* PE, ET */
	VSYS(a, VREG_X86_DR6) = 0xffff0ff0;
	VSYS(a, VREG_X86_DR7) = 0x400;
	VSYS(a, VREG_X86_PAT) = 0x0007040600070406ull;
}

void arch_vcpu_regs_reset(struct arch_regs *r) { *r = (struct arch_regs){ .rflags = 2 }; }

/* --- Registers ------------------------------------------------------------ */

/* Hardware register numbers to ABI roles (arch_regs.h); rsp is r->sp. */
static const uint8_t role_of[16] = { 8, 12, 2, 9, 0xff, 11, 1, 0, 4, 5, 3, 13, 6, 7, 10, 14 };

uint64_t *x86_gpr(struct arch_regs *r, unsigned n)
{
	return n == 4 ? &r->sp : &r->x[role_of[n & 15]];
}

err_t arch_vcpu_reg_read(struct vcpu *v, uint64_t id, uint64_t *val)
{
	struct arch_regs *r = v->thread ? &v->thread->regs : NULL;
	if (id >= VREG_FIRST_SYS && id < VREG_X86_COUNT) {
		*val = VSYS(&v->arch, id);
		return E_OK;
	}
	if (!(id < 16 || id == VREG_PC || id == VREG_PSTATE))
		return E_RANGE;
	if (!r)
		return E_NOENT;
	*val = id < 16 ? *x86_gpr(r, (unsigned)id) : id == VREG_PC ? r->pc : r->rflags;
	return E_OK;
}

/* RFLAGS: bit 1 always set, reserved bits clear (VMRUN checks neither on
 * every CPU, so the kernel does); control registers and EFER are the
 * VMM's to get right: a state the CPU refuses is a VMEXIT_OTHER (-1). */
err_t arch_vcpu_reg_write(struct vcpu *v, uint64_t id, uint64_t val)
{
	struct arch_regs *r = v->thread ? &v->thread->regs : NULL;
	if (id >= VREG_FIRST_SYS && id < VREG_X86_COUNT) {
		VSYS(&v->arch, id) = val;
		return E_OK;
	}
	if (!(id < 16 || id == VREG_PC || id == VREG_PSTATE))
		return E_RANGE;
	if (!r)
		return E_NOENT;
	if (id < 16)
		*x86_gpr(r, (unsigned)id) = val;
	else if (id == VREG_PC)
		r->pc = val;
	else if (!(val & ~0x3f7fd7ull))
		r->rflags = val | 2;
	else
		return E_INVAL;
	return E_OK;
}

/* --- ASIDs and VPIDs ------------------------------------------------------
 * A guest's own INVLPG and CR3 writes act on the CPU it runs on, and all
 * of a VM's VCPUs share its tag here: a CPU a VCPU comes to may hold stale
 * entries of the tag (its own from an earlier run here, since fenced
 * elsewhere, or a sibling's).  The next entry flushes them unless this VCPU
 * was the last to run under the tag here and has been loaded nowhere
 * since (riscv64's tlb_sanitize; KVM gives a VCPU that changed CPU a new
 * ASID).  Another VM's VCPU in between has another tag, or x86_tag_enter
 * flushes for it.  kernel_enter has made the space's VMID current. */
extern uint64_t tlb_gen; /* uspace.c */

unsigned x86_tag_of(unsigned vmid, unsigned ntags) { return 1 + vmid % (ntags - 1); }

void x86_tag_loaded(struct x86_tags *s, struct arch_vcpu *a, unsigned ntags, unsigned cpu)
{
	unsigned tag = x86_tag_of(vcpu_of(a)->thread->as->vmid, ntags);
	if (s->vcpu[tag] != a || a->loaded_on != cpu + 1)
		s->flush_next = true;
	s->vcpu[tag] = a;
	a->loaded_on = cpu + 1;
}

/* Whether the entry into space (root, vmid) must flush every tag of this
 * CPU: the tag held another space, or a shootdown happened since guests
 * last ran here, or x86_tag_loaded asked. */
bool x86_tag_enter(struct x86_tags *s, uint64_t root, unsigned vmid, unsigned ntags)
{
	unsigned tag = x86_tag_of(vmid, ntags);
	bool flush = s->flush_next;
	uint64_t gen = __atomic_load_n(&tlb_gen, __ATOMIC_SEQ_CST);
	s->flush_next = false;
	if (gen != s->tlb_seen || s->root[tag] != root || s->vmid[tag] != vmid) {
		s->tlb_seen = gen;
		s->root[tag] = root;
		s->vmid[tag] = (uint16_t)vmid;
		flush = true;
	}
	return flush;
}

/* --- Exits ---------------------------------------------------------------- */

/* A physical interrupt (or NMI, SMI, INIT, a VEC_TLB) made the guest exit:
 * it is still pending; take it here, in ring 0, with the lock held, as
 * the idle loop does, and choose again. */
_Noreturn void x86_exit_interrupt(struct thread *t)
{
	vcpu_count(t->vcpu, VC_IRQ);
	bkl_lock();
	__asm__ volatile("sti; nop; cli" ::: "memory");
	kernel_exit();
}

/* Guest physical to the kernel's view of it, through the guest's space;
 * RAM only (an MMIO page yields nothing). */
const uint8_t *x86_gpa_ptr(struct thread *t, uint64_t gpa)
{
	paddr_t pa;
	pte_t leaf;
	if (gpa >> USER_VA_BITS || !pt_lookup(&t->as->pt, gpa, &pa, &leaf) || !kmem_is_ram(pa))
		return NULL;
	return kmem_va(pa);
}

/* The guest's linear address va to guest physical, through its own page
 * tables: paging off, or 4-level long-mode paging (the forms guests that
 * exit on MMIO use); others give up. */
static bool gva_to_gpa(struct thread *t, const struct x86_gview *g, uint64_t va, uint64_t *gpa)
{
	if (!(g->cr0 & CR0_PG)) {
		*gpa = va & 0xffffffffull;
		return true;
	}
	if (!(g->efer & EFER_LMA) || (g->cr4 & (1ull << 12))) /* not LMA, or LA57 */
		return false;
	uint64_t table = g->cr3 & 0x000ffffffffff000ull;
	for (int level = 3; level >= 0; level--) {
		const uint8_t *p = x86_gpa_ptr(t, table + ((va >> (12 + 9 * level)) & 511) * 8);
		if (!p)
			return false;
		uint64_t e = *(const volatile uint64_t *)p;
		if (!(e & 1))
			return false;
		if (level == 0 || ((e & 0x80) && level <= 2)) {
			uint64_t mask = (1ull << (12 + 9 * level)) - 1;
			*gpa = ((e & 0x000ffffffffff000ull) & ~mask) | (va & mask);
			return true;
		}
		table = e & 0x000ffffffffff000ull;
	}
	return false;
}

/* Whether the guest's own tables, walked now through its nested ones,
 * allow the supervisor access a page fault's error code describes: every
 * level present and free of reserved bits, writable for a write (CR0.WP),
 * executable for a fetch (EFER.NXE).  4-level long mode without SMEP,
 * SMAP or PKS only (else false: the fault stands).  The caller holds the
 * lock.  svm.c's exit_pf: a fault these tables do not explain was not the
 * guest's page tables' doing. */
bool x86_gva_permits(struct thread *t, const struct x86_gview *g, uint64_t va, uint64_t err)
{
	const uint64_t addr = 0x000ffffffffff000ull, refuse = CR4_LA57 | CR4_SMEP | CR4_SMAP | CR4_PKS;
	if (!(g->cr0 & CR0_PG) || !(g->efer & EFER_LMA) || (g->cr4 & refuse) || (err & PF_USER) ||
	    !canonical(va))
		return false;
	uint64_t rsvd = (~0ull << phys_bits & ((1ull << 52) - 1)) |
			(g->efer & EFER_NXE ? 0 : 1ull << 63);
	uint64_t table = g->cr3 & addr, rw = 2, nx = 0;
	for (int level = 3; level >= 0; level--) {
		const uint8_t *p = x86_gpa_ptr(t, table + ((va >> (12 + 9 * level)) & 511) * 8);
		if (!p)
			return false;
		uint64_t e = *(const volatile uint64_t *)p;
		bool leaf = level == 0 || (level < 3 && (e & 0x80));
		uint64_t bad = rsvd | (level == 3 ? 0x80 : 0) |     /* PS in a PML4E */
			       (leaf && level ? ((1ull << (12 + 9 * level)) - 1) & ~0x1fffull : 0);
		if (!(e & 1) || (e & bad))
			return false;
		rw &= e;
		nx |= e;
		if (leaf)
			break;
		table = e & addr;
	}
	if ((err & PF_WRITE) && !rw && (g->cr0 & CR0_WP))
		return false;
	return !((err & PF_FETCH) && (nx >> 63) && (g->efer & EFER_NXE));
}

/* Up to 15 bytes of the instruction at the guest's rip, page by page
 * (a guest page and the host page behind it share their 4 KiB bounds),
 * under the big lock: another CPU may otherwise unmap and free the
 * tables walked (an exit leaves the CPU's ustate even: shootdowns do
 * not wait for it). */
unsigned x86_fetch_insn(struct thread *t, const struct x86_gview *g, uint8_t *buf)
{
	assert(__atomic_load_n(&bkl.held, __ATOMIC_RELAXED)); /* by this CPU, every caller */
	uint64_t va = g->cs_base + t->regs.pc;
	unsigned n = 0;
	while (n < 15) {
		uint64_t gpa;
		const uint8_t *p;
		if (!gva_to_gpa(t, g, va + n, &gpa) || !(p = x86_gpa_ptr(t, gpa)))
			break;
		for (unsigned room = PAGE_SIZE - ((va + n) & 0xfff); room && n < 15; room--)
			buf[n++] = *p++;
	}
	return n;
}
/* The MOV forms guests use for MMIO, in 32- or 64-bit code: 88/89/8a/8b
 * (register), c6/c7 (immediate), 0f b6/b7/be/bf (zero and sign extending
 * loads), with operand-size, segment and REX prefixes.  Fills the access
 * word (MR3), the value written (MR4) and the length (MR5); false leaves
 * the access undecoded. */
static bool decode_mov(struct arch_regs *r, const uint8_t *b, unsigned n, bool long_mode,
		       uint64_t *w)
{
	unsigned i = 0, rex = 0, size = 2;
	bool opsize = false;
	for (; i < n; i++) {
		uint8_t c = b[i];
		if (c == 0x66)
			opsize = true;
		else if (c == 0x2e || c == 0x36 || c == 0x3e || c == 0x26 || c == 0x64 || c == 0x65)
			continue;
		else
			break;
	}
	if (long_mode && i < n && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i + 2 > n)
		return false;
	unsigned op = b[i++];
	if (op == 0x0f)
		op = 0x100 | b[i++];
	if (i >= n)
		return false;
	bool wide = rex & 8;
	size = wide ? 3 : opsize ? 1 : 2;
	uint64_t acc = VMACC_VALID;
	switch (op) {
	case 0x88: case 0x8a: case 0xc6: size = 0; break;
	case 0x89: case 0x8b: case 0xc7: break;
	case 0x1b6: case 0x1be: acc |= op == 0x1be ? VMACC_SIGN : 0; size = 0; break;
	case 0x1b7: case 0x1bf: acc |= op == 0x1bf ? VMACC_SIGN : 0; size = 1; break;
	default: return false;
	}
	uint8_t modrm = b[i++];
	unsigned mod = modrm >> 6, reg = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0), rm = modrm & 7;
	if (mod == 3)
		return false;
	if (rm == 4) { /* SIB: a disp32 with base 5 and mod 0 */
		if (i >= n)
			return false;
		if (mod == 0 && (b[i] & 7) == 5)
			i += 4;
		i++;
	} else if (mod == 0 && rm == 5) {
		i += 4;
	}
	i += mod == 1 ? 1 : mod == 2 ? 4 : 0;
	bool store = op == 0x88 || op == 0x89 || op == 0xc6 || op == 0xc7;
	bool high8 = size == 0 && !rex && reg >= 4 && reg < 8 && (op == 0x88 || op == 0x8a);
	uint64_t val = 0;
	if (op == 0xc6 || op == 0xc7) {
		if ((modrm >> 3 & 7) != 0)
			return false;
		unsigned imm = size == 0 ? 1 : size == 1 ? 2 : 4;
		if (i + imm > n)
			return false;
		for (unsigned k = 0; k < imm; k++)
			val |= (uint64_t)b[i + k] << (8 * k);
		if (size == 3 && (val >> 31)) /* imm32 sign-extended */
			val |= 0xffffffff00000000ull;
		i += imm;
		reg = 31;
	} else if (store) {
		val = high8 ? *x86_gpr(r, reg - 4) >> 8 : *x86_gpr(r, reg);
	} else if (high8) {
		return false; /* loads into AH-BH: not a form MMIO code uses */
	}
	if (i > n)
		return false;
	if (size < 3)
		val &= (1ull << (8u << size)) - 1;
	if (store)
		acc |= VMACC_WRITE;
	else if (op < 0x100 && size < 2)
		acc |= VMACC_MERGE;
	else if (op >= 0x100 ? wide : size == 3)
		acc |= VMACC_64;
	w[3] = acc | size | (uint64_t)(store && op >= 0xc6 ? 31 : reg) << VMACC_REG_SHIFT;
	w[4] = store ? val : 0;
	w[5] = i;
	return true;
}

/* A second-level fault: MMIO (a data access, decoded) or an instruction
 * fetch. */
_Noreturn void x86_exit_npf(struct thread *t, const struct x86_gview *g, uint64_t gpa,
			    uint64_t err, unsigned cpu)
{
	uint64_t *w = t->fault;
	w[0] = gpa;
	if (err & (1u << 4)) {
		w[3] = err;
		x86_exit_fast(t, VMEXIT_INSN_ABORT, cpu);
	}
	uint8_t b[15];
	bkl_lock(); /* the guest's tables stay put while they are walked */
	unsigned n = x86_fetch_insn(t, g, b);
	bkl_unlock();
	bool lm = g->cs_attr & (1u << 9), d32 = g->cs_attr & (1u << 10); /* CS.L, CS.D */
	if ((err & (1ull << 33)) || !(lm || d32) || !decode_mov(&t->regs, b, n, lm, w)) {
		w[3] = err & 2 ? VMACC_WRITE : 0; /* undecoded: the first 8 bytes */
		w[4] = VMEXIT_NO_INSN;
		if (n >= 8)
			memcpy(&w[4], b, 8);
		w[5] = 0;
	}
	x86_exit_fast(t, VMEXIT_DATA_ABORT, cpu);
}

/* IN and OUT, decoded by the CPU (size 0, 1, 2: 1, 2, 4 bytes); INS and
 * OUTS are left to the VMM, undecoded. */
_Noreturn void x86_exit_io(struct thread *t, unsigned port, unsigned size, bool in,
			   bool string, unsigned len, unsigned cpu)
{
	uint64_t *w = t->fault;
	w[0] = VMEXIT_IO_PORT | port;
	w[5] = len;
	if (string) {
		w[3] = in ? 0 : VMACC_WRITE;
		w[4] = VMEXIT_NO_INSN;
	} else {
		w[3] = VMACC_VALID | size | (in ? (size < 2 ? VMACC_MERGE : 0) : VMACC_WRITE);
		w[4] = in ? 0 : t->regs.x[8] & ((1ull << (8u << size)) - 1);
	}
	x86_exit_fast(t, VMEXIT_DATA_ABORT, cpu);
}

_Noreturn void x86_exit_msr(struct thread *t, bool wr, unsigned cpu)
{
	struct arch_regs *r = &t->regs;
	uint64_t *w = t->fault;
	w[0] = r->x[12] & 0xffffffffull;
	w[3] = VMACC_VALID | VMACC_64 | 3 | (wr ? VMACC_WRITE : 0);
	w[4] = wr ? (r->x[2] & 0xffffffffull) << 32 | (r->x[8] & 0xffffffffull) : 0;
	w[5] = 2;
	x86_exit_fast(t, VMEXIT_SYSREG, cpu);
}

/* VMMCALL (or VMCALL): Cairn's hypercall with rax in its range, else the
 * VMM's. */
_Noreturn void x86_exit_hypercall(struct thread *t, unsigned cpu)
{
	struct arch_regs *r = &t->regs;
	uint64_t *w = t->fault;
	if ((r->x[8] >> 16) == (HC_BASE >> 16)) {
		r->pc += HC_INSN_BYTES;
		kernel_vcpu_hypercall(t, cpu);
	}
	w[0] = r->x[8], w[3] = r->x[9], w[4] = r->x[12], w[5] = r->x[2];
	x86_exit_fast(t, VMEXIT_HVC, cpu);
}

_Noreturn void x86_exit_cpuid(struct thread *t, unsigned cpu)
{
	struct arch_regs *r = &t->regs;
	uint64_t *w = t->fault;
	w[0] = VMEXIT_CPUID | (r->x[8] & 0xffffffffull);
	w[3] = VMACC_VALID | VMACC_64 | 3;
	w[4] = r->x[12] & 0xffffffffull;
	w[5] = 2;
	x86_exit_fast(t, VMEXIT_SYSREG, cpu);
}

/* Fixed-length instructions whose exits go to the VMM: the length a reply's
 * VMREPLY_ADVANCE steps over (0: the VMM must set rip itself). */
unsigned x86_other_len(uint64_t code)
{
	if (code == 0x6f || code == 0x76 || code == 0x89) /* RDPMC, INVD, WBINVD */
		return 2;
	if ((code >= 0x80 && code <= 0x87) || code == 0x8a || code == 0x8b || code == 0x8d)
		return 3; /* SVM instructions, RDTSCP, MONITOR, MWAIT, XSETBV */
	return 0;
}

/* --- Replies -------------------------------------------------------------- */

/* The length of the exiting instruction, from its message. */
static unsigned exit_len(uint64_t label, const uint64_t *exit)
{
	if (label == VMEXIT_HVC)
		return 3;
	if (label == VMEXIT_OTHER)
		return x86_other_len(exit[2]);
	return (unsigned)exit[5];
}

static void write_read_value(struct arch_regs *r, uint64_t acc, uint64_t val)
{
	unsigned bits = 8u << (acc & VMACC_SIZE_MASK), reg = vmacc_reg(acc);
	uint64_t mask = bits < 64 ? (1ull << bits) - 1 : ~0ull;
	if (reg >= 16)
		return;
	uint64_t *dst = x86_gpr(r, reg);
	val &= mask;
	if ((acc & VMACC_SIGN) && bits < 64 && (val >> (bits - 1)))
		val |= ~mask;
	if (acc & VMACC_MERGE)
		*dst = (*dst & ~mask) | val;
	else
		*dst = acc & VMACC_64 ? val : val & 0xffffffffull;
}

void arch_vcpu_skip_insn(struct arch_regs *r, const uint64_t *exit)
{
	r->pc = exit[1] + exit[5];
}

/* VMREPLY_ABORT: #GP(0) for an access nothing answers, #UD for the rest,
 * delivered when the VCPU is next loaded. */
void arch_vcpu_take_exception(struct arch_vcpu *a, struct arch_regs *r)
{
	(void)r;
	x86_hv()->set_event(a->exc);
}
bool arch_vcpu_exit_reply(struct arch_vcpu *a, struct arch_regs *r, uint64_t label,
			  const uint64_t *exit, const uint64_t *mr, unsigned len)
{
	uint64_t flags = mr[0];
	if (flags & VMREPLY_ABORT) {
		bool access = label == VMEXIT_DATA_ABORT || label == VMEXIT_INSN_ABORT ||
			      label == VMEXIT_SYSREG;
		a->exc = EVENT_VALID | EVENT_EXC | (access ? EVENT_ERR | 13 : 6);
		r->pc = exit[1];
		return true;
	}
	if ((flags & VMREPLY_READ) && len >= 2 && (exit[3] & VMACC_VALID) &&
	    !(exit[3] & VMACC_WRITE)) {
		if (label == VMEXIT_SYSREG && !(exit[0] & VMEXIT_CPUID)) { /* rdmsr */
			r->x[8] = mr[1] & 0xffffffffull;
			r->x[2] = mr[1] >> 32;
		} else if (label == VMEXIT_DATA_ABORT || label == VMEXIT_SYSREG) {
			write_read_value(r, exit[3], mr[1]);
		}
	}
	bool cpuid = label == VMEXIT_SYSREG && (exit[0] & VMEXIT_CPUID);
	if ((flags & VMREPLY_REGS) && (label == VMEXIT_HVC || cpuid)) { /* the four it names */
		static const uint8_t abcd[4] = { 0, 3, 1, 2 }; /* rax rbx rcx rdx */
		for (unsigned i = 0; i < 4 && i + 1 < len; i++)
			*x86_gpr(r, abcd[i]) = mr[i + 1];
	}
	if (flags & VMREPLY_ADVANCE)
		r->pc = exit[1] + exit_len(label, exit);
	return false;
}
