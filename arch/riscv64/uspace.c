/* Native threads on riscv64: how they are translated, how they enter the
 * kernel, and the TLB, IPI and FP operations generic code asks for.
 *
 * Design (the AArch64 one, docs/ARCHITECTURE.md): native threads run in
 * VU-mode (hstatus.SPV = 1, sstatus.SPP = 0) with vsatp bare, so their
 * addresses are guest-physical and only the G-stage (hgatp) translates
 * them.  A native address space is a G-stage table tagged by a VMID: a
 * switch is one hgatp write, satp stays the kernel's identity map, and
 * guests (VS-mode, later) reuse the same tables and VMIDs.  Every VU-mode
 * exception and every HS interrupt traps to HS (hedeleg = hideleg = 0). */
#include "arch/riscv64/riscv.h"
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/fp.h"
#include "hyp/kernel.h"
#include "mm/aspace.h"
#include "mm/pt.h"
#include "vcpu/vcpu.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4) /* G-stage accesses are all user accesses */
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7) /* set up front: no A/D faults to serve */

/* Sv39x4: 41-bit guest-physical addresses (USER_VA_BITS is 40) in three
 * levels, the root four concatenated pages (16 KiB, mm/aspace.c allocates
 * it whole); 1 GiB leaves at the root, 2 MiB at level 1.  Every hart with
 * the H extension and Sv39 has it; Sv48x4 would add a level for nothing.
 * Device memory needs no PTE bits: the platform's PMAs make MMIO uncached. */
static const struct pt_format sv39x4 = {
	.levels = 3, .block_min_level = 0, .root_extra_bits = 2, .oa_shift = 2,
	.oa_mask = 0x003ffffffffffc00ull,
	.table_mask = PTE_V | PTE_R | PTE_W | PTE_X, .table = PTE_V,
	.valid = PTE_V,
	.block = PTE_V | PTE_R | PTE_U | PTE_A | PTE_D,
	.page = PTE_V | PTE_R | PTE_U | PTE_A | PTE_D,
	.attr_set = { [0] = PTE_W, [1] = PTE_X },
};

const struct pt_format *arch_user_pt_format(void) { return &sv39x4; }
unsigned arch_vmid_bits(void) { return riscv_vmid_bits(); }
uint64_t arch_space_root(paddr_t root, unsigned vmid) { return riscv_hgatp(vmid, root); }

/* The harts each VMID has been loaded on (bit = cpu id).  A flush goes
 * only there: HS-mode has no broadcast invalidation, and SBI RFENCE to
 * every hart costs an M-mode IPI round trip through each of them, which
 * made the 4-hart suite 100 times slower.  A bit is set (with a full
 * fence) before the hart loads the VMID, and a flush reads the mask after
 * the PTE change and a full fence, so a hart it misses walks the new
 * tables.  Bits are never cleared (stale entries may stay in a hart's TLB
 * for as long as the VMID is not flushed there): at worst a flush goes to
 * harts that no longer need it. */
uint64_t riscv_vmid_harts[1u << 14]; /* set by arch_user_enter (entry.S) */
_Static_assert(__builtin_offsetof(struct cpu, id) == 8, "entry.S CPU_ID");

/* Per hart: 0 awake, 1 asleep in arch_wait_for_interrupt (cpu.c), 2 asleep
 * and owing a flush of every VMID, which it does as it swaps the word back
 * to 0 on waking.  A G-stage flush moves a sleeping hart from 1 to 2 instead
 * of waiting for it: one that wakes first finds 0 there and is fenced.
 * Besides sparing a sleeper an M-mode IPI, this keeps -icount's round robin
 * going: OpenSBI's RFENCE spins until the other hart has flushed, and QEMU
 * 7.2 then never gives that hart a turn (docs/PERF.md). */
uint64_t riscv_hart_spared[MAX_CPUS];

static bool spared(unsigned c)
{
	uint64_t asleep = 1;
	return __atomic_compare_exchange_n(&riscv_hart_spared[c], &asleep, 2, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) || asleep == 2;
}

/* The harts other than this one that have loaded the VMID, as an SBI hart
 * mask (all ones: every hart, where one's id is 64 or more), and whether
 * this one has; with `spare`, not those asleep (spared).  Read after a full
 * fence, so after the PTE change a flush follows. */
static uint64_t vmid_harts(unsigned vmid, bool *here, bool spare)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint64_t mask = __atomic_load_n(&riscv_vmid_harts[vmid], __ATOMIC_RELAXED), harts = 0;
	unsigned self = this_cpu()->id;
	*here = mask & (1ull << self);
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (c != self && (mask & (1ull << c)) && !(spare && spared(c)))
			harts |= cpus[c].hwid < 64 ? 1ull << cpus[c].hwid : ~0ull;
	return harts;
}

/* This hart by HFENCE.GVMA for the VMID, the others it ran on by SBI
 * RFENCE, a whole VMID even for one page: by address only leaf entries
 * need go, and mm/aspace.c frees the tables an unmap empties next (and see
 * sbi_hfence_gvma). */
void arch_tlb_flush_page(unsigned vmid, uint64_t va)
{
	(void)va;
	bool here;
	uint64_t harts = vmid_harts(vmid, &here, true);
	if (here)
		__asm__ volatile(".insn r 0x73, 0, 0x31, x0, x0, %0" : : "r"((uint64_t)vmid) : "memory");
	if (harts)
		sbi_hfence_gvma_harts(harts, vmid);
}

/* A guest's own fences (SFENCE.VMA, FENCE.I) act on the hart it runs on;
 * its VMM asks this for the others (SBI RFENCE, AS_GUEST_FENCE): every
 * hart that ran the VMID drops its guest-virtual (VS-stage) translations
 * and fetches instructions afresh, here directly, elsewhere through SBI
 * RFENCE, which returns once they have.  HFENCE.VVMA acts on the VMID in
 * hgatp, and the firmware's remote one takes the caller's: so hgatp holds
 * the guest's meanwhile (no access is translated by it in HS-mode, so the
 * hart caches nothing of it; the caller's comes back before anything
 * runs). */
err_t arch_guest_fence(unsigned vmid, paddr_t root, unsigned what)
{
	bool here;
	uint64_t harts = vmid_harts(vmid, &here, false); /* VS-stage entries too */
	long failed = 0;
	if ((what & GUEST_FENCE_ICACHE) && here)
		riscv_fence_i();
	if ((what & GUEST_FENCE_ICACHE) && harts)
		failed |= sbi_fence_i_harts(harts);
	if (what & GUEST_FENCE_TLB) {
		uint64_t mine = csr_read(hgatp);
		csr_write(hgatp, riscv_hgatp(vmid, root));
		if (here)
			riscv_hfence_vvma_all();
		if (harts)
			failed |= sbi_hfence_vvma_harts(harts);
		csr_write(hgatp, mine);
	}
	return failed ? E_NOSYS : E_OK; /* the firmware could not */
}

void arch_tlb_flush_all(void) { sbi_hfence_gvma(true, 0); }

void arch_regs_init(struct arch_regs *r) { *r = (struct arch_regs){ .pc = 0 }; }

void arch_ipi_send(unsigned cpu) { sbi_send_ipi(cpus[cpu].hwid); }
unsigned arch_ipi_irq(void) { return RISCV_IRQ_LOCAL + IRQ_S_SOFT; }

/* sstatus.FS gates FP for VU-mode together with vsstatus.FS, which stays
 * Initial: FS Off makes every FP instruction an illegal-instruction trap. */
void arch_fp_trap(bool trap)
{
	if (trap)
		csr_clear(sstatus, SSTATUS_FS);
	else
		csr_set(sstatus, SSTATUS_FS);
}

void arch_user_init_cpu(void)
{
	csr_write(0x602, 0);      /* hedeleg: every VU exception to HS */
	csr_write(0x603, 0);      /* hideleg: no interrupt to VS */
	csr_write(0x645, 0);      /* hvip */
	csr_write(0x280, 0);      /* vsatp: bare, addresses are guest-physical */
	csr_write(0x200, 1ull << 13); /* vsstatus.FS Initial */
	/* VU-mode reads cycle, time and instret (the benchmarks' counters,
	 * counter_now): both hcounteren and scounteren must allow it. */
	csr_write(0x606, 7);      /* hcounteren */
	csr_write(scounteren, 7);
	arch_fp_trap(true);
	riscv_vcpu_init_cpu();
	__asm__ volatile(".word 0x62000073" ::: "memory"); /* hfence.gvma: this hart, all VMIDs */
}

enum { EXC_INSN_MISALIGNED = 0, EXC_INSN_ACCESS = 1, EXC_BREAKPOINT = 3, EXC_LOAD_MISALIGNED = 4,
       EXC_LOAD_ACCESS = 5, EXC_STORE_MISALIGNED = 6, EXC_STORE_ACCESS = 7, EXC_ECALL_U = 8,
       EXC_INSN_PAGE = 12, EXC_LOAD_PAGE = 13, EXC_STORE_PAGE = 15, EXC_INSN_GPAGE = 20,
       EXC_LOAD_GPAGE = 21, EXC_STORE_GPAGE = 23 };

static void irq_local(void) { riscv_local_irq(csr_read(scause) & 63); }

/* Whether an illegal instruction (stval holds its bits where the hart
 * reports them, as QEMU does) needs the FP registers: FP loads, stores and
 * operations, the compressed loads and stores, fflags/frm/fcsr.  A hart
 * that reports 0 is given the FP state on trust. */
static bool fp_insn(uint64_t insn)
{
	unsigned op = insn & 0x7f, f3 = (insn >> 12) & 7;
	if (!insn)
		return true;
	if ((insn & 3) != 3) /* c.fld, c.fsd (quadrant 0), c.fldsp, c.fsdsp (2) */
		return (insn & 1) == 0 && ((insn >> 13) & 3) == 1;
	if (op == 0x07 || op == 0x27 || op == 0x53 || (op & 0x73) == 0x43)
		return true;
	return op == 0x73 && f3 != 0 && f3 != 4 && (insn >> 20) >= 1 && (insn >> 20) <= 3;
}

bool riscv_fp_first_use(uint64_t insn)
{
	return !(csr_read(sstatus) & SSTATUS_FS) && fp_insn(insn);
}

/* Entered from entry.S with the thread's registers saved in r, on the
 * kernel stack of this CPU (every trap from VU-mode but an ecall). */
_Noreturn void riscv_user_trap(struct arch_regs *r, uint64_t cause)
{
	struct thread *t = thread_of(r);
	if (t->vcpu) /* a guest: VS-mode or VU-mode, to return to (entry.S) */
		r->spp = csr_read(sstatus) & (1ull << 8);
	if (cause & SCAUSE_IRQ) {
		if (t->vcpu) /* the guest was interrupted (no lock: vcpu_count) */
			vcpu_count(t->vcpu, VC_IRQ);
		kernel_interrupt((cause & 63) == IRQ_S_EXT ? plic_handle : irq_local);
	}
	if (t->vcpu) /* its exits, never a native fault */
		riscv_guest_trap(t, r, cause, this_cpu()->id);
	uint64_t tval = csr_read(stval); /* no trap since this one: still its own */
	switch (cause) {
	case EXC_INSN_GPAGE:
	case EXC_LOAD_GPAGE:
	case EXC_STORE_GPAGE: /* htval is the guest-physical address >> 2 */
		kernel_fault(t, FAULT_PAGE, csr_read(htval) << 2 | (tval & 3), cause,
			     cause == EXC_STORE_GPAGE);
	case EXC_INSN_ACCESS:
	case EXC_LOAD_ACCESS:
	case EXC_STORE_ACCESS:
	case EXC_INSN_PAGE:
	case EXC_LOAD_PAGE:
	case EXC_STORE_PAGE:
		kernel_fault(t, FAULT_PAGE, tval, cause,
			     cause == EXC_STORE_ACCESS || cause == EXC_STORE_PAGE);
	case EXC_INSN_MISALIGNED:
	case EXC_LOAD_MISALIGNED:
	case EXC_STORE_MISALIGNED:
		kernel_fault(t, FAULT_ALIGN, tval, cause, false);
	case EXC_ILLEGAL_INSN:
		/* With FS Off any FP instruction lands here: the thread gets its
		 * FP state and retries. */
		if (riscv_fp_first_use(tval))
			kernel_fp_unavailable(t);
		kernel_fault(t, FAULT_UNDEFINED, r->pc, cause, false);
	default: /* breakpoint, virtual instruction (wfi, counters) */
		kernel_fault(t, FAULT_UNDEFINED, r->pc, cause, false);
	}
}
