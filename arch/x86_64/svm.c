/* VCPUs on AMD SVM: guests under VMRUN with nested paging, their state in
 * a per-CPU VMCB, and their exits decoded into messages
 * (include/cairn/vcpu.h, docs/ARCHITECTURE.md "VCPUs on x86_64").
 *
 * Each CPU has one VMCB.  A VCPU's state is loaded into it (arch_vcpu_load)
 * and stays there while the VCPU is parked, since native threads never
 * touch it; it goes back to memory only when another VCPU is loaded here
 * or another CPU needs it (vcpu/vcpu.c).  The guest's general registers
 * are its thread's struct arch_regs, and VMRUN's own four (rax, rsp, rip,
 * rflags) are copied between the two on every entry and exit.
 *
 * The guest's physical space is its thread's address space: the native
 * format (uspace.c) is the long-mode format NPT walks, with U/S set on
 * every entry as NPT requires, so nCR3 is the space's root.  ASIDs tag it:
 * a CPU has few (QEMU: 16), so each CPU remembers which space each of its
 * ASIDs last held and flushes when that changes, and when a shootdown's
 * generation has moved since its last entry (the guest counts as ring 3
 * for shootdowns: ustate is odd while it runs). */
#include "arch/x86_64/x86.h"
#include "hyp/arch.h"
#include "hyp/irq.h"
#include "hyp/kernel.h"
#include "hyp/kmem.h"
#include "hyp/panic.h"
#include "hyp/printk.h"
#include "hyp/string.h"
#include "mm/aspace.h"
#include "mm/pt.h"
#include "vcpu/vcpu.h"

/* VMCB offsets (AMD APM vol. 2, appendix B). */
enum {
	C_INTERCEPT_CR = 0x000, C_INTERCEPT_EXC = 0x008, C_INTERCEPT3 = 0x00c,
	C_INTERCEPT4 = 0x010, C_IOPM = 0x040, C_MSRPM = 0x048, C_TSC_OFFSET = 0x050,
	C_ASID = 0x058, C_TLB_CTL = 0x05c, C_INT_CTL = 0x060, C_SHADOW = 0x068,
	C_EXITCODE = 0x070, C_EXITINFO1 = 0x078, C_EXITINFO2 = 0x080,
	C_EXITINTINFO = 0x088, C_NP_ENABLE = 0x090, C_EVENTINJ = 0x0a8, C_NCR3 = 0x0b0,
	C_CLEAN = 0x0c0,
	S_ES = 0x400, S_GDTR = 0x460, S_LDTR = 0x470, S_IDTR = 0x480, S_TR = 0x490,
	S_CPL = 0x4cb, S_EFER = 0x4d0, S_CR4 = 0x548, S_CR3 = 0x550, S_CR0 = 0x558,
	S_DR7 = 0x560, S_DR6 = 0x568, S_RFLAGS = 0x570, S_RIP = 0x578, S_RSP = 0x5d8,
	S_RAX = 0x5f8, S_STAR = 0x600, S_CR2 = 0x640, S_PAT = 0x668,
};
#define F64(vm, off) (*(volatile uint64_t *)((uint8_t *)(vm) + (off)))
#define F32(vm, off) (*(volatile uint32_t *)((uint8_t *)(vm) + (off)))

/* Intercepts: physical interrupts, NMI, SMI, INIT, CPUID, INVD, PAUSE, HLT,
 * I/O, MSRs, task switches, shutdown (vector 3); every SVM instruction,
 * monitor/mwait and XSETBV (vector 4: XCR0 is the host's, for XSAVE of
 * the guest's thread). */
#define I3_INTR (1u << 0)
#define I3_VINTR (1u << 4)
#define I3_GUEST (I3_INTR | 1u << 1 | 1u << 2 | 1u << 3 | 1u << 18 | 1u << 22 | 1u << 23 | \
		  1u << 24 | 1u << 26 | 1u << 27 | 1u << 28 | 1u << 29 | 1u << 31)
#define I4_GUEST 0x3fffu
/* #DB and #AC: a guest could loop the CPU in their delivery (CVE-2015-5307,
 * -8104); they come to the VMM instead. */
#define EXC_GUEST (1u << 1 | 1u << 17)
#define INT_CTL_VIRQ (1ull << 8)
#define INT_CTL_IGN_TPR (1ull << 20)
#define INT_CTL_MASKING (1ull << 24)   /* the guest's IF masks only virtual ones */
#define EVENT_VALID (1ull << 31)
#define EVENT_ERR (1ull << 11)
#define EVENT_EXC (3ull << 8)

enum {
	X_INTR = 0x60, X_NMI, X_SMI, X_INIT, X_VINTR, X_CPUID = 0x72, X_PAUSE = 0x77, X_HLT = 0x78,
	X_IOIO = 0x7b, X_MSR = 0x7c, X_VMMCALL = 0x81, X_NPF = 0x400,
};
#define MSR_VM_HSAVE_PA 0xc0010117
#define EFER_GUEST_BITS 0xd01ull   /* SCE, LME, LMA, NXE */
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR0_TS (1ull << 3)

struct svm_cpu {
	void *vmcb, *hsave, *host;  /* the guests' VMCB, VMRUN's host area, VMSAVE's */
	uint64_t vmcb_pa, host_pa;
	uint64_t tlb_seen;           /* the shootdown generation guests here saw */
	uint64_t asid_root[64];      /* which space each ASID last held here */
	uint16_t asid_vmid[64];
	const struct arch_vcpu *asid_vcpu[64]; /* the VCPU each ASID last ran here */
	bool flush_next;             /* the next VMRUN flushes this CPU's ASIDs */
};
static struct svm_cpu svm_cpus[MAX_CPUS];
static void *iopm, *msrpm;
static unsigned nasid;
extern uint64_t tlb_gen; /* uspace.c */

_Noreturn void x86_svm_run(struct arch_regs *r, uint64_t vmcb_pa, uint64_t host_pa);

bool arch_vcpu_supported(void) { return x86_svm_usable(); }

static inline uint64_t pa_of(const void *va) { return (uintptr_t)va - DIRECT_MAP; }
static struct svm_cpu *svm_this(void) { return &svm_cpus[arch_cpu_id()]; }

/* VMRUN's consistency checks (AMD APM vol. 2, 15.5.1), made here first:
 * the kernel answers a state they refuse with VMEXIT_INVALID itself, since
 * emulators get their own failure path wrong (QEMU 7.2's TCG left the
 * host in the guest's CR0).  CR4 may hold only what this CPU has. */
static uint64_t cr4_allowed;

static void cr4_allowed_init(void)
{
	uint32_t one[4], seven[4];
	cpuid(1, 0, one);
	cpuid(7, 0, seven);
	cr4_allowed = 0x7ff | (one[2] & (1u << 17) ? 1u << 17 : 0) |      /* PCIDE */
		      (one[2] & (1u << 26) ? 1u << 18 : 0) |                 /* OSXSAVE */
		      (seven[1] & 1 ? 1u << 16 : 0) |                        /* FSGSBASE */
		      (seven[1] & (1u << 7) ? 1u << 20 : 0) |                /* SMEP */
		      (seven[1] & (1u << 20) ? 1u << 21 : 0) |               /* SMAP */
		      (seven[2] & (1u << 2) ? 1u << 11 : 0);                 /* UMIP */
}

static bool pat_ok(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned t = (pat >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static bool canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

/* Segment and table bases canonical, and below 4 GiB for ES, CS, SS and DS
 * outside 64-bit code (the hardware ignores their upper halves there;
 * QEMU's TCG used them, and lost the host's state at the next exit); the
 * address MSRs and rip canonical. */
static bool bases_ok(const void *vm, bool code64)
{
	for (unsigned n = 0; n < 10; n++) {
		uint64_t base = F64(vm, S_ES + 16 * n + 8);
		if (!canonical(base) || (!code64 && n < 4 && (base >> 32)))
			return false;
	}
	/* LSTAR, CSTAR, the kernel GS base, SYSENTER_ESP and _EIP: VMLOAD
	 * puts them in the CPU, where WRMSR would have refused them */
	static const uint8_t msrs[] = { 8, 16, 32, 48, 56 };
	for (unsigned i = 0; i < sizeof msrs; i++)
		if (!canonical(F64(vm, S_STAR + msrs[i])))
			return false;
	return canonical(F64(vm, S_RIP));
}

static bool vmcb_valid(const void *vm)
{
	uint64_t cr0 = F64(vm, S_CR0), cr4 = F64(vm, S_CR4), efer = F64(vm, S_EFER);
	bool paging = (efer & (1ull << 8)) && (cr0 & (1ull << 31));
	uint64_t cs_attr = F64(vm, S_ES + 0x10) >> 16;
	if ((cr0 >> 32) || ((cr0 & (1ull << 29)) && !(cr0 & (1ull << 30))) ||
	    ((cr0 & (1ull << 31)) && !(cr0 & 1)) || (F64(vm, S_CR3) >> 52) ||
	    (cr4 & ~cr4_allowed) || (F64(vm, S_DR6) >> 32) || (F64(vm, S_DR7) >> 32) ||
	    !pat_ok(F64(vm, S_PAT)))
		return false;
	if (paging && (!(cr4 & (1ull << 5)) || ((cs_attr & (1u << 9)) && (cs_attr & (1u << 10)))))
		return false;
	return bases_ok(vm, paging && (cs_attr & (1u << 9)));
}

/* MSRs VMLOAD and VMSAVE switch reach the guest directly (two bits each:
 * read, write), as do its FS and GS bases; every other MSR exits. */
static void msr_pass(uint32_t msr)
{
	unsigned base = msr >= 0xc0000000u ? 0x800 : 0;
	unsigned bit = (msr & 0x1fff) * 2;
	((uint8_t *)msrpm)[base + bit / 8] &= (uint8_t)~(3u << (bit % 8));
}

/* Once, on the boot CPU: the I/O and MSR permission maps (every port and
 * MSR intercepted but the ones above), and the ASIDs the CPU has. */
static bool svm_init_global(void)
{
	if (!(iopm = kmem_alloc_pages(2)) || !(msrpm = kmem_alloc_pages(1)))
		return false;
	memset(iopm, 0xff, 4 * PAGE_SIZE);
	memset(msrpm, 0xff, 2 * PAGE_SIZE);
	static const uint32_t pass[] = { 0x174, 0x175, 0x176, 0xc0000081, 0xc0000082,
					 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101,
					 0xc0000102 };
	for (unsigned i = 0; i < sizeof pass / sizeof pass[0]; i++)
		msr_pass(pass[i]);
	cr4_allowed_init();
	uint32_t id[4];
	cpuid(0x8000000a, 0, id);
	nasid = id[1] < 64 ? id[1] : 64;
	return nasid >= 2;
}

/* A VEC_TLB taken in ring 0 after an exit: leaving the guest was the point. */
static void tlb_ipi(unsigned irq) { (void)irq; }

/* Per CPU (arch_user_init_cpu): SVME, the host save area, this CPU's VMCB
 * and its host state for VMLOAD after every exit (its GS base, TR, the
 * syscall MSRs: constant once this CPU is set up). */
void x86_svm_init_cpu(void)
{
	if (!x86_svm_usable())
		return;
	struct svm_cpu *s = svm_this();
	if (arch_cpu_id() == 0) {
		if (!svm_init_global())
			panic("svm: no memory for the permission maps");
		irq_register(VEC_TLB, tlb_ipi);
	}
	if (!s->vmcb) { /* not again when the CPU comes back on line (hotplug) */
		s->vmcb = kmem_alloc_pages(0);
		s->hsave = kmem_alloc_pages(0);
		s->host = kmem_alloc_pages(0);
	}
	if (!s->vmcb || !s->hsave || !s->host)
		panic("svm: no memory for a VMCB");
	s->vmcb_pa = pa_of(s->vmcb);
	s->host_pa = pa_of(s->host);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, pa_of(s->hsave));
	__asm__ volatile("vmsave %%rax" :: "a"(s->host_pa) : "memory");
	if (arch_cpu_id() == 0)
		printk("svm: %u ASIDs, VMCB per CPU, exits decoded without NRIPS\n", nasid);
}

/* --- State: the VMCB and struct arch_vcpu -------------------------------- */

/* A segment's ids (VREG_X86_ES + 2n: packed, +1: base) and its VMCB slot. */
static void seg_load(void *vm, unsigned n, const struct arch_vcpu *a)
{
	uint64_t p = VSYS(a, VREG_X86_ES + 2 * n);
	uint8_t *f = (uint8_t *)vm + S_ES + 16 * n;
	*(volatile uint16_t *)f = (uint16_t)p;
	*(volatile uint16_t *)(f + 2) = (uint16_t)(p >> 16) & 0xfff;
	*(volatile uint32_t *)(f + 4) = (uint32_t)(p >> 32);
	*(volatile uint64_t *)(f + 8) = VSYS(a, VREG_X86_ES + 2 * n + 1);
}

static void seg_save(const void *vm, unsigned n, struct arch_vcpu *a)
{
	const uint8_t *f = (const uint8_t *)vm + S_ES + 16 * n;
	VSYS(a, VREG_X86_ES + 2 * n) = *(const volatile uint16_t *)f |
		(uint64_t)*(const volatile uint16_t *)(f + 2) << 16 |
		(uint64_t)*(const volatile uint32_t *)(f + 4) << 32;
	VSYS(a, VREG_X86_ES + 2 * n + 1) = *(const volatile uint64_t *)(f + 8);
}

/* The single registers: (id, VMCB offset). */
#define SINGLE(X) X(VREG_X86_CR0, S_CR0) X(VREG_X86_CR2, S_CR2) X(VREG_X86_CR3, S_CR3) \
	X(VREG_X86_CR4, S_CR4) X(VREG_X86_DR6, S_DR6) X(VREG_X86_DR7, S_DR7)              \
	X(VREG_X86_PAT, S_PAT) X(VREG_X86_STAR, S_STAR) X(VREG_X86_LSTAR, S_STAR + 8)     \
	X(VREG_X86_CSTAR, S_STAR + 16) X(VREG_X86_SFMASK, S_STAR + 24)                    \
	X(VREG_X86_KGSBASE, S_STAR + 32) X(VREG_X86_SYSENTER_CS, S_STAR + 40)             \
	X(VREG_X86_SYSENTER_ESP, S_STAR + 48) X(VREG_X86_SYSENTER_EIP, S_STAR + 56)     \
	X(VREG_X86_TSC_OFFSET, C_TSC_OFFSET)
#define LOAD(id, off) F64(vm, off) = VSYS(a, id);
#define SAVE(id, off) VSYS(a, id) = F64(vm, off);

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

/* The fixed part of the VMCB: intercepts, maps, nested paging. */
static void control_load(void *vm)
{
	F32(vm, C_INTERCEPT_CR) = 0;
	F32(vm, C_INTERCEPT_EXC) = EXC_GUEST;
	F32(vm, C_INTERCEPT3) = I3_GUEST;
	F32(vm, C_INTERCEPT4) = I4_GUEST;
	F64(vm, C_IOPM) = pa_of(iopm);
	F64(vm, C_MSRPM) = pa_of(msrpm);
	F64(vm, C_NP_ENABLE) = 1;
	F32(vm, C_CLEAN) = 0;
}

/* The EFER a guest runs with: its SCE, LME and NXE, SVME (VMRUN wants it),
 * and LMA as the CPU would set it (LME and paging), never as a VMM or the
 * guest wrote it: QEMU's TCG took an LMA without paging and lost the host's
 * state at the next exit.  LME is held back (*held) while paging and PAE
 * are both off, where it changes nothing yet: QEMU 7.2 restores the host's
 * CR0 before its CR4 at #VMEXIT, and a paged CR0 over the guest's EFER.LME
 * and CR4 without PAE is a long-mode entry it refuses silently, leaving the
 * host on the guest's CR0 (vm-x86-bad-state hung so, about once in seven
 * runs beside CPU hogs).  The guest and its VMM still see LME (efer_seen).
 * CR0 and CR4 writes do not exit, so a guest that sets PAE and paging
 * with LME held enters PAE paging, not long mode (the architectural order
 * is PAE, then LME), and one that clears PAE itself, paging off and LME
 * on, still meets QEMU's problem. */
static uint64_t efer_guest(uint64_t efer, uint64_t cr0, uint64_t cr4, bool *held)
{
	efer &= EFER_GUEST_BITS & ~EFER_LMA;
	*held = (efer & EFER_LME) && !(cr0 & CR0_PG) && !(cr4 & CR4_PAE);
	if (*held)
		efer &= ~EFER_LME;
	if ((efer & EFER_LME) && (cr0 & CR0_PG))
		efer |= EFER_LMA;
	return efer | EFER_SVME;
}

/* The guest's EFER as it wrote it (LME even where efer_guest held it). */
static uint64_t efer_seen(const struct arch_vcpu *a, const void *vm)
{
	return (F64(vm, S_EFER) & ~EFER_SVME) | (a->lme_held ? EFER_LME : 0);
}

static unsigned asid_of(unsigned vmid) { return 1 + vmid % (nasid - 1); }

/* A guest's own INVLPG and CR3 writes act on the CPU it runs on, and all
 * of a VM's VCPUs share its ASID here: a CPU a VCPU comes to may hold stale
 * entries of the ASID (its own from an earlier run here, since fenced
 * elsewhere, or a sibling's).  The next VMRUN flushes them unless this VCPU
 * was the last to run under the ASID here and has been loaded nowhere
 * since (riscv64's tlb_sanitize; KVM gives a VCPU that changed CPU a new
 * ASID).  Another VM's VCPU in between has another ASID, or asid_set
 * flushes for it.  kernel_enter has made the space's VMID current. */
static void tlb_sanitize(struct svm_cpu *s, struct arch_vcpu *a, unsigned cpu)
{
	unsigned asid = asid_of(vcpu_of(a)->thread->as->vmid);
	if (s->asid_vcpu[asid] != a || a->loaded_on != cpu + 1)
		s->flush_next = true;
	s->asid_vcpu[asid] = a;
	a->loaded_on = cpu + 1;
}

void arch_vcpu_load(struct arch_vcpu *a)
{
	struct svm_cpu *s = svm_this();
	void *vm = s->vmcb;
	tlb_sanitize(s, a, arch_cpu_id());
	memset(vm, 0, PAGE_SIZE);
	control_load(vm);
	for (unsigned n = 0; n < 10; n++)
		seg_load(vm, n, a);
	SINGLE(LOAD)
	F64(vm, S_EFER) = efer_guest(VSYS(a, VREG_X86_EFER), VSYS(a, VREG_X86_CR0),
				     VSYS(a, VREG_X86_CR4), &a->lme_held);
	F64(vm, C_EVENTINJ) = a->eventinj;
	F64(vm, C_SHADOW) = a->shadow;
	F64(vm, C_INT_CTL) = a->int_ctl | INT_CTL_MASKING;
	if (a->int_ctl & INT_CTL_VIRQ)
		F32(vm, C_INTERCEPT3) |= I3_VINTR;
}

void arch_vcpu_save(struct arch_vcpu *a)
{
	void *vm = svm_this()->vmcb;
	for (unsigned n = 0; n < 10; n++)
		seg_save(vm, n, a);
	SINGLE(SAVE)
	VSYS(a, VREG_X86_EFER) = efer_seen(a, vm);
	a->eventinj = F64(vm, C_EVENTINJ);
	a->shadow = F64(vm, C_SHADOW) & 1;
	a->int_ctl = F64(vm, C_INT_CTL) & (INT_CTL_VIRQ | INT_CTL_IGN_TPR | 0xf0000ull);
}

/* Parked, the state stays in this CPU's VMCB: native threads never use it. */
void arch_vcpu_park_native(struct arch_vcpu *a) { (void)a; }
void arch_vcpu_resume(struct arch_vcpu *a) { (void)a; }
uint64_t arch_vcpu_timer_deadline(const struct arch_vcpu *a) { (void)a; return ~0ull; }
void arch_vcpu_timer_fired(struct arch_vcpu *a) { (void)a; }

/* --- Virtual interrupts --------------------------------------------------
 * One event at a time in EVENTINJ, when the guest can take it (IF set, no
 * interrupt shadow, nothing else being injected); otherwise an interrupt
 * window: V_IRQ with the VINTR intercept exits as soon as the guest can,
 * and the way back in injects (exit_vintr). */
static void want_window(void *vm)
{
	F64(vm, C_INT_CTL) |= INT_CTL_VIRQ | INT_CTL_IGN_TPR | 0xf0000ull;
	F32(vm, C_INTERCEPT3) |= I3_VINTR;
}

static unsigned fetch_insn(struct thread *t, const void *vm, uint8_t *buf);

/* In STI's shadow at a HLT (sti; hlt: how a guest waits for an interrupt
 * without losing one), the HLT would halt and this interrupt wake it: the
 * HLT is completed here and the interrupt taken after it.  A window
 * instead lost the wake-up under QEMU 7.2, whose VMRUN ignores the VMCB's
 * interrupt shadow: its VINTR exit came before the HLT, and the interrupt
 * injected there returned to the HLT, which then slept past it (a VCPU on
 * another CPU than its signaller hung in vm_virq_cross_cpu_ns, 1 run in 2). */
static bool shadow_at_hlt(struct thread *t, void *vm)
{
	uint8_t b[15];
	if (!(F64(vm, C_SHADOW) & 1) || !fetch_insn(t, vm, b) || b[0] != 0xf4)
		return false;
	t->regs.pc += 1;
	F64(vm, C_SHADOW) = 0;
	return true;
}

/* PAUSE is F3 90, after any further prefixes (no NRIPS says its length). */
static unsigned pause_len(struct thread *t, const void *vm)
{
	uint8_t b[15];
	unsigned n = fetch_insn(t, vm, b);
	for (unsigned i = 0; i < n; i++)
		if (b[i] == 0x90)
			return i + 1;
	return 2;
}

void arch_vcpu_flush_virqs(struct vcpu *v)
{
	void *vm = svm_this()->vmcb;
	while (vcpu_has_deliverable(v)) {
		bool open = (v->thread->regs.rflags & 0x200) && !(F64(vm, C_EVENTINJ) & EVENT_VALID);
		bool can = open && (!(F64(vm, C_SHADOW) & 1) || shadow_at_hlt(v->thread, vm));
		if (!can) {
			want_window(vm);
			return;
		}
		int virq = vcpu_take_deliverable(v);
		if (virq >= VIRQ_X86_FIRST && virq < VIRQ_X86_LIMIT) /* else not a vector */
			F64(vm, C_EVENTINJ) = EVENT_VALID | (uint64_t)virq;
	}
}

bool arch_vcpu_virq_pending(const struct arch_vcpu *a)
{
	(void)a; /* loaded: the VMCB is the truth */
	return F64(svm_this()->vmcb, C_EVENTINJ) & EVENT_VALID;
}

/* --- Registers ------------------------------------------------------------ */

/* Hardware register numbers to ABI roles (arch_regs.h); rsp is r->sp. */
static const uint8_t role_of[16] = { 8, 12, 2, 9, 0xff, 11, 1, 0, 4, 5, 3, 13, 6, 7, 10, 14 };

static uint64_t *gpr(struct arch_regs *r, unsigned n)
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
	*val = id < 16 ? *gpr(r, (unsigned)id) : id == VREG_PC ? r->pc : r->rflags;
	return E_OK;
}

/* RFLAGS: bit 1 always set, reserved bits clear (VMRUN checks neither on
 * every CPU, so the kernel does); control registers and EFER are the
 * VMM's to get right: a state VMRUN refuses is a VMEXIT_OTHER (-1). */
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
		*gpr(r, (unsigned)id) = val;
	else if (id == VREG_PC)
		r->pc = val;
	else if (!(val & ~0x3f7fd7ull))
		r->rflags = val | 2;
	else
		return E_INVAL;
	return E_OK;
}

/* --- Entry ---------------------------------------------------------------- */

/* This CPU's ASID for space (root, vmid), flushing when it held another
 * space or a shootdown happened since guests last ran here. */
static void asid_set(struct svm_cpu *s, void *vm, uint64_t root, unsigned vmid)
{
	unsigned asid = asid_of(vmid);
	uint8_t flush = s->flush_next;
	uint64_t gen = __atomic_load_n(&tlb_gen, __ATOMIC_SEQ_CST);
	s->flush_next = false;
	if (gen != s->tlb_seen || s->asid_root[asid] != root || s->asid_vmid[asid] != vmid) {
		s->tlb_seen = gen;
		s->asid_root[asid] = root;
		s->asid_vmid[asid] = (uint16_t)vmid;
		flush = 1; /* every ASID: TCG and the oldest parts know no finer flush */
	}
	F32(vm, C_ASID) = asid;
	*((volatile uint8_t *)vm + C_TLB_CTL) = flush;
}

_Noreturn void x86_svm_exit(struct arch_regs *r);

/* A state VMRUN would refuse: its exit, as if it had, from an empty stack. */
static _Noreturn void svm_invalid(struct arch_regs *r)
{
	void *vm = svm_this()->vmcb;
	F64(vm, C_EXITCODE) = ~0ull;
	F64(vm, C_EXITINTINFO) = F64(vm, C_EVENTINJ);
	F64(vm, C_EXITINFO1) = F64(vm, C_EXITINFO2) = 0;
	x86_svm_exit(r);
}

/* Into the guest of the VCPU loaded here (uspace.c's arch_user_enter for
 * a thread whose VCPU is in).  Its FP state must be in the registers: the
 * guest's CR0.TS is its own, so the host's cannot trap its first use. */
_Noreturn void x86_vcpu_enter(struct pcpu *p, struct arch_regs *r, paddr_t root, unsigned vmid)
{
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	if (cr0 & CR0_TS)
		kernel_fp_unavailable(p->cpu->vcpu_in->thread);
	struct svm_cpu *s = &svm_cpus[p->cpu->id];
	void *vm = s->vmcb;
	F64(vm, S_RIP) = r->pc;
	F64(vm, S_RSP) = r->sp;
	F64(vm, S_RFLAGS) = r->rflags;
	F64(vm, S_RAX) = r->x[8];
	F64(vm, C_NCR3) = root.pa;
	/* CPL from SS's DPL (the VMCB's own copy must agree in long mode) */
	*((volatile uint8_t *)vm + S_CPL) = (F64(vm, S_ES + 0x20) >> 21) & 3;
	if (!vmcb_valid(vm))
		__asm__ volatile("mov %0, %%rsp; mov %1, %%rdi; jmp *%2"
				 :: "r"(p->cpu->stack_top), "r"(r), "r"(svm_invalid) : "memory");
	__atomic_add_fetch(&p->ustate, 1, __ATOMIC_SEQ_CST); /* odd: shootdowns wait */
	asid_set(s, vm, root.pa, vmid);
	__asm__ volatile("clgi; sti" ::: "memory"); /* held until VMRUN sets GIF */
	x86_svm_run(r, s->vmcb_pa, s->host_pa);
}

/* --- Exits ---------------------------------------------------------------- */

static inline struct thread *thread_of(struct arch_regs *r)
{
	return (struct thread *)((char *)r - __builtin_offsetof(struct thread, regs));
}

/* A physical interrupt (or NMI, SMI, INIT, a VEC_TLB) made the guest exit:
 * it is still pending; take it here, in ring 0, with the lock held, as
 * the idle loop does, and choose again. */
static _Noreturn void exit_interrupt(struct thread *t)
{
	vcpu_count(t->vcpu, VC_IRQ);
	bkl_lock();
	__asm__ volatile("sti; nop; cli" ::: "memory");
	kernel_exit();
}

/* The guest can take an interrupt now: close the window; the way back in
 * injects (vcpu_switch sees it pending). */
static _Noreturn void exit_vintr(void *vm)
{
	F64(vm, C_INT_CTL) &= ~INT_CTL_VIRQ;
	F32(vm, C_INTERCEPT3) &= ~I3_VINTR;
	bkl_lock();
	kernel_exit();
}

/* Guest physical to the kernel's view of it, through the guest's space;
 * RAM only (an MMIO page yields nothing). */
static const uint8_t *gpa_ptr(struct thread *t, uint64_t gpa)
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
static bool gva_to_gpa(struct thread *t, const void *vm, uint64_t va, uint64_t *gpa)
{
	uint64_t cr0 = F64(vm, S_CR0), cr4 = F64(vm, S_CR4), efer = F64(vm, S_EFER);
	if (!(cr0 & (1ull << 31))) {
		*gpa = va & 0xffffffffull;
		return true;
	}
	if (!(efer & (1ull << 10)) || (cr4 & (1ull << 12))) /* not LMA, or LA57 */
		return false;
	uint64_t table = F64(vm, S_CR3) & 0x000ffffffffff000ull;
	for (int level = 3; level >= 0; level--) {
		const uint8_t *p = gpa_ptr(t, table + ((va >> (12 + 9 * level)) & 511) * 8);
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

/* Up to 15 bytes of the instruction at the guest's rip, page by page
 * (a guest page and the host page behind it share their 4 KiB bounds). */
static unsigned fetch_insn(struct thread *t, const void *vm, uint8_t *buf)
{
	uint64_t va = F64(vm, S_ES + 0x18) + t->regs.pc; /* CS base + rip */
	unsigned n = 0;
	while (n < 15) {
		uint64_t gpa;
		const uint8_t *p;
		if (!gva_to_gpa(t, vm, va + n, &gpa) || !(p = gpa_ptr(t, gpa)))
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
		val = high8 ? *gpr(r, reg - 4) >> 8 : *gpr(r, reg);
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

/* An NPT fault: MMIO (a data access, decoded) or an instruction fetch. */
static _Noreturn void exit_npf(struct thread *t, void *vm, unsigned cpu)
{
	uint64_t *w = t->fault, err = F64(vm, C_EXITINFO1);
	w[0] = F64(vm, C_EXITINFO2);
	if (err & (1u << 4)) {
		w[3] = err;
		kernel_vcpu_exit(t, VMEXIT_INSN_ABORT, cpu);
	}
	uint8_t b[15];
	bkl_lock(); /* the guest's tables stay put while they are walked */
	unsigned n = fetch_insn(t, vm, b);
	bkl_unlock();
	bool lm = F64(vm, S_ES + 0x10) & (1ull << (16 + 9)); /* CS.L */
	bool d32 = F64(vm, S_ES + 0x10) & (1ull << (16 + 10)); /* CS.D */
	if ((err & (1ull << 33)) || !(lm || d32) || !decode_mov(&t->regs, b, n, lm, w)) {
		w[3] = err & 2 ? VMACC_WRITE : 0; /* undecoded: the first 8 bytes */
		w[4] = VMEXIT_NO_INSN;
		if (n >= 8)
			memcpy(&w[4], b, 8);
		w[5] = 0;
	}
	kernel_vcpu_exit(t, VMEXIT_DATA_ABORT, cpu);
}

/* IN and OUT (EXITINFO1: bit 0 in, 2 string, 3 rep, 4-6 size, 16-31 port;
 * EXITINFO2 the next rip, which TCG fills as the hardware does). */
static _Noreturn void exit_io(struct thread *t, void *vm, unsigned cpu)
{
	uint64_t *w = t->fault, info = F64(vm, C_EXITINFO1);
	unsigned size = info & 0x10 ? 0 : info & 0x20 ? 1 : 2;
	bool in = info & 1;
	w[0] = VMEXIT_IO_PORT | (info >> 16 & 0xffff);
	w[5] = F64(vm, C_EXITINFO2) - t->regs.pc;
	if (info & 4) { /* INS, OUTS: left to the VMM, undecoded */
		w[3] = in ? 0 : VMACC_WRITE;
		w[4] = VMEXIT_NO_INSN;
	} else {
		w[3] = VMACC_VALID | size | (in ? (size < 2 ? VMACC_MERGE : 0) : VMACC_WRITE);
		w[4] = in ? 0 : t->regs.x[8] & ((1ull << (8u << size)) - 1);
	}
	kernel_vcpu_exit(t, VMEXIT_DATA_ABORT, cpu);
}

/* EFER is the kernel's (SVME must stay set): answered here, a reserved bit
 * gets #GP.  Other MSRs go to the VMM, the value edx:eax. */
static _Noreturn void exit_msr(struct thread *t, void *vm, unsigned cpu)
{
	struct arch_regs *r = &t->regs;
	uint64_t *w = t->fault, msr = r->x[12] & 0xffffffffull;
	bool wr = F64(vm, C_EXITINFO1) & 1;
	uint64_t val = (r->x[2] & 0xffffffffull) << 32 | (r->x[8] & 0xffffffffull);
	if (msr == MSR_EFER) {
		vcpu_count(t->vcpu, vc_label(VMEXIT_SYSREG));
		if (wr && (val & ~EFER_GUEST_BITS)) {
			F64(vm, C_EVENTINJ) = EVENT_VALID | EVENT_EXC | EVENT_ERR | 13;
		} else if (wr) {
			F64(vm, S_EFER) = efer_guest(val, F64(vm, S_CR0), F64(vm, S_CR4),
						     &t->vcpu->arch.lme_held);
			r->pc += 2;
		} else {
			uint64_t e = efer_seen(&t->vcpu->arch, vm);
			r->x[8] = e & 0xffffffffull, r->x[2] = e >> 32;
			r->pc += 2;
		}
		bkl_lock();
		kernel_exit();
	}
	w[0] = msr;
	w[3] = VMACC_VALID | VMACC_64 | 3 | (wr ? VMACC_WRITE : 0);
	w[4] = wr ? val : 0;
	w[5] = 2;
	kernel_vcpu_exit(t, VMEXIT_SYSREG, cpu);
}

/* Fixed-length instructions whose exits go to the VMM: the length a reply's
 * VMREPLY_ADVANCE steps over (0: the VMM must set rip itself). */
static unsigned other_len(uint64_t code)
{
	if (code == 0x6f || code == 0x76 || code == 0x89) /* INVD, INVD, WBINVD */
		return 2;
	if ((code >= 0x80 && code <= 0x87) || code == 0x8a || code == 0x8b || code == 0x8d)
		return 3; /* SVM instructions, RDTSCP, MONITOR, MWAIT, XSETBV */
	return 0;
}

_Noreturn void x86_svm_exit(struct arch_regs *r)
{
	unsigned cpu = arch_cpu_id();
	struct thread *t = thread_of(r);
	void *vm = svm_cpus[cpu].vmcb;
	r->pc = F64(vm, S_RIP);
	r->sp = F64(vm, S_RSP);
	r->rflags = F64(vm, S_RFLAGS);
	r->x[8] = F64(vm, S_RAX);
	/* an event cut short by the exit is delivered on the way back in */
	uint64_t pending = F64(vm, C_EXITINTINFO);
	F64(vm, C_EVENTINJ) = pending & EVENT_VALID ? pending & ~(0x7ull << 12) : 0;
	uint64_t code = F64(vm, C_EXITCODE), *w = t->fault;
	for (unsigned i = 0; i < VMEXIT_WORDS; i++)
		w[i] = 0;
	w[1] = r->pc;
	w[2] = code;
	switch (code) {
	case X_INTR: case X_NMI: case X_SMI: case X_INIT:
		exit_interrupt(t);
	case X_VINTR:
		exit_vintr(vm);
	case X_PAUSE: /* a spin-wait: its VCPU yields, as WFE does on AArch64 */
		r->pc += pause_len(t, vm);
		kernel_vcpu_wait(t, true, cpu);
	case X_HLT:
		r->pc += 1;
		F64(vm, C_SHADOW) = 0; /* it covered the HLT, now done */
		kernel_vcpu_wait(t, false, cpu);
	case X_VMMCALL:
		if ((r->x[8] >> 16) == (HC_BASE >> 16)) {
			r->pc += HC_INSN_BYTES;
			kernel_vcpu_hypercall(t, cpu);
		}
		w[0] = r->x[8], w[3] = r->x[9], w[4] = r->x[12], w[5] = r->x[2];
		kernel_vcpu_exit(t, VMEXIT_HVC, cpu);
	case X_CPUID:
		w[0] = VMEXIT_CPUID | (r->x[8] & 0xffffffffull);
		w[3] = VMACC_VALID | VMACC_64 | 3;
		w[4] = r->x[12] & 0xffffffffull;
		w[5] = 2;
		kernel_vcpu_exit(t, VMEXIT_SYSREG, cpu);
	case X_MSR:
		exit_msr(t, vm, cpu);
	case X_IOIO:
		exit_io(t, vm, cpu);
	case X_NPF:
		exit_npf(t, vm, cpu);
	default: /* VMEXIT_INVALID (-1: state VMRUN refused), shutdown, #DB, #AC... */
		w[0] = F64(vm, C_EXITINFO1);
		w[3] = F64(vm, C_EXITINFO2);
		kernel_vcpu_exit(t, VMEXIT_OTHER, cpu);
	}
}

/* --- Replies -------------------------------------------------------------- */

/* The length of the exiting instruction, from its message. */
static unsigned exit_len(uint64_t label, const uint64_t *exit)
{
	if (label == VMEXIT_HVC)
		return 3;
	if (label == VMEXIT_OTHER)
		return other_len(exit[2]);
	return (unsigned)exit[5];
}

static void write_read_value(struct arch_regs *r, uint64_t acc, uint64_t val)
{
	unsigned bits = 8u << (acc & VMACC_SIZE_MASK), reg = vmacc_reg(acc);
	uint64_t mask = bits < 64 ? (1ull << bits) - 1 : ~0ull;
	if (reg >= 16)
		return;
	uint64_t *dst = gpr(r, reg);
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
	F64(svm_this()->vmcb, C_EVENTINJ) = a->exc;
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
			*gpr(r, abcd[i]) = mr[i + 1];
	}
	if (flags & VMREPLY_ADVANCE)
		r->pc = exit[1] + exit_len(label, exit);
	return false;
}
