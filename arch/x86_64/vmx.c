/* VCPUs on Intel VMX: guests in VMX non-root operation with EPT, VPIDs and
 * unrestricted guest, their state in a per-CPU VMCS, their exits decoded
 * into the same messages as SVM's (vmexit.c; docs/ABI.md, "VM exits on
 * x86_64").
 *
 * As with SVM's VMCB, each CPU has one VMCS, always current there: a VCPU's
 * state is written into it when the VCPU is loaded and read back when
 * another is loaded or another CPU needs it (vcpu/vcpu.c).  What the VMCS
 * does not switch is switched around it: the syscall MSRs and the kernel
 * GS base by the VM-entry and VM-exit MSR areas, CR2 and DR6 by hand.
 *
 * The guest's physical space is its thread's address space, made AS_GUEST
 * so that its tables are EPT's own (`ept` below, walked by the generic
 * code like any format): a page without PT_X is not executable, RAM is
 * write-back and device pages uncached.  A native space (whose entries EPT
 * would misread) is refused to a VCPU's thread (aspace_guest_ok). */
#include "arch/x86_64/hv.h"
#include "mm/pt.h"
#include "hyp/kernel.h"
#include "hyp/kmem.h"
#include "hyp/panic.h"
#include "hyp/printk.h"
#include "hyp/string.h"

/* VMCS field encodings (Intel SDM vol. 3, appendix B). */
enum {
	V_VPID = 0x0000, G_ES_SEL = 0x0800, H_ES_SEL = 0x0c00, H_CS_SEL = 0x0c02,
	H_SS_SEL = 0x0c04, H_TR_SEL = 0x0c0c, G_PDPTE0 = 0x280a, G_DEBUGCTL = 0x2802,
	C_CR3_TARGET_N = 0x400a, C_PF_MASK = 0x4006, C_PF_MATCH = 0x4008,
	H_SYSENTER_CS = 0x4c00, H_SYSENTER_ESP = 0x6c10, H_SYSENTER_EIP = 0x6c12,
	C_MSR_BITMAP = 0x2004, C_EXIT_STORE = 0x2006, C_EXIT_LOAD = 0x2008,
	C_ENTRY_LOAD = 0x200a, C_TSC_OFFSET = 0x2010, C_EPTP = 0x201a, R_GPA = 0x2400,
	G_LINK = 0x2800, G_PAT = 0x2804, G_EFER = 0x2806, H_PAT = 0x2c00, H_EFER = 0x2c02,
	C_PIN = 0x4000, C_PROC = 0x4002, C_EXC_BITMAP = 0x4004, C_EXIT = 0x400c,
	C_EXIT_STORE_N = 0x400e, C_EXIT_LOAD_N = 0x4010, C_ENTRY = 0x4012,
	C_ENTRY_LOAD_N = 0x4014, C_ENTRY_INFO = 0x4016, C_ENTRY_ERR = 0x4018,
	C_ENTRY_LEN = 0x401a, C_PROC2 = 0x401e,
	R_INSN_ERROR = 0x4400, R_REASON = 0x4402, R_INTR_INFO = 0x4404, R_INTR_ERR = 0x4406,
	R_IDT_INFO = 0x4408, R_IDT_ERR = 0x440a, R_LEN = 0x440c,
	G_ES_LIMIT = 0x4800, G_ES_AR = 0x4814, G_INTERRUPTIBILITY = 0x4824,
	G_ACTIVITY = 0x4826, G_SYSENTER_CS = 0x482a,
	C_CR0_MASK = 0x6000, C_CR4_MASK = 0x6002, C_CR0_SHADOW = 0x6004, C_CR4_SHADOW = 0x6006,
	R_QUAL = 0x6400,
	G_CR0 = 0x6800, G_CR3 = 0x6802, G_CR4 = 0x6804, G_ES_BASE = 0x6806, G_DR7 = 0x681a,
	G_RSP = 0x681c, G_RIP = 0x681e, G_RFLAGS = 0x6820, G_PENDING_DBG = 0x6822,
	G_SYSENTER_ESP = 0x6824, G_SYSENTER_EIP = 0x6826,
	H_CR0 = 0x6c00, H_CR3 = 0x6c02, H_CR4 = 0x6c04, H_FS_BASE = 0x6c06, H_GS_BASE = 0x6c08,
	H_TR_BASE = 0x6c0a, H_GDTR_BASE = 0x6c0c, H_IDTR_BASE = 0x6c0e, H_RSP = 0x6c14,
	H_RIP = 0x6c16,
};

/* Exit reasons (appendix C). */
enum {
	R_EXCEPTION = 0, R_INTR, R_TRIPLE, R_INIT, R_SIPI, R_SMI_IO, R_SMI, R_WINDOW,
	R_TASK = 9, R_CPUID = 10, R_HLT = 12, R_INVD = 13, R_RDPMC = 15, R_VMCALL = 18, R_CR = 28,
	R_IO = 30, R_RDMSR = 31, R_WRMSR = 32, R_BAD_GUEST = 33, R_BAD_MSR = 34,
	R_MWAIT = 36, R_MONITOR = 39, R_PAUSE = 40, R_EPT_VIOLATION = 48,
	R_EPT_MISCONFIG = 49, R_WBINVD = 54, R_XSETBV = 55,
};

/* Controls Cairn needs (bits of the pin-based, processor-based, secondary,
 * exit and entry controls); the CPU's capability MSRs say which it has. */
#define PIN_WANT (1u << 0 | 1u << 3)             /* external interrupts, NMIs exit */
#define PROC_WINDOW (1u << 2)
/* TSC offset; HLT, MWAIT, RDPMC, CR8 load and store (else the guest's CR8
 * is the host APIC's TPR), I/O, MONITOR, PAUSE exit; MSR bitmap; secondary
 * controls. */
#define PROC_WANT (1u << 3 | 1u << 7 | 1u << 10 | 1u << 11 | 1u << 19 | 1u << 20 | \
		   1u << 24 | 1u << 28 | 1u << 29 | 1u << 30 | 1u << 31)
#define PROC2_WANT (1u << 1 | 1u << 5 | 1u << 7)  /* EPT, VPID, unrestricted guest */
/* WBINVD exits (as on SVM) and INVPCID runs where the CPU has them;
 * RDTSCP stays #UD (TSC_AUX is the host's). */
#define PROC2_ALSO (1u << 6 | 1u << 12)
/* Save and load DR7 (else it is the host's 0x400 after every exit); a
 * 64-bit host; save and load PAT and EFER. */
#define EXIT_WANT (1u << 2 | 1u << 9 | 1u << 18 | 1u << 19 | 1u << 20 | 1u << 21)
#define ENTRY_IA32E (1u << 9)
#define ENTRY_WANT (1u << 2 | 1u << 14 | 1u << 15) /* load DR7, PAT and EFER */
#define EXC_GUEST (1u << 1 | 1u << 6 | 1u << 17)  /* #DB, #AC as SVM's; #UD: VMMCALL */
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_PROCBASED2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_PAT 0x277
#define MSR_FEATURE_CONTROL 0x3a /* bit 0 lock, bit 2 VMX outside SMX */
#define CR4_VMXE (1ull << 13)
#define RFLAGS_IF (1ull << 9)
#define NTAGS 64

struct vmx_msr { uint32_t index, reserved; uint64_t value; };
/* The MSRs the guest owns and the VMCS does not switch: VREG ids, MSRs. */
static const uint32_t guest_msr[][2] = {
	{ VREG_X86_STAR, 0xc0000081 }, { VREG_X86_LSTAR, 0xc0000082 },
	{ VREG_X86_CSTAR, 0xc0000083 }, { VREG_X86_SFMASK, 0xc0000084 },
	{ VREG_X86_KGSBASE, 0xc0000102 },
};
#define NMSR (sizeof guest_msr / sizeof guest_msr[0])

struct vmx_cpu {
	void *vmxon, *vmcs;
	struct vmx_msr *guest, *host; /* NMSR each: entry load and exit store; exit load */
	struct x86_tags tags;
	uint64_t cr2, dr6;            /* the loaded guest's */
	bool launched;
};
static struct vmx_cpu vmx_cpus[MAX_CPUS];
static uint32_t pin, proc, proc2, exit_ctl, entry_ctl, revision;
static uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, cr0_mask, cr4_mask;
static uint8_t *msr_bitmap;

_Noreturn void x86_vmx_run(struct arch_regs *r, bool launched);
void x86_vmx_exit_stub(void);

static struct vmx_cpu *vmx_this(void) { return &vmx_cpus[arch_cpu_id()]; }

static inline uint64_t vmread(uint64_t field)
{
	uint64_t v;
	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc");
	return v;
}

static inline void vmwrite(uint64_t field, uint64_t v)
{
	__asm__ volatile("vmwrite %1, %0" :: "r"(field), "r"(v) : "cc");
}

/* --- Capabilities --------------------------------------------------------- */

/* want's bits with the ones the CPU insists on; false if it lacks one. */
static bool control(uint32_t msr, uint32_t want, uint32_t *out)
{
	uint64_t cap = rdmsr(msr);
	*out = (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
	return (*out & want) == want;
}

static void msr_pass(uint32_t msr)
{
	unsigned base = msr >= 0xc0000000u ? 0x400 : 0, bit = msr & 0x1fff;
	msr_bitmap[base + bit / 8] &= (uint8_t)~(1u << (bit % 8));         /* read */
	msr_bitmap[0x800 + base + bit / 8] &= (uint8_t)~(1u << (bit % 8)); /* write */
}

/* The MSRs the VMCS switches itself (FS, GS bases, SYSENTER_*) and the
 * ones the MSR areas do reach the guest directly; every other MSR exits.
 * Made by the probe, on the boot CPU before any other starts: an AP can
 * reach vmx_init_cpu before the boot CPU does (its VMCS then held a
 * bitmap address made from NULL, and every entry on it failed). */
static void vmx_init_global(void)
{
	if (!(msr_bitmap = kmem_alloc_pages(0)))
		panic("vmx: no memory for the MSR bitmap");
	memset(msr_bitmap, 0xff, PAGE_SIZE);
	static const uint32_t pass[] = { 0x174, 0x175, 0x176, 0xc0000100, 0xc0000101 };
	for (unsigned i = 0; i < sizeof pass / sizeof pass[0]; i++)
		msr_pass(pass[i]);
	for (unsigned i = 0; i < NMSR; i++)
		msr_pass(guest_msr[i][1]);
}

/* What this CPU's VMX offers, once (virt.c calls it after VMXON worked):
 * the controls, EPT with 4 levels and write-back tables, INVEPT and
 * INVVPID of every context; false if something Cairn needs is missing. */
bool x86_vmx_probe(void)
{
	uint64_t basic = rdmsr(MSR_VMX_BASIC), ept = rdmsr(MSR_VMX_EPT_VPID_CAP);
	uint32_t base = basic >> 55 & 1 ? 0x48d : 0x481; /* the "true" controls */
	revision = (uint32_t)basic & 0x7fffffff;
	uint32_t also = (uint32_t)(rdmsr(MSR_VMX_PROCBASED2) >> 32) & PROC2_ALSO;
	if (!control(base, PIN_WANT, &pin) || !control(base + 1, PROC_WANT, &proc) ||
	    !control(MSR_VMX_PROCBASED2, PROC2_WANT | also, &proc2) ||
	    !control(base + 2, EXIT_WANT, &exit_ctl) || !control(base + 3, ENTRY_WANT, &entry_ctl))
		return false;
	if (!(ept & 1ull << 6) || !(ept & 1ull << 14) || !(ept & 1ull << 20) ||
	    !(ept & 1ull << 26) || !(ept & 1ull << 32) || !(ept & 1ull << 42))
		return false;
	cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0) & ~(1ull << 0 | CR0_PG); /* unrestricted */
	cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	/* The bits the guest does not own: ones the CPU forces either way.  The
	 * guest reads its own value of them (the shadow); writing another
	 * exits (exit_cr). */
	cr0_mask = (cr0_fixed0 | ~cr0_fixed1) & 0xffffffffull;
	cr4_mask = cr4_fixed0 | ~cr4_fixed1;
	vmx_init_global();
	return true;
}

/* --- Per CPU ---------------------------------------------------------------- */

static uint64_t read_cr(unsigned n)
{
	uint64_t v;
	if (n == 0)
		__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	else if (n == 3)
		__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	else
		__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* The GDT's own limit: an exit sets GDTR's to 0xffff, and with it ring 3
 * could load descriptors made of the kernel's data past the table (LAR,
 * LSL, a segment of its own), so every exit loads it again. */
static struct { uint16_t limit; uint64_t base; } __attribute__((packed)) host_gdtr;

/* The host state an exit returns to: this CPU's, constant but for CR0's
 * TS and CR3's PCID, written at each entry (vmx_enter). */
static void host_state(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr, idtr;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	const uint64_t *tss = (const uint64_t *)gdtr.base + SEL_TSS(arch_cpu_id()) / 8;
	uint64_t tr_base = (tss[0] >> 16 & 0xffffff) | (tss[0] >> 56) << 24 | tss[1] << 32;
	host_gdtr.limit = gdtr.limit, host_gdtr.base = gdtr.base;
	for (unsigned k = 0; k < 6; k++) /* ES CS SS DS FS GS; VMCLEAR left them undefined */
		vmwrite(H_ES_SEL + 2 * k, k == 1 ? SEL_KCODE : k == 2 ? SEL_KDATA : 0);
	vmwrite(H_SYSENTER_CS, 0);
	vmwrite(H_SYSENTER_ESP, 0);
	vmwrite(H_SYSENTER_EIP, 0);
	vmwrite(H_TR_SEL, SEL_TSS(arch_cpu_id()));
	vmwrite(H_CR4, read_cr(4));
	vmwrite(H_FS_BASE, rdmsr(0xc0000100));
	vmwrite(H_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(H_TR_BASE, tr_base);
	vmwrite(H_GDTR_BASE, gdtr.base);
	vmwrite(H_IDTR_BASE, idtr.base);
	vmwrite(H_PAT, rdmsr(MSR_PAT));
	vmwrite(H_EFER, rdmsr(MSR_EFER));
	vmwrite(H_RIP, (uintptr_t)x86_vmx_exit_stub);
}

/* The fixed part of the VMCS. */
static void controls(struct vmx_cpu *s)
{
	vmwrite(C_PIN, pin);
	vmwrite(C_PROC, proc);
	vmwrite(C_PROC2, proc2);
	vmwrite(C_EXIT, exit_ctl);
	vmwrite(C_ENTRY, entry_ctl);
	vmwrite(C_EXC_BITMAP, EXC_GUEST);
	vmwrite(C_MSR_BITMAP, pa_of(msr_bitmap));
	vmwrite(C_ENTRY_LOAD, pa_of(s->guest));
	vmwrite(C_EXIT_STORE, pa_of(s->guest));
	vmwrite(C_EXIT_LOAD, pa_of(s->host));
	vmwrite(C_ENTRY_LOAD_N, NMSR);
	vmwrite(C_EXIT_STORE_N, NMSR);
	vmwrite(C_EXIT_LOAD_N, NMSR);
	vmwrite(C_CR0_MASK, cr0_mask);
	vmwrite(C_CR4_MASK, cr4_mask);
	vmwrite(C_CR3_TARGET_N, 0);
	vmwrite(C_PF_MASK, 0);
	vmwrite(C_PF_MATCH, 0);
	vmwrite(C_ENTRY_LEN, 0);
	vmwrite(G_DEBUGCTL, 0);
	vmwrite(G_LINK, ~0ull);
}

static void *page(void)
{
	void *p = kmem_alloc_pages(0);
	if (!p)
		panic("vmx: no memory for a VMCS");
	memset(p, 0, PAGE_SIZE);
	return p;
}

/* Per CPU (arch_user_init_cpu, and again when the CPU comes back on line):
 * VMXON, this CPU's VMCS made current, its fixed part and host state. */
static void vmx_init_cpu(void)
{
	struct vmx_cpu *s = vmx_this();
	uint64_t fc = rdmsr(MSR_FEATURE_CONTROL); /* as virt.c did on the boot CPU */
	if (!(fc & 1))
		wrmsr(MSR_FEATURE_CONTROL, fc | 1 | 4);
	else if (!(fc & 4))
		panic("vmx: the firmware locked VMX off on CPU %u", arch_cpu_id());
	if (!s->vmcs) {
		s->vmxon = page(), s->vmcs = page();
		s->guest = page(), s->host = page();
	}
	*(uint32_t *)s->vmxon = *(uint32_t *)s->vmcs = revision;
	__asm__ volatile("mov %0, %%cr4" :: "r"((read_cr(4) | CR4_VMXE | cr4_fixed0) & cr4_fixed1));
	__asm__ volatile("mov %0, %%cr0" :: "r"((read_cr(0) | rdmsr(MSR_VMX_CR0_FIXED0)) &
						cr0_fixed1));
	uint64_t on = pa_of(s->vmxon), cs = pa_of(s->vmcs);
	uint8_t failed;
	__asm__ volatile("vmxon %1; setna %0" : "=q"(failed) : "m"(on) : "cc", "memory");
	if (failed)
		panic("vmx: VMXON failed on CPU %u", arch_cpu_id());
	__asm__ volatile("vmclear %0; vmptrld %0" :: "m"(cs) : "cc", "memory");
	s->launched = false;
	s->tags.flush_next = true;
	for (unsigned i = 0; i < NMSR; i++) {
		s->guest[i] = s->host[i] = (struct vmx_msr){ .index = guest_msr[i][1] };
		s->host[i].value = rdmsr(guest_msr[i][1]);
	}
	controls(s);
	host_state();
	if (arch_cpu_id() == 0)
		printk("vmx: EPT, VPIDs, unrestricted guest; a VMCS per CPU\n");
}

/* Before the CPU halts for hotplug: INIT, which starts it again, is
 * blocked in VMX operation. */
static void vmx_fini_cpu(void)
{
	uint64_t cs = pa_of(vmx_this()->vmcs);
	__asm__ volatile("vmclear %0; vmxoff" :: "m"(cs) : "cc", "memory");
	__asm__ volatile("mov %0, %%cr4" :: "r"(read_cr(4) & ~CR4_VMXE));
}

/* --- State: the VMCS and struct arch_vcpu --------------------------------- */

/* A segment's ids (VREG_X86_ES + 2n: VMCB order, ES CS SS DS FS GS GDTR
 * LDTR IDTR TR) to the VMCS's order (ES CS SS DS FS GS LDTR TR; the
 * descriptor tables have a limit and a base only). */
static const int8_t seg_vmcs[10] = { 0, 1, 2, 3, 4, 5, -1, 6, -2, 7 };
enum { G_GDTR_LIMIT = 0x4810, G_GDTR_BASE = 0x6816 };

/* The VMCB's 12-bit attributes and VMX's access rights: the high nibble
 * moves up four bits; a segment not present is unusable (bit 16). */
static uint64_t ar_of(uint64_t attr)
{
	return (attr & 0xff) | (attr & 0xf00) << 4 | (attr & 0x80 ? 0 : 1u << 16);
}

static uint64_t attr_of(uint64_t ar)
{
	return ar & (1u << 16) ? (ar & 0x7f) | (ar >> 4 & 0xf00) : (ar & 0xff) | (ar >> 4 & 0xf00);
}

static void seg_load(unsigned n, const struct arch_vcpu *a)
{
	uint64_t p = VSYS(a, VREG_X86_ES + 2 * n), base = VSYS(a, VREG_X86_ES + 2 * n + 1);
	int k = seg_vmcs[n];
	if (k < 0) { /* GDTR (-1), IDTR (-2) */
		vmwrite(G_GDTR_LIMIT - 2 * (k + 1), p >> 32 & 0xffff);
		vmwrite(G_GDTR_BASE - 2 * (k + 1), base);
		return;
	}
	vmwrite(G_ES_SEL + 2 * k, p & 0xffff);
	vmwrite(G_ES_AR + 2 * k, ar_of(p >> 16 & 0xfff));
	vmwrite(G_ES_LIMIT + 2 * k, p >> 32);
	vmwrite(G_ES_BASE + 2 * k, base);
}

static void seg_save(unsigned n, struct arch_vcpu *a)
{
	int k = seg_vmcs[n];
	if (k < 0) {
		VSYS(a, VREG_X86_ES + 2 * n) = vmread(G_GDTR_LIMIT - 2 * (k + 1)) << 32;
		VSYS(a, VREG_X86_ES + 2 * n + 1) = vmread(G_GDTR_BASE - 2 * (k + 1));
		return;
	}
	VSYS(a, VREG_X86_ES + 2 * n) = vmread(G_ES_SEL + 2 * k) |
		attr_of(vmread(G_ES_AR + 2 * k)) << 16 | vmread(G_ES_LIMIT + 2 * k) << 32;
	VSYS(a, VREG_X86_ES + 2 * n + 1) = vmread(G_ES_BASE + 2 * k);
}

#define SINGLE(X) X(VREG_X86_CR3, G_CR3) X(VREG_X86_DR7, G_DR7) X(VREG_X86_PAT, G_PAT) \
	X(VREG_X86_SYSENTER_CS, G_SYSENTER_CS) X(VREG_X86_SYSENTER_ESP, G_SYSENTER_ESP)  \
	X(VREG_X86_SYSENTER_EIP, G_SYSENTER_EIP) X(VREG_X86_TSC_OFFSET, C_TSC_OFFSET)
#define LOAD(id, f) vmwrite(f, VSYS(a, id));
#define SAVE(id, f) VSYS(a, id) = vmread(f);

/* EFER as the guest runs with it: LMA as the CPU would set it, and the
 * entry control that must agree with it. */
static void efer_load(uint64_t efer, uint64_t cr0)
{
	efer &= EFER_GUEST_BITS & ~EFER_LMA;
	if ((efer & EFER_LME) && (cr0 & CR0_PG))
		efer |= EFER_LMA;
	vmwrite(G_EFER, efer);
	vmwrite(C_ENTRY, efer & EFER_LMA ? entry_ctl | ENTRY_IA32E : entry_ctl);
}

/* CR0 and CR4: the guest's value in the shadow, the forced bits added in
 * the register (a bit the CPU lacks stays: VM entry refuses it). */
static void cr_load(uint64_t cr0, uint64_t cr4)
{
	vmwrite(C_CR0_SHADOW, cr0);
	vmwrite(G_CR0, cr0 | cr0_fixed0);
	vmwrite(C_CR4_SHADOW, cr4);
	vmwrite(G_CR4, cr4 | cr4_fixed0);
}

static uint64_t cr_seen(uint64_t reg, uint64_t shadow, uint64_t mask)
{
	return (vmread(reg) & ~mask) | (vmread(shadow) & mask);
}

/* PAE paging (PG and PAE without LMA): with EPT, VM entry takes the four
 * PDPTEs from the VMCS, not through CR3, so they are loaded from the
 * guest's memory wherever CR3 or paging may have changed (0 where CR3
 * points outside its RAM: its entry fails, its VMM hears -1).  The lock
 * is held: the guest's space stays put. */
static void pdptes_load(struct thread *t)
{
	bool pae = (vmread(G_CR0) & CR0_PG) && (vmread(G_CR4) & CR4_PAE) &&
		   !(vmread(G_EFER) & EFER_LMA);
	uint64_t base = vmread(G_CR3) & 0xffffffe0ull;
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *p = pae ? x86_gpa_ptr(t, base + 8 * i) : NULL;
		vmwrite(G_PDPTE0 + 2 * i, p ? *(const volatile uint64_t *)p : 0);
	}
}

static void vmx_load(struct arch_vcpu *a)
{
	struct vmx_cpu *s = vmx_this();
	x86_tag_loaded(&s->tags, a, NTAGS, arch_cpu_id());
	for (unsigned n = 0; n < 10; n++)
		seg_load(n, a);
	SINGLE(LOAD)
	cr_load(VSYS(a, VREG_X86_CR0), VSYS(a, VREG_X86_CR4));
	efer_load(VSYS(a, VREG_X86_EFER), VSYS(a, VREG_X86_CR0));
	for (unsigned i = 0; i < NMSR; i++)
		s->guest[i].value = VSYS(a, guest_msr[i][0]);
	s->cr2 = VSYS(a, VREG_X86_CR2);
	s->dr6 = VSYS(a, VREG_X86_DR6);
	vmwrite(C_ENTRY_INFO, a->eventinj & 0xffffffffull);
	vmwrite(C_ENTRY_ERR, a->eventinj >> 32);
	vmwrite(G_INTERRUPTIBILITY, a->shadow);
	vmwrite(G_ACTIVITY, 0);
	vmwrite(G_PENDING_DBG, 0);
	vmwrite(C_PROC, a->int_ctl ? proc | PROC_WINDOW : proc);
	pdptes_load(vcpu_of(a)->thread);
}

static void vmx_save(struct arch_vcpu *a)
{
	struct vmx_cpu *s = vmx_this();
	for (unsigned n = 0; n < 10; n++)
		seg_save(n, a);
	SINGLE(SAVE)
	VSYS(a, VREG_X86_CR0) = cr_seen(G_CR0, C_CR0_SHADOW, cr0_mask);
	VSYS(a, VREG_X86_CR4) = cr_seen(G_CR4, C_CR4_SHADOW, cr4_mask);
	VSYS(a, VREG_X86_EFER) = vmread(G_EFER);
	for (unsigned i = 0; i < NMSR; i++)
		VSYS(a, guest_msr[i][0]) = s->guest[i].value;
	VSYS(a, VREG_X86_CR2) = s->cr2;
	VSYS(a, VREG_X86_DR6) = s->dr6;
	a->eventinj = vmread(C_ENTRY_INFO) | vmread(C_ENTRY_ERR) << 32;
	a->shadow = vmread(G_INTERRUPTIBILITY) & 3;
	a->int_ctl = (vmread(C_PROC) & PROC_WINDOW) != 0;
}

static struct x86_gview vmx_view(void)
{
	return (struct x86_gview){ .cr0 = vmread(G_CR0), .cr3 = vmread(G_CR3),
		.cr4 = vmread(G_CR4), .efer = vmread(G_EFER), .cs_base = vmread(G_ES_BASE + 2),
		.cs_attr = (unsigned)attr_of(vmread(G_ES_AR + 2)) };
}

/* --- Virtual interrupts ----------------------------------------------------
 * As on SVM: one event at a time when the guest can take it, otherwise an
 * interrupt window (its exit comes as soon as the guest can). */
static void want_window(void) { vmwrite(C_PROC, vmread(C_PROC) | PROC_WINDOW); }

/* sti; hlt: the HLT is completed here and the interrupt taken after it
 * (svm.c's shadow_at_hlt says why). */
static bool shadow_at_hlt(struct thread *t)
{
	uint8_t b[15];
	struct x86_gview g = vmx_view();
	if (!(vmread(G_INTERRUPTIBILITY) & 1) || !x86_fetch_insn(t, &g, b) || b[0] != 0xf4)
		return false;
	t->regs.pc += 1;
	vmwrite(G_INTERRUPTIBILITY, 0);
	return true;
}

static void vmx_flush_virqs(struct vcpu *v)
{
	while (vcpu_has_deliverable(v)) {
		bool open = (v->thread->regs.rflags & RFLAGS_IF) &&
			    !(vmread(C_ENTRY_INFO) & EVENT_VALID);
		bool can = open && (!(vmread(G_INTERRUPTIBILITY) & 3) || shadow_at_hlt(v->thread));
		if (!can) {
			want_window();
			return;
		}
		int virq = vcpu_take_highest(v);
		if (virq >= VIRQ_X86_FIRST && virq < VIRQ_X86_LIMIT) /* else not a vector */
			vmwrite(C_ENTRY_INFO, EVENT_VALID | (uint64_t)virq);
	}
}

static bool vmx_virq_pending(void) { return vmread(C_ENTRY_INFO) & EVENT_VALID; }

/* An exception to deliver (EVENTINJ's form); outside protected mode none
 * has an error code (VM entry refuses one). */
static void vmx_set_event(uint64_t event)
{
	if (!(vmread(G_CR0) & 1))
		event &= ~EVENT_ERR;
	vmwrite(C_ENTRY_INFO, event & 0xffffffffull);
	vmwrite(C_ENTRY_ERR, event >> 32);
}

/* --- Entry ------------------------------------------------------------------ */

/* An entry refused, by the kernel (switched_ok) or by VMLAUNCH or VMRESUME
 * (x86_vmx_run: the VMCS's control or host state; VM-instruction error in
 * MR0): SVM's VMEXIT_INVALID, -1. */
_Noreturn void x86_vmx_refused(struct arch_regs *r, bool by_cpu)
{
	struct thread *t = thread_of(r);
	uint64_t *w = t->fault;
	vmexit_clear(w);
	w[0] = by_cpu ? vmread(R_INSN_ERROR) : 0;
	w[1] = r->pc;
	w[2] = ~0ull;
	kernel_vcpu_exit(t, VMEXIT_OTHER, arch_cpu_id());
}

/* What the kernel switches around the VMCS must be what WRMSR and MOV to
 * DR6 would take: an entry that fails while it loads its MSR area has
 * loaded the guest's values before the bad one (the kernel does not rely
 * on the exit's area undoing them), and a bad DR6 would fault in the
 * kernel.  So the kernel checks first. */
static bool switched_ok(const struct vmx_cpu *s)
{
	return canonical(s->guest[1].value) && canonical(s->guest[2].value) &&
	       !(s->guest[3].value >> 32) && canonical(s->guest[4].value) && !(s->dr6 >> 32);
}

/* Into the guest of the VCPU loaded here (uspace.c's arch_user_enter for
 * a thread whose VCPU is in).  Its FP state must be in the registers. */
static _Noreturn void vmx_enter(struct pcpu *p, struct arch_regs *r, paddr_t root, unsigned vmid)
{
	if (read_cr(0) & CR0_TS)
		kernel_fp_unavailable(p->cpu->vcpu_in->thread);
	struct vmx_cpu *s = &vmx_cpus[p->cpu->id];
	vmwrite(G_RIP, r->pc);
	vmwrite(G_RSP, r->sp);
	vmwrite(G_RFLAGS, r->rflags);
	/* STI's blocking needs IF; without it the shadow is MOV SS's */
	uint64_t is = vmread(G_INTERRUPTIBILITY);
	if ((is & 1) && !(r->rflags & RFLAGS_IF))
		vmwrite(G_INTERRUPTIBILITY, (is & ~1ull) | 2);
	vmwrite(C_EPTP, root.pa | 3 << 3 | 6); /* 4 levels, write-back tables */
	vmwrite(V_VPID, x86_tag_of(vmid, NTAGS));
	vmwrite(H_CR0, read_cr(0));
	vmwrite(H_CR3, read_cr(3));
	if (!switched_ok(s))
		__asm__ volatile("mov %0, %%rsp; mov %1, %%rdi; jmp *%2"
				 :: "r"(p->cpu->stack_top), "r"(r), "r"(x86_vmx_refused), "S"(0)
				 : "memory");
	__atomic_add_fetch(&p->ustate, 1, __ATOMIC_SEQ_CST); /* odd: shootdowns wait */
	if (x86_tag_enter(&s->tags, root.pa, vmid, NTAGS)) {
		struct { uint64_t a, b; } all = { 0, 0 };
		__asm__ volatile("invept %0, %1; invvpid %0, %1" :: "m"(all), "r"(2ull) : "cc", "memory");
	}
	__asm__ volatile("cli; mov %0, %%cr2; mov %1, %%dr6" :: "r"(s->cr2), "r"(s->dr6) : "memory");
	x86_vmx_run(r, s->launched);
}

/* --- Exits ---------------------------------------------------------------- */

/* The guest can take an interrupt now: close the window; the way back in
 * injects (vcpu_switch sees it pending). */
static _Noreturn void exit_window(void)
{
	vmwrite(C_PROC, vmread(C_PROC) & ~PROC_WINDOW);
	bkl_lock();
	kernel_exit();
}

static _Noreturn void inject(uint64_t event)
{
	vmx_set_event(event);
	bkl_lock();
	kernel_exit();
}

#define GP0 (EVENT_VALID | EVENT_EXC | EVENT_ERR | 13)

/* CR0: reserved bits in 31:0 are ignored as the CPU ignores them; #GP for
 * what it refuses. */
static uint64_t cr0_write(uint64_t v)
{
	uint64_t efer = vmread(G_EFER), cs_l = vmread(G_ES_AR + 2) & 1u << 13;
	v = (v & ~0xffffffffull) | (v & cr0_fixed1 & 0xffffffffull);
	if ((v >> 32) || ((v & CR0_PG) && !(v & 1)) || ((v & 1u << 29) && !(v & 1u << 30)) ||
	    ((v & CR0_PG) && (efer & EFER_LME) && !(vmread(G_CR4) & CR4_PAE)) ||
	    (!(v & CR0_PG) && cs_l))
		return GP0;
	vmwrite(C_CR0_SHADOW, v);
	vmwrite(G_CR0, v | cr0_fixed0);
	efer_load(efer, v);
	return 0;
}

static uint64_t cr4_write(uint64_t v)
{
	if (v & ~(cr4_fixed1 & ~CR4_VMXE))
		return GP0;
	vmwrite(C_CR4_SHADOW, v);
	vmwrite(G_CR4, v | cr4_fixed0);
	return 0;
}

/* MOV to CR0 or CR4 that changes a bit the guest does not own (a CR0.NE
 * the CPU forces, CR4.VMXE or a bit this CPU lacks): the guest's value in
 * the shadow.  MOV from CR0 and CR4 reads the shadow without an exit.  CR8
 * always exits: without that (or a TPR shadow) it is the host APIC's TPR,
 * and a guest that raised it would mask the host's interrupts; the guest's
 * own is kept (the kernel injects by IF alone, as on SVM).  CR3 exits only
 * where the CPU insists.  Each write may change translation: the next
 * entry flushes the guest's TLB, as the CPU would. */
static _Noreturn void exit_cr(struct thread *t, unsigned len)
{
	struct arch_regs *r = &t->regs;
	uint64_t q = vmread(R_QUAL), *reg = x86_gpr(r, q >> 8 & 15), v = *reg, fault = 0;
	unsigned cr = q & 15, type = q >> 4 & 3;
	if (type == 1 && (cr == 3 || cr == 8))
		*reg = cr == 3 ? vmread(G_CR3) : t->vcpu->arch.tpr;
	else if (type != 0 || (cr != 0 && cr != 3 && cr != 4 && cr != 8))
		inject(EVENT_VALID | EVENT_EXC | 6);
	else if (cr == 8 && (v >> 4))
		fault = GP0;
	else if (cr == 8)
		t->vcpu->arch.tpr = v;
	else if (cr == 3)
		vmwrite(G_CR3, v);
	else
		fault = cr == 0 ? cr0_write(v) : cr4_write(v);
	if (fault)
		inject(fault);
	r->pc += len;
	bkl_lock();
	if (type == 0 && cr != 8) {
		vmx_this()->tags.flush_next = true;
		pdptes_load(t);
	}
	kernel_exit();
}

/* EFER is the kernel's, as on SVM: answered here, a reserved bit gets
 * #GP.  Other MSRs go to the VMM. */
static _Noreturn void exit_msr(struct thread *t, bool wr, unsigned cpu)
{
	struct arch_regs *r = &t->regs;
	if ((r->x[12] & 0xffffffffull) != MSR_EFER)
		x86_exit_msr(t, wr, cpu);
	uint64_t val = (r->x[2] & 0xffffffffull) << 32 | (r->x[8] & 0xffffffffull);
	vcpu_count(t->vcpu, vc_label(VMEXIT_SYSREG));
	/* reserved bits, or LME changed under paging: #GP, as the CPU gives */
	if (wr && ((val & ~EFER_GUEST_BITS) ||
		   (((val ^ vmread(G_EFER)) & EFER_LME) && (vmread(G_CR0) & CR0_PG))))
		inject(GP0);
	if (wr) {
		efer_load(val, vmread(G_CR0));
	} else {
		uint64_t e = vmread(G_EFER);
		r->x[8] = e & 0xffffffffull, r->x[2] = e >> 32;
	}
	r->pc += 2;
	bkl_lock();
	kernel_exit();
}

/* An exception the guest raised that Cairn intercepts: VMMCALL's #UD is a
 * hypercall (the guest ABI is SVM's; VMCALL works as well), another #UD
 * goes back to the guest; #DB and #AC go to the VMM as on SVM. */
static _Noreturn void exit_exception(struct thread *t, uint64_t *w, unsigned cpu)
{
	uint64_t info = vmread(R_INTR_INFO);
	unsigned vector = info & 0xff;
	if ((info >> 8 & 7) == 2) /* an NMI: nothing of the kernel's uses them */
		x86_exit_interrupt(t);
	if (vector == 6) {
		uint8_t b[15];
		struct x86_gview g = vmx_view();
		bkl_lock();
		unsigned n = x86_fetch_insn(t, &g, b);
		bkl_unlock();
		if (n >= 3 && b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xd9) {
			w[2] = 0x81; /* VMMCALL's */
			x86_exit_hypercall(t, cpu);
		}
		inject(EVENT_VALID | EVENT_EXC | 6);
	}
	w[0] = info & (1u << 11) ? vmread(R_INTR_ERR) : 0;
	w[2] = 0x40 + vector;
	w[3] = vmread(R_QUAL);
	kernel_vcpu_exit(t, VMEXIT_OTHER, cpu);
}

/* EPT entries (Intel SDM vol. 3, 29.3.2): read, write and execute bits,
 * any of them making an entry present; a leaf's memory type in bits 3-5,
 * write-back unless it maps device registers (uncached, type 0); PS marks
 * 2 MiB leaves.  Tables allow all three: their leaves say what is allowed.
 * Every leaf is readable (EPT's write-only is a misconfiguration). */
#define EPT_R (1ull << 0)
#define EPT_W (1ull << 1)
#define EPT_X (1ull << 2)
#define EPT_WB (6ull << 3)
#define EPT_PS (1ull << 7)
static const struct pt_format ept = {
	.levels = 4, .block_min_level = 2,
	.oa_mask = 0x000ffffffffff000ull,
	.table_mask = EPT_R | EPT_W | EPT_X | EPT_PS, .table = EPT_R | EPT_W | EPT_X,
	.valid = EPT_R | EPT_W | EPT_X,
	.block = EPT_R | EPT_PS, .page = EPT_R,
	.attr_set = { [0] = EPT_W, [1] = EPT_X },
	.attr_clear = { [3] = EPT_WB },
};

/* An EPT violation's qualification in SVM's NPF error code: present,
 * write, user (every guest access is one to EPT), fetch; bit 32 the
 * final translation, bit 33 a walk of the guest's own tables. */
static uint64_t npf_err(uint64_t q)
{
	uint64_t err = (q & 0x38 ? 1 : 0) | (q & 2) | 4 | (q & 4 ? 16 : 0);
	if (q & 0x80)
		err |= q & 0x100 ? 1ull << 32 : 1ull << 33;
	return err;
}

/* A VMX exit reason's SVM exit code, for MR2 (a VMM knows one set of
 * codes); reasons SVM has none for arrive as 0x10000 + reason. */
static uint64_t svm_code(unsigned reason)
{
	switch (reason) {
	case R_EPT_VIOLATION: return 0x400;
	case R_IO: return 0x7b;
	case R_CPUID: return 0x72;
	case R_RDMSR: case R_WRMSR: return 0x7c;
	case R_VMCALL: return 0x81;
	case R_TRIPLE: return 0x7f;         /* shutdown */
	case R_TASK: return 0x7d;
	case R_INVD: return 0x76;
	case R_RDPMC: return 0x6f;
	case R_WBINVD: return 0x89;
	case R_XSETBV: return 0x8d;
	case R_MONITOR: return 0x8a;
	case R_MWAIT: return 0x8b;
	case R_BAD_GUEST: case R_BAD_MSR: return ~0ull;
	case R_EPT_MISCONFIG: return 0x400; /* not made by this kernel's tables */
	default: return 0x10000 + reason;
	}
}

/* An event cut short by the exit is delivered on the way back in; a
 * software interrupt or exception is not: its instruction runs again. */
static void redeliver(void)
{
	uint64_t idt = vmread(R_IDT_INFO);
	unsigned type = idt >> 8 & 7;
	if ((idt & EVENT_VALID) && (type == 0 || type == 2 || type == 3))
		vmx_set_event((idt & (EVENT_VALID | 0xfff) & ~(1ull << 12)) | vmread(R_IDT_ERR) << 32);
}

_Noreturn void x86_vmx_exit(struct arch_regs *r)
{
	unsigned cpu = arch_cpu_id();
	struct thread *t = thread_of(r);
	struct vmx_cpu *s = &vmx_cpus[cpu];
	__asm__ volatile("lgdt %2; mov %%cr2, %0; mov %%dr6, %1"
			 : "=r"(s->cr2), "=r"(s->dr6) : "m"(host_gdtr));
	r->pc = vmread(G_RIP);
	r->sp = vmread(G_RSP);
	r->rflags = vmread(G_RFLAGS);
	uint64_t reason = vmread(R_REASON), *w = t->fault;
	unsigned len = (unsigned)vmread(R_LEN);
	if (!(reason >> 31)) { /* else the entry failed, nothing was delivered */
		s->launched = true;
		redeliver();
	}
	vmexit_clear(w);
	w[1] = r->pc;
	w[2] = svm_code(reason & 0xffff);
	switch (reason >> 31 ? ~0u : reason & 0xffff) { /* bit 31: the entry failed */
	case R_INTR: case R_INIT: case R_SIPI: case R_SMI_IO: case R_SMI:
		x86_exit_interrupt(t);
	case R_EXCEPTION:
		exit_exception(t, w, cpu);
	case R_WINDOW:
		exit_window();
	case R_PAUSE: /* a spin-wait: its VCPU yields, as WFE does on AArch64 */
		r->pc += len;
		kernel_vcpu_wait(t, true, cpu);
	case R_HLT:
		r->pc += len;
		vmwrite(G_INTERRUPTIBILITY, 0); /* it covered the HLT, now done */
		kernel_vcpu_wait(t, false, cpu);
	case R_VMCALL:
		x86_exit_hypercall(t, cpu);
	case R_CPUID:
		x86_exit_cpuid(t, cpu);
	case R_RDMSR: case R_WRMSR:
		exit_msr(t, reason == R_WRMSR, cpu);
	case R_CR:
		exit_cr(t, len);
	case R_IO: {
		uint64_t q = vmread(R_QUAL);
		x86_exit_io(t, q >> 16 & 0xffff, (q & 7) == 3 ? 2 : q & 1, q & 8, q & 16, len, cpu);
	}
	case R_EPT_VIOLATION: {
		struct x86_gview g = vmx_view();
		x86_exit_npf(t, &g, vmread(R_GPA), npf_err(vmread(R_QUAL)), cpu);
	}
	default: /* refused entries, triple faults, the VMX instructions... */
		w[0] = vmread(R_QUAL);
		w[3] = reason == R_EPT_MISCONFIG ? vmread(R_GPA) : 0;
		w[4] = reason >> 31 ? 0 : vmread(R_IDT_INFO) | vmread(R_IDT_ERR) << 32;
		kernel_vcpu_exit(t, VMEXIT_OTHER, cpu);
	}
}

const struct x86_hv vmx_hv = {
	.name = "VMX", .init_cpu = vmx_init_cpu, .fini_cpu = vmx_fini_cpu,
	.load = vmx_load, .save = vmx_save, .flush_virqs = vmx_flush_virqs,
	.virq_pending = vmx_virq_pending, .set_event = vmx_set_event, .enter = vmx_enter,
	.guest_format = &ept,
};
