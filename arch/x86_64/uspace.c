/* Native threads on x86_64: ring 3 in the lower half of a 4-level table,
 * entered by syscall or int $0x80, and the TLB, IPI and FP operations
 * generic code asks for.
 *
 * Design (docs/ARCHITECTURE.md): a native address space is a PML4 that
 * maps only [0, 2^USER_VA_BITS), its first two entries, in the walker's
 * user format below.  It is never loaded itself: each CPU runs on a PML4
 * of its own whose upper half is the kernel's and never changes, and a
 * switch copies the space's two entries into it and reloads CR3.  So the
 * kernel never runs on a page table that generic code may free (a CPU
 * that last ran a space idles on it while another CPU destroys it), and a
 * space costs no copy of the kernel half.  The copies go stale when the
 * space's own entries change (a first mapping in a 512 GiB slot, the last
 * one leaving it): an unmap is followed by a shootdown, which recopies; a
 * map is not, and the ring-3 page fault it causes recopies and retries.
 * Kernel leaves are global: a CR3 write keeps them.
 *
 * Spaces are PCID-tagged where the CPU allows (below), their PCID the VMID
 * the generic allocator gives (12 bits, PCID's width); a space is (root,
 * VMID), so a root page reused by a new space is a switch. */
#include "arch/x86_64/x86.h"
#include "hyp/arch.h"
#include "hyp/irq.h"
#include "hyp/fp.h"
#include "hyp/kernel.h"
#include "hyp/printk.h"
#include "mm/aspace.h"
#include "mm/kmap.h"
#include "mm/pt.h"

unsigned arch_vmid_bits(void) { return 12; }
/* CR3 as a space's own PCID would load it (each CPU loads its copy of the
 * top table instead: below). */
uint64_t arch_space_root(paddr_t root, unsigned vmid) { return pa_addr(root) | vmid; }

#define USER_PML4_ENTRIES (1u << (USER_VA_BITS - 39))
static pte_t cpu_pml4[MAX_CPUS][512] __attribute__((aligned(PAGE_SIZE)));

/* PCID where the CPU has it and INVPCID (TCG has neither; Bochs's
 * Skylake-X both): a space's PCID is its VMID, a switch keeps the TLB
 * (CR3 bit 63), and a new shootdown generation flushes every PCID. */
static bool pcid;
#define CR3_NOFLUSH (1ull << 63)
#define CR4_PCIDE (1ull << 17)

/* This CPU's copy of its space's entries, and a CR3 write (a flush of
 * the lower half without PCID; with it, none). */
static void load_space(struct pcpu *p)
{
	const pte_t *src = phys_to_virt(p->space);
	for (unsigned i = 0; i < USER_PML4_ENTRIES; i++)
		p->pml4[i] = src[i];
	uint64_t cr3 = (uintptr_t)p->pml4 - KERNEL_VBASE;
	if (pcid)
		cr3 |= CR3_NOFLUSH | (p->vmid & 0xfff);
	__asm__ volatile("mov %0, %%cr3" :: "r"(cr3) : "memory");
}

/* Every PCID's lower-half entries (INVPCID 3: all contexts but global). */
static void flush_all_pcids(void)
{
	struct { uint64_t pcid, va; } d = { 0, 0 };
	__asm__ volatile("invpcid %0, %1" :: "m"(d), "r"(3ull) : "memory");
}

/* A ring-3 page fault on a stale copy: whether there was one to refresh
 * (the CPU sets the accessed bit in the copy, not in the space). */
static bool space_stale(struct pcpu *p)
{
	const pte_t *src = phys_to_virt(p->space);
	for (unsigned i = 0; i < USER_PML4_ENTRIES; i++)
		if ((p->pml4[i] ^ src[i]) & ~PTE_A)
			return true;
	return false;
}

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_SFMASK 0xc0000084
#define EFER_SCE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
/* Cleared on syscall: IF (no interrupt before the stack moves), TF, DF,
 * NT, AC. */
#define SFMASK (0x200 | 0x100 | 0x400 | 0x4000 | 0x40000)

static bool xsave_avx;
#define XCR0_AVX 7u /* x87, SSE, AVX */

void x86_syscall_entry(void);
_Noreturn void x86_sysret(struct arch_regs *r);
_Noreturn void x86_iret(struct arch_regs *r);

static uint64_t read_cr0(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}
static void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }

void arch_user_init_cpu(void)
{
	wrmsr(MSR_STAR, (uint64_t)(SEL_KDATA) << 48 | (uint64_t)SEL_KCODE << 32);
	wrmsr(MSR_LSTAR, (uintptr_t)x86_syscall_entry);
	wrmsr(MSR_SFMASK, SFMASK);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	/* SMEP and SMAP where the CPU has them: the kernel reaches user
	 * memory only through the direct map, never at user addresses. */
	uint32_t id[4];
	cpuid(7, 0, id);
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT | (id[1] & (1u << 7) ? CR4_SMEP : 0) |
	       (id[1] & (1u << 20) ? CR4_SMAP : 0);
	/* AVX's state through XSAVE where the CPU has both; ring 3 sees AVX
	 * only then (CPUID's OSXSAVE), else its instructions are #UD. */
	cpuid(1, 0, id);
	if ((id[2] & (1u << 26)) && (id[2] & (1u << 28)))
		cr4 |= CR4_OSXSAVE;
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4));
	if (cr4 & CR4_OSXSAVE) {
		__asm__ volatile("xsetbv" :: "c"(0), "a"(XCR0_AVX), "d"(0));
		cpuid(0xd, 0, id); /* the area XCR0 asks for must fit struct arch_fp */
		xsave_avx = id[1] <= sizeof(struct arch_fp);
		if (!xsave_avx)
			__asm__ volatile("xsetbv" :: "c"(0), "a"(3), "d"(0));
	}
	if (arch_cpu_id() == 0)
		printk("x86: user FP state by %s\n", xsave_avx ? "XSAVE (x87, SSE, AVX)" :
			"FXSAVE (x87, SSE)");
	write_cr0((read_cr0() | CR0_MP) & ~CR0_EM);
	arch_fp_trap(true);
	/* PCIDs on before this CPU's first load_space: another CPU may have
	 * set `pcid` already (Bochs with two CPUs: CR3's no-flush bit on a CPU
	 * without CR4.PCIDE, #GP) */
	cpuid(1, 0, id);
	uint32_t id7[4];
	cpuid(7, 0, id7);
	if ((id[2] & (1u << 17)) && (id7[1] & (1u << 10))) {
		__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
		__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | CR4_PCIDE));
		pcid = true;
	}
	struct pcpu *p = pcpu_this();
	p->pml4 = cpu_pml4[p->cpu->id];
	const pte_t *k = phys_to_virt(pa_addr(kmap_root()));
	for (unsigned i = 256; i < 512; i++)
		p->pml4[i] = k[i];
	p->space = pa_addr(kmap_root()); /* nothing of its own in the lower half */
	p->vmid = 0;                     /* no space has VMID 0: PCID 0 is this */
	load_space(p);
	if (arch_cpu_id() == 0)
		printk("x86: address spaces %s\n", pcid ? "tagged by PCID" : "untagged (no PCID)");
	x86_hv_init_cpu();
}

/* CR0.TS: the next FP/SSE instruction raises #NM (hyp/fp.c). */
void arch_fp_trap(bool trap)
{
	if (trap)
		write_cr0(read_cr0() | CR0_TS);
	else
		__asm__ volatile("clts" ::: "memory");
}

/* XSAVE of x87, SSE and AVX where the CPU has AVX (arch_user_init_cpu),
 * else FXSAVE. */

void arch_fp_save(struct arch_fp *fp)
{
	if (xsave_avx)
		__asm__ volatile("xsave64 %0" : "=m"(*fp) : "a"(XCR0_AVX), "d"(0));
	else
		__asm__ volatile("fxsave64 %0" : "=m"(*fp));
}

/* A thread's first state is all zeros: give it the reset control words
 * (all exceptions masked) rather than the literal zeros (XRSTOR, like
 * FXRSTOR, takes MXCSR from memory). */
void arch_fp_load(const struct arch_fp *fp)
{
	if (xsave_avx)
		__asm__ volatile("xrstor64 %0" :: "m"(*fp), "a"(XCR0_AVX), "d"(0));
	else
		__asm__ volatile("fxrstor64 %0" :: "m"(*fp));
	if (!fp->fcw && !fp->mxcsr) {
		uint32_t mxcsr = 0x1f80;
		__asm__ volatile("fninit; ldmxcsr %0" :: "m"(mxcsr));
	}
}

void arch_regs_init(struct arch_regs *r)
{
	*r = (struct arch_regs){ .cs = SEL_UCODE, .ss = SEL_UDATA, .rflags = 0x202 };
}

/* --- TLB shootdown ---------------------------------------------------------
 * A CPU's lower-half TLB entries matter only in ring 3.  The flusher (under
 * the big lock) bumps a generation; every CPU compares it with the one its
 * TLB has seen on each way out to ring 3, and flushes if it moved.  CPUs
 * in ring 3 at the time are sent VEC_TLB, which makes them leave it, and
 * the flusher waits only until they have (their ustate changed), never
 * for an acknowledgement: a CPU spinning on the lock with interrupts
 * masked is not in ring 3, so it cannot deadlock the flush.  ustate's
 * increment and the generation's are each followed by a full fence before
 * the other is read (Dekker), so a CPU on its way out either is seen in
 * ring 3 or sees the new generation. */
uint64_t tlb_gen; /* svm.c reads it too */

static void shootdown(void)
{
	uint64_t seen[MAX_CPUS];
	unsigned me = arch_cpu_id();
	__atomic_add_fetch(&tlb_gen, 1, __ATOMIC_SEQ_CST);
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		seen[c] = __atomic_load_n(&pcpus[c].ustate, __ATOMIC_SEQ_CST);
		if (c != me && cpus[c].online && (seen[c] & 1))
			lapic_send_ipi((uint32_t)cpus[c].hwid, VEC_TLB);
	}
	for (unsigned c = 0; c < MAX_CPUS; c++)
		while (c != me && cpus[c].online && (seen[c] & 1) &&
		       __atomic_load_n(&pcpus[c].ustate, __ATOMIC_ACQUIRE) == seen[c])
			arch_cpu_relax();
}

/* This CPU's own TLB is flushed on its way out too (the generation moved). */
void arch_tlb_flush_page(unsigned vmid, uint64_t va)
{
	(void)vmid, (void)va;
	shootdown();
}

void arch_tlb_flush_all(void) { shootdown(); }

/* Not needed: x86 guests shoot down their own TLBs with IPIs (svm.c
 * keeps ASIDs apart per CPU); no VMM asks. */
err_t arch_guest_fence(unsigned vmid, paddr_t root, unsigned what)
{
	(void)vmid, (void)root, (void)what;
	return E_NOSYS;
}

void arch_ipi_send(unsigned cpu) { lapic_send_ipi((uint32_t)cpus[cpu].hwid, VEC_IPI); }
unsigned arch_ipi_irq(void) { return VEC_IPI; }

/* --- Into ring 3 -------------------------------------------------------- */


/* A pc or sp that the CPU would refuse (iretq raises #GP in ring 0 on a
 * non-canonical rip): the thread faults instead, on this CPU's empty stack. */
_Noreturn static void bad_state(struct arch_regs *r)
{
	kernel_fault(thread_of(r), FAULT_PAGE, canonical(r->pc) ? r->sp : r->pc, 0, false);
}

_Noreturn void x86_leave(struct pcpu *p, struct arch_regs *r)
{
	p->rsp0 = (uintptr_t)(&r->ss + 1);
	__builtin_memcpy(p->tss_rsp0, &p->rsp0, 8);
	__atomic_add_fetch(&p->ustate, 1, __ATOMIC_SEQ_CST); /* odd: in ring 3 */
	uint64_t gen = __atomic_load_n(&tlb_gen, __ATOMIC_SEQ_CST);
	if (__builtin_expect(gen != p->tlb_seen, 0)) {
		p->tlb_seen = gen;
		if (pcid)
			flush_all_pcids();
		load_space(p);
	}
	/* sysret only to a lower-half rip: a non-canonical rcx would fault in
	 * ring 0 on the user's stack (Intel) */
	if (__builtin_expect(r->entry && r->pc >> 47 == 0, 1))
		x86_sysret(r);
	if (!canonical(r->pc) || !canonical(r->sp)) {
		__atomic_add_fetch(&p->ustate, 1, __ATOMIC_SEQ_CST);
		__asm__ volatile("mov %0, %%rsp; mov %1, %%rdi; jmp *%2"
				 :: "r"(p->cpu->stack_top), "r"(r), "r"(bad_state) : "memory");
		__builtin_unreachable();
	}
	x86_iret(r);
}

/* The space (root, vmid) on this CPU, if it is not there already. */
void x86_switch_space(struct pcpu *p, paddr_t root, unsigned vmid)
{
	if (root.pa != p->space || vmid != p->vmid) {
		p->space = root.pa;
		p->vmid = vmid;
		load_space(p); /* a flush without PCID; with it, x86_leave()'s generation test */
	}
}

_Noreturn void arch_user_enter(struct arch_regs *r, paddr_t root, unsigned vmid)
{
	struct pcpu *p = pcpu_this();
	if (p->cpu->vcpu_in) /* a guest's thread: VMRUN, not ring 3 (svm.c) */
		x86_vcpu_enter(p, r, root, vmid);
	x86_switch_space(p, root, vmid);
	x86_leave(p, r);
}

/* --- From ring 3: system calls in syscall.c --------------------------------- */

static void handle_irq(void)
{
	unsigned v = (unsigned)pcpu_this()->irq_vec;
	if (v != VEC_SPURIOUS) {
		irq_dispatch(v);
		lapic_eoi();
	}
}

enum { X86_UD = 6, X86_NM = 7, X86_GP = 13, X86_PF = 14, X86_AC = 17 };

_Noreturn void x86_user_trap(struct arch_regs *r)
{
	struct thread *t = thread_of(r);
	uint64_t v = r->vector;
	if (__builtin_expect(v == VEC_SYSCALL, 1))
		x86_syscall(r, &cpus[arch_cpu_id()]);
	if (v == VEC_TLB) { /* leaving ring 3 was the point; x86_leave() flushes */
		lapic_eoi();
		x86_leave(pcpu_this(), r);
	}
	if (v >= 32) {
		pcpu_this()->irq_vec = v;
		kernel_interrupt(handle_irq);
	}
	switch (v) {
	case X86_NM:
		kernel_fp_unavailable(t);
	case X86_PF:
		if (space_stale(pcpu_this())) { /* a new table since this CPU copied */
			load_space(pcpu_this());
			x86_leave(pcpu_this(), r);
		}
		__asm__ volatile("mov %%cr2, %0" : "=r"(r->cr2));
		kernel_fault(t, FAULT_PAGE, r->cr2, r->error, r->error & 2);
	case X86_AC:
		kernel_fault(t, FAULT_ALIGN, r->pc, v << 32 | r->error, false);
	default: /* #UD, #GP (privileged or I/O instructions, int n), #DE... */
		kernel_fault(t, FAULT_UNDEFINED, r->pc, v << 32 | r->error, false);
	}
}
