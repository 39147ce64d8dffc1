/* EL2 trap dispatch and the report for exceptions the kernel did not expect. */
#include "arch/aarch64/aarch64.h"
#include "hyp/arch.h"
#include "hyp/panic.h"
#include "hyp/printk.h"

/* Vector index (offset / 0x80): origin * 4 + sync/irq/fiq/serror. */
enum vector_kind { CUR_SPX_IRQ = 5, LOW64_IRQ = 9 };

static const char *const kind_names[4] = { "sync", "irq", "fiq", "serror" };
static const char *const origin_names[4] = {
	"EL2 with SP_EL0", "EL2", "lower EL (AArch64)", "lower EL (AArch32)",
};

static const struct { uint8_t ec; const char *name; } ec_names[] = {
	{ 0x00, "unknown reason" },         { 0x01, "WFI/WFE" },
	{ 0x07, "FP/SIMD access" },         { 0x0e, "illegal execution state" },
	{ 0x15, "SVC (AArch64)" },          { 0x16, "HVC (AArch64)" },
	{ 0x17, "SMC (AArch64)" },          { 0x18, "MSR/MRS/system instruction" },
	{ 0x20, "instruction abort, lower EL" }, { 0x21, "instruction abort, same EL" },
	{ 0x22, "PC alignment fault" },     { 0x24, "data abort, lower EL" },
	{ 0x25, "data abort, same EL" },    { 0x26, "SP alignment fault" },
	{ 0x2f, "SError" },                 { 0x3c, "BRK instruction" },
};

static const char *ec_name(unsigned ec)
{
	for (unsigned i = 0; i < ARRAY_SIZE(ec_names); i++)
		if (ec_names[i].ec == ec)
			return ec_names[i].name;
	return "reserved/unhandled class";
}

/* Fault status code of instruction and data aborts (ESR.ISS[5:0]). */
static void print_fault_status(uint64_t esr)
{
	unsigned fsc = esr & 0x3f, level = fsc & 3;
	const char *what = (fsc & 0x3c) == 0x04 ? "translation fault" :
			   (fsc & 0x3c) == 0x08 ? "access flag fault" :
			   (fsc & 0x3c) == 0x0c ? "permission fault" :
			   fsc == 0x21 ? "alignment fault" :
			   fsc == 0x10 ? "synchronous external abort" : "other fault";
	printk("  fault: %s at level %u%s\n", what, level,
	       (esr >> 26) == 0x24 || (esr >> 26) == 0x25 ?
	       ((esr & (1u << 6)) ? ", on write" : ", on read") : "");
}

static void dump(const struct trap_frame *f, unsigned kind)
{
	unsigned ec = f->esr >> 26;
	printk("cairn: unexpected exception: %s from %s on cpu%u\n",
	       kind_names[kind & 3], origin_names[kind >> 2], arch_cpu_id());
	printk("  ESR 0x%08lx: EC 0x%02x %s, IL %lu, ISS 0x%07lx\n", f->esr, ec,
	       ec_name(ec), (f->esr >> 25) & 1, f->esr & 0x1ffffff);
	if (ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25)
		print_fault_status(f->esr);
	printk("  ELR 0x%016lx  FAR 0x%016lx  SPSR 0x%08lx  SP 0x%016lx\n",
	       f->elr, f->far, f->spsr, f->sp);
	for (unsigned i = 0; i < 31; i += 3) {
		for (unsigned j = i; j < i + 3 && j < 31; j++)
			printk("  x%-2u 0x%016lx", j, f->x[j]);
		printk("\n");
	}
}

void aarch64_trap(struct trap_frame *f, unsigned kind)
{
	if (kind == CUR_SPX_IRQ || kind == LOW64_IRQ) {
		gic_handle_irq();
		return;
	}
	dump(f, kind);
	panic("unexpected exception");
}
