/* HS-mode trap dispatch, CSR probing, and the report for exceptions the
 * kernel did not expect. */
#include "arch/riscv64/riscv.h"
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/irq.h"
#include "hyp/panic.h"
#include "hyp/printk.h"

struct trap_frame {
	uint64_t x[32]; /* x[0] unused; x[2] is the sp before the trap */
	uint64_t sepc, sstatus, scause, stval;
};
_Static_assert(sizeof(struct trap_frame) == 36 * 8, "trap.S FRAME");

extern char riscv_trap_entry[];

/* Probing runs on the boot hart only, before the others start. */
static volatile bool probing, probe_faulted;

static const char *const exc_names[] = {
	"instruction address misaligned", "instruction access fault",
	"illegal instruction", "breakpoint", "load address misaligned",
	"load access fault", "store address misaligned", "store access fault",
	"ecall from U/VU-mode", "ecall from HS-mode", "ecall from VS-mode",
	"ecall from M-mode", "instruction page fault", "load page fault",
	"reserved", "store page fault", "reserved", "reserved", "reserved",
	"reserved", "instruction guest-page fault", "load guest-page fault",
	"virtual instruction", "store guest-page fault",
};

/* sscratch 0: a trap comes from the kernel (entry.S). */
void riscv_trap_init(void)
{
	csr_write(sscratch, 0);
	csr_write(stvec, (uintptr_t)riscv_trap_entry);
}

/* An IPI (SBI IPI: the supervisor software interrupt) stays pending until
 * sip.SSIP is cleared, which must happen before the handler looks for
 * work, or a second IPI sent meanwhile would be lost. */
void riscv_local_irq(unsigned cause)
{
	if (cause == IRQ_S_SOFT)
		csr_clear(sip, 1ull << IRQ_S_SOFT);
	irq_dispatch(RISCV_IRQ_LOCAL + cause);
}

bool riscv_probe(void (*fn)(void))
{
	probe_faulted = false;
	probing = true;
	fn();
	probing = false;
	return !probe_faulted;
}

/* Per hart: 1 while riscv_guest_fetch16 loads, 2 once that load faulted. */
static volatile uint8_t guest_fetch[MAX_CPUS];

int64_t riscv_guest_fetch16(uint64_t va)
{
	volatile uint8_t *state = &guest_fetch[arch_cpu_id()];
	uint64_t v = 0;
	*state = 1;
	__asm__ volatile(".insn r 0x73, 4, 0x32, %0, %1, x3" /* hlvx.hu */
			 : "+r"(v) : "r"(va) : "memory");
	bool faulted = *state == 2;
	*state = 0;
	return faulted ? -1 : (int64_t)v;
}

static void dump(const struct trap_frame *f)
{
	uint64_t c = f->scause;
	printk("cairn: unexpected exception: %s (scause %lu) on cpu%u\n",
	       c < ARRAY_SIZE(exc_names) ? exc_names[c] : "reserved", c, arch_cpu_id());
	printk("  sepc 0x%016lx  stval 0x%016lx  sstatus 0x%016lx\n",
	       f->sepc, f->stval, f->sstatus);
	static const char *const abi[32] = {
		"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
		"a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
		"s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
	};
	for (unsigned i = 1; i < 32; i += 3) {
		for (unsigned j = i; j < i + 3 && j < 32; j++)
			printk("  %-4s 0x%016lx", abi[j], f->x[j]);
		printk("\n");
	}
}

void riscv_trap(struct trap_frame *f)
{
	if (f->scause & SCAUSE_IRQ) {
		unsigned cause = f->scause & 63;
		if (cause == IRQ_S_EXT)
			plic_handle();
		else
			riscv_local_irq(cause);
		return;
	}
	if (guest_fetch[arch_cpu_id()] == 1) { /* its own trap: the load is skipped */
		guest_fetch[arch_cpu_id()] = 2;
		f->sepc += 4;
		return;
	}
	if (probing && f->scause == EXC_ILLEGAL_INSN) {
		probe_faulted = true;
		f->sepc += 4; /* CSR instructions are never compressed */
		return;
	}
	dump(f);
	panic("unexpected exception");
}
