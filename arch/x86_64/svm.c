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
#include "arch/x86_64/hv.h"
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

/* Intercepts: physical interrupts, NMI, SMI, INIT, RDPMC (the host's
 * counters), CPUID, INVD, PAUSE, HLT, I/O, MSRs, task switches, shutdown
 * (vector 3); every SVM instruction,
 * monitor/mwait and XSETBV (vector 4: XCR0 is the host's, for XSAVE of
 * the guest's thread). */
#define I3_INTR (1u << 0)
#define I3_VINTR (1u << 4)
#define I3_GUEST (I3_INTR | 1u << 1 | 1u << 2 | 1u << 3 | 1u << 15 | 1u << 18 | 1u << 22 | \
		  1u << 23 | 1u << 24 | 1u << 26 | 1u << 27 | 1u << 28 | 1u << 29 | 1u << 31)
#define I4_GUEST 0x3fffu
/* #DB and #AC: a guest could loop the CPU in their delivery (CVE-2015-5307,
 * -8104); they come to the VMM instead. */
#define EXC_GUEST (1u << 1 | 1u << 17)
#define INT_CTL_VIRQ (1ull << 8)
#define INT_CTL_IGN_TPR (1ull << 20)
#define INT_CTL_MASKING (1ull << 24)   /* the guest's IF masks only virtual ones */

enum {
	X_PF = 0x4e, X_INTR = 0x60, X_NMI, X_SMI, X_INIT, X_VINTR, X_CPUID = 0x72, X_PAUSE = 0x77,
	X_HLT = 0x78, X_IOIO = 0x7b, X_MSR = 0x7c, X_VMMCALL = 0x81, X_NPF = 0x400,
};
#define MSR_VM_HSAVE_PA 0xc0010117

struct svm_cpu {
	void *vmcb, *hsave, *host;  /* the guests' VMCB, VMRUN's host area, VMSAVE's */
	uint64_t vmcb_pa, host_pa;
	struct x86_tags tags;        /* which space and VCPU each ASID last held */
	uint64_t pf_rip, pf_addr;    /* the last page fault exit_pf retried, */
	unsigned pf_again;           /* and how many times in a row */
};
static struct svm_cpu svm_cpus[MAX_CPUS];
static void *iopm, *msrpm;
static unsigned nasid;
static uint32_t exc_intercepts = EXC_GUEST; /* and #PF where pf_check_init says */

_Noreturn void x86_svm_run(struct arch_regs *r, uint64_t vmcb_pa, uint64_t host_pa);

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

/* Segment and table bases canonical, and below 4 GiB for ES, CS, SS and DS
 * outside 64-bit code (the hardware ignores their upper halves there;
 * QEMU's TCG used them, and lost the host's state at the next exit); the
 * address MSRs and rip canonical.  A value is canonical when adding 2^47
 * leaves its top 16 bits clear: one OR of the sums tests them all, as
 * every entry does (the guest changes them without exits). */
static bool bases_ok(const void *vm, bool code64)
{
	uint64_t sums = F64(vm, S_RIP) + (1ull << 47), low4 = 0;
#pragma GCC unroll 10
	for (unsigned n = 0; n < 10; n++)
		sums |= F64(vm, S_ES + 16 * n + 8) + (1ull << 47);
	for (unsigned n = 0; n < 4; n++)
		low4 |= F64(vm, S_ES + 16 * n + 8);
	/* LSTAR, CSTAR, the kernel GS base, SYSENTER_ESP and _EIP: VMLOAD
	 * puts them in the CPU, where WRMSR would have refused them */
	static const uint8_t msrs[] = { 8, 16, 32, 48, 56 };
#pragma GCC unroll 5
	for (unsigned i = 0; i < sizeof msrs; i++)
		sums |= F64(vm, S_STAR + msrs[i]) + (1ull << 47);
	return !(sums >> 48) && (code64 || !(low4 >> 32));
}

/* PAT's eight types each 0, 1 or 4-7: no bit above 2, and no bit 1
 * without bit 2 (2, 3). */
#define PAT_BAD(pat) (((pat) & 0xf8f8f8f8f8f8f8f8ull) || ((pat) & ~((pat) >> 1) & 0x0202020202020202ull))

static bool vmcb_valid(const void *vm)
{
	uint64_t cr0 = F64(vm, S_CR0), cr4 = F64(vm, S_CR4), efer = F64(vm, S_EFER);
	uint64_t pat = F64(vm, S_PAT);
	bool paging = (efer & (1ull << 8)) && (cr0 & (1ull << 31));
	uint64_t cs_attr = F64(vm, S_ES + 0x10) >> 16;
	if ((cr0 >> 32) || ((cr0 & (1ull << 29)) && !(cr0 & (1ull << 30))) ||
	    ((cr0 & (1ull << 31)) && !(cr0 & 1)) || (F64(vm, S_CR3) >> 52) ||
	    (cr4 & ~cr4_allowed) || (F64(vm, S_DR6) >> 32) || (F64(vm, S_DR7) >> 32) || PAT_BAD(pat))
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

/* Guest page faults are checked (exit_pf) where Cairn itself runs on a
 * virtual CPU (CPUID's hypervisor bit) that is not KVM's: under QEMU 7.2's
 * TCG a guest's page walk now and then fails on tables that are present
 * and unchanged (docs/ARCHITECTURE.md, "Transient guest page faults"). */
static void pf_check_init(void)
{
	uint32_t one[4], sig[4];
	cpuid(1, 0, one);
	cpuid(0x40000000, 0, sig);
	bool kvm = sig[1] == 0x4b4d564b && sig[2] == 0x564b4d56; /* "KVMKVMKVM" */
	if ((one[2] >> 31) && !kvm)
		exc_intercepts |= 1u << 14;
}

/* Once, on the boot CPU before any other starts (virt.c): the I/O and MSR
 * permission maps (every port and MSR intercepted but the ones above), and
 * the ASIDs the CPU has. */
bool x86_svm_init_global(void)
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
	pf_check_init();
	uint32_t id[4];
	cpuid(0x8000000a, 0, id);
	nasid = id[1] < 64 ? id[1] : 64;
	return nasid >= 2;
}

/* Per CPU (arch_user_init_cpu): SVME, the host save area, this CPU's VMCB
 * and its host state for VMLOAD after every exit (its GS base, TR, the
 * syscall MSRs: constant once this CPU is set up). */
static void svm_init_cpu(void)
{
	struct svm_cpu *s = svm_this();
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
		printk("svm: %u ASIDs, VMCB per CPU, exits decoded without NRIPS%s\n", nasid,
		       exc_intercepts & (1u << 14) ? ", guest page faults checked" : "");
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

/* The fixed part of the VMCB: intercepts, maps, nested paging. */
static void control_load(void *vm)
{
	F32(vm, C_INTERCEPT_CR) = 0;
	F32(vm, C_INTERCEPT_EXC) = exc_intercepts;
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

static void svm_load(struct arch_vcpu *a)
{
	struct svm_cpu *s = svm_this();
	void *vm = s->vmcb;
	x86_tag_loaded(&s->tags, a, nasid, arch_cpu_id());
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

static void svm_save(struct arch_vcpu *a)
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

/* The guest state the exit decoding reads. */
static struct x86_gview svm_view(const void *vm)
{
	return (struct x86_gview){ .cr0 = F64(vm, S_CR0), .cr3 = F64(vm, S_CR3),
		.cr4 = F64(vm, S_CR4), .efer = F64(vm, S_EFER), .cs_base = F64(vm, S_ES + 0x18),
		.cs_attr = (unsigned)(F64(vm, S_ES + 0x10) >> 16) & 0xfff };
}

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
	struct x86_gview g = svm_view(vm);
	if (!(F64(vm, C_SHADOW) & 1) || !x86_fetch_insn(t, &g, b) || b[0] != 0xf4)
		return false;
	t->regs.pc += 1;
	F64(vm, C_SHADOW) = 0;
	return true;
}

/* PAUSE is F3 90, after any further prefixes (no NRIPS says its length). */
static unsigned pause_len(struct thread *t, const void *vm)
{
	uint8_t b[15];
	struct x86_gview g = svm_view(vm);
	bkl_lock(); /* the guest's tables stay put while they are walked */
	unsigned n = x86_fetch_insn(t, &g, b);
	bkl_unlock();
	for (unsigned i = 0; i < n; i++)
		if (b[i] == 0x90)
			return i + 1;
	return 2;
}

static void svm_flush_virqs(struct vcpu *v)
{
	void *vm = svm_this()->vmcb;
	while (vcpu_has_deliverable(v)) {
		bool open = (v->thread->regs.rflags & 0x200) && !(F64(vm, C_EVENTINJ) & EVENT_VALID);
		bool can = open && (!(F64(vm, C_SHADOW) & 1) || shadow_at_hlt(v->thread, vm));
		if (!can) {
			want_window(vm);
			return;
		}
		int virq = vcpu_take_highest(v);
		if (virq >= VIRQ_X86_FIRST && virq < VIRQ_X86_LIMIT) /* else not a vector */
			F64(vm, C_EVENTINJ) = EVENT_VALID | (uint64_t)virq;
	}
}

static bool svm_virq_pending(void)
{
	/* loaded: the VMCB is the truth */
	return F64(svm_this()->vmcb, C_EVENTINJ) & EVENT_VALID;
}

/* --- Entry ---------------------------------------------------------------- */

/* This CPU's ASID for space (root, vmid); every ASID is flushed where
 * x86_tag_enter asks (TCG and the oldest parts know no finer flush). */
static void asid_set(struct svm_cpu *s, void *vm, uint64_t root, unsigned vmid)
{
	F32(vm, C_ASID) = x86_tag_of(vmid, nasid);
	*((volatile uint8_t *)vm + C_TLB_CTL) = x86_tag_enter(&s->tags, root, vmid, nasid);
}

/* An event cut short by the exit (EXITINTINFO) is delivered on the way
 * back in; but not INTn, INT3 and INTO (type 4; #BP and #OF, type 3),
 * which their instruction at rip raises again, as vmx.c's redeliver
 * leaves them: injected, their handler returned to the instruction, not
 * past it (no NRIPS under TCG), and Linux's INT3 handler, its breakpoint
 * not found one byte back, looped in text_poke_bp (vm-x86-int3-cut-short).
 * Nothing cut short, the usual case, is one test. */
static inline uint64_t redeliver(uint64_t cut)
{
	if (__builtin_expect(!(cut & EVENT_VALID), 1))
		return 0;
	unsigned type = cut >> 8 & 7, vec = cut & 0xff;
	bool again = type == 4 || (type == 3 && (vec == 3 || vec == 4));
	return again ? 0 : cut & ~(0x7ull << 12);
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
static _Noreturn void svm_enter(struct pcpu *p, struct arch_regs *r, paddr_t root, unsigned vmid)
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

/* The guest can take an interrupt now: close the window; the way back in
 * injects (vcpu_switch sees it pending). */
static _Noreturn void exit_vintr(void *vm)
{
	F64(vm, C_INT_CTL) &= ~INT_CTL_VIRQ;
	F32(vm, C_INTERCEPT3) &= ~I3_VINTR;
	bkl_lock();
	kernel_exit();
}

/* IN and OUT (EXITINFO1: bit 0 in, 2 string, 3 rep, 4-6 size, 16-31 port;
 * EXITINFO2 the next rip, which TCG fills as the hardware does). */
static _Noreturn void exit_io(struct thread *t, void *vm, unsigned cpu)
{
	uint64_t info = F64(vm, C_EXITINFO1);
	x86_exit_io(t, info >> 16 & 0xffff, info & 0x10 ? 0 : info & 0x20 ? 1 : 2, info & 1,
		    info & 4, (unsigned)(F64(vm, C_EXITINFO2) - t->regs.pc), cpu);
}

/* EFER is the kernel's (SVME must stay set): answered here, a reserved bit
 * gets #GP.  Other MSRs go to the VMM, the value edx:eax. */
static _Noreturn void exit_msr(struct thread *t, void *vm, unsigned cpu)
{
	struct arch_regs *r = &t->regs;
	uint64_t msr = r->x[12] & 0xffffffffull;
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
	x86_exit_msr(t, wr, cpu);
}

/* A guest page fault (intercepted where pf_check_init says).  A
 * supervisor access the guest's tables, walked now, allow is retried: the
 * instruction runs again and an event whose delivery it cut short goes in
 * again (EVENTINJ holds it already); eight times in a row at the same
 * place, and it is delivered after all (a fault this walk misjudged must
 * not hold the guest there).  Any other fault is the guest's and
 * is delivered as the CPU would have: CR2 set, a #DF if it hit the
 * delivery of a #PF, a shutdown if a #DF's; one that hit a contributory
 * exception's (#DE, #TS, #NP, #SS, #GP) is delivered alone, that fault
 * raised again when its instruction runs again (the SDM's and the APM's
 * double-fault tables: contributory, then #PF, is handled serially); an
 * interrupt it cut short is raised again. */
static unsigned long pf_retried;

static _Noreturn void exit_pf(struct thread *t, void *vm, uint64_t cut, unsigned cpu)
{
	uint64_t err = F64(vm, C_EXITINFO1), cr2 = F64(vm, C_EXITINFO2), *w = t->fault;
	unsigned vec = cut & 0xff, type = cut >> 8 & 7;
	struct x86_gview g = svm_view(vm);
	struct svm_cpu *s = &svm_cpus[cpu];
	bool again = s->pf_rip == t->regs.pc && s->pf_addr == cr2;
	s->pf_again = again ? s->pf_again + 1 : 0;
	s->pf_rip = t->regs.pc, s->pf_addr = cr2;
	bkl_lock(); /* the guest's tables stay put while they are walked */
	if (s->pf_again < 8 && x86_gva_permits(t, &g, cr2, err)) {
		if (pf_retried++ < 4)
			printk("svm: cpu%u: a guest page fault its tables do not explain, retried "
			       "(rip 0x%lx, address 0x%lx, error 0x%lx)\n", cpu, t->regs.pc, cr2, err);
		kernel_exit();
	}
	bool in_exc = (cut & EVENT_VALID) && type == 3;
	if (in_exc && vec == 8) {
		bkl_unlock();
		w[0] = 0, w[2] = 0x7f, w[3] = 0, w[4] = cut; /* shutdown, as the CPU's own */
		kernel_vcpu_exit(t, VMEXIT_OTHER, cpu);
	}
	F64(vm, S_CR2) = cr2;
	if (in_exc && vec == 14) {
		F64(vm, C_EVENTINJ) = EVENT_VALID | EVENT_EXC | EVENT_ERR | 8;
	} else {
		if ((cut & EVENT_VALID) && type == 0)
			vcpu_raise(t->vcpu, vec);
		F64(vm, C_EVENTINJ) = EVENT_VALID | EVENT_EXC | EVENT_ERR | 14 | err << 32;
	}
	kernel_exit();
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
	uint64_t pending = F64(vm, C_EXITINTINFO);
	F64(vm, C_EVENTINJ) = redeliver(pending);
	uint64_t code = F64(vm, C_EXITCODE), *w = t->fault;
	vmexit_clear(w);
	w[1] = r->pc;
	w[2] = code;
	switch (code) {
	case X_INTR: case X_NMI: case X_SMI: case X_INIT:
		x86_exit_interrupt(t);
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
		x86_exit_hypercall(t, cpu);
	case X_CPUID:
		x86_exit_cpuid(t, cpu);
	case X_MSR:
		exit_msr(t, vm, cpu);
	case X_IOIO:
		exit_io(t, vm, cpu);
	case X_PF:
		exit_pf(t, vm, pending, cpu);
	case X_NPF: {
		struct x86_gview g = svm_view(vm);
		x86_exit_npf(t, &g, F64(vm, C_EXITINFO2), F64(vm, C_EXITINFO1), cpu);
	}
	default: /* VMEXIT_INVALID (-1: state VMRUN refused), shutdown, #DB, #AC... */
		w[0] = F64(vm, C_EXITINFO1);
		w[3] = F64(vm, C_EXITINFO2);
		w[4] = pending; /* at a shutdown: the first event of the chain */
		kernel_vcpu_exit(t, VMEXIT_OTHER, cpu);
	}
}


static void svm_set_event(uint64_t event) { F64(svm_this()->vmcb, C_EVENTINJ) = event; }
static void svm_fini_cpu(void) {}

const struct x86_hv svm_hv = {
	.name = "SVM", .init_cpu = svm_init_cpu, .fini_cpu = svm_fini_cpu,
	.load = svm_load, .save = svm_save, .flush_virqs = svm_flush_virqs,
	.virq_pending = svm_virq_pending, .set_event = svm_set_event, .enter = svm_enter,
};
