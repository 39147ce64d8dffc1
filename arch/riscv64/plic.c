/* The platform-level interrupt controller (PLIC), one S-mode context per
 * hart, found through interrupts-extended.  Local interrupts (the timer)
 * are enabled in sie instead.  Also reports whether the platform has the
 * Advanced Interrupt Architecture (APLIC/IMSIC), which guests will want. */
#include <libfdt.h>

#include "arch/riscv64/riscv.h"
#include "hyp/arch.h"
#include "hyp/cpu.h"
#include "hyp/dtb.h"
#include "hyp/irq.h"
#include "hyp/printk.h"

#define PLIC_PRIORITY(src) (4 * (src))
#define PLIC_ENABLE(ctx, src) (0x2000 + 0x80 * (ctx) + 4 * ((src) / 32))
#define PLIC_THRESHOLD(ctx) (0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx) (0x200004 + 0x1000 * (ctx))
#define CTX_NONE 0xffffffffu

static volatile uint8_t *plic;
static unsigned ndev;
static struct { uint64_t hart; unsigned ctx; } contexts[MAX_CPUS];
static unsigned ncontexts;

static inline volatile uint32_t *reg(uint64_t off)
{
	return (volatile uint32_t *)(plic + off);
}

/* Hart id of the cpu whose interrupt-controller child has `phandle`. */
static bool hart_of_intc(const void *fdt, uint32_t phandle, uint64_t *hart)
{
	int intc = fdt_node_offset_by_phandle(fdt, phandle);
	int cpu = intc < 0 ? intc : fdt_parent_offset(fdt, intc);
	int len;
	const fdt32_t *r = cpu < 0 ? NULL : fdt_getprop(fdt, cpu, "reg", &len);
	if (!r || len < 4)
		return false;
	*hart = len >= 8 ? (uint64_t)fdt32_to_cpu(r[0]) << 32 | fdt32_to_cpu(r[1]) :
			   fdt32_to_cpu(r[0]);
	return true;
}

/* interrupts-extended: one <intc-phandle cause> pair per context. */
static unsigned find_contexts(const void *fdt, int node)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, "interrupts-extended", &len);
	for (int ctx = 0; p && (ctx + 1) * 8 <= len && ncontexts < MAX_CPUS; ctx++) {
		uint64_t hart;
		if (fdt32_to_cpu(p[2 * ctx + 1]) == IRQ_S_EXT &&
		    hart_of_intc(fdt, fdt32_to_cpu(p[2 * ctx]), &hart))
			contexts[ncontexts++] = (typeof(contexts[0])){ hart, ctx };
	}
	return ncontexts;
}

static bool has(const void *fdt, const char *compatible)
{
	return fdt_node_offset_by_compatible(fdt, -1, compatible) >= 0;
}

err_t arch_irq_init(const struct boot_info *bi)
{
	const void *fdt = bi->fdt;
	int node = fdt_node_offset_by_compatible(fdt, -1, "riscv,plic0");
	if (node < 0)
		node = fdt_node_offset_by_compatible(fdt, -1, "sifive,plic-1.0.0");
	struct mem_range r;
	int len;
	const fdt32_t *nd = node < 0 ? NULL : fdt_getprop(fdt, node, "riscv,ndev", &len);
	bool aplic = has(fdt, "riscv,aplic"), imsic = has(fdt, "riscv,imsics");
	if (node < 0 && (aplic || imsic)) {
		/* Local interrupts work without it; device interrupts wait for
		 * an APLIC/IMSIC driver. */
		printk("irq: no PLIC; AIA: APLIC %s, IMSIC %s (not driven yet: "
		       "local interrupts only)\n", aplic ? "present" : "absent",
		       imsic ? "present" : "absent");
		return E_OK;
	}
	if (!nd || len != 4 || dtb_reg(fdt, node, 0, &r) != E_OK)
		return E_NOENT;
	ndev = fdt32_to_cpu(*nd);
	if (ndev >= RISCV_IRQ_LOCAL || !(plic = arch_map_device(r.base, r.size)))
		return ndev >= RISCV_IRQ_LOCAL ? E_RANGE : E_NOMEM;
	unsigned n = find_contexts(fdt, node);
	printk("irq: PLIC at 0x%lx, %u sources, S-mode contexts for %u of %u harts; "
	       "AIA: APLIC %s, IMSIC %s\n", r.base.pa, ndev, n, bi->ncpus,
	       aplic ? "present" : "absent", imsic ? "present" : "absent");
	return n ? E_OK : E_NOENT;
}

/* This hart's S-mode context, or CTX_NONE if the PLIC has none for it. */
static unsigned my_context(void)
{
	uint64_t hart = this_cpu()->hwid;
	for (unsigned i = 0; i < ncontexts; i++)
		if (contexts[i].hart == hart)
			return contexts[i].ctx;
	return CTX_NONE;
}

void arch_irq_init_cpu(void)
{
	csr_set(sie, SIE_SEIE);
	if (my_context() != CTX_NONE)
		*reg(PLIC_THRESHOLD(my_context())) = 0;
}

void arch_irq_unmask(unsigned irq)
{
	if (irq >= RISCV_IRQ_LOCAL) {
		csr_set(sie, 1ull << (irq - RISCV_IRQ_LOCAL));
		return;
	}
	if (irq == 0 || irq > ndev || my_context() == CTX_NONE)
		return;
	*reg(PLIC_PRIORITY(irq)) = 1;
	*reg(PLIC_ENABLE(my_context(), irq)) |= 1u << (irq % 32);
}

void arch_irq_mask(unsigned irq)
{
	if (irq >= RISCV_IRQ_LOCAL)
		csr_clear(sie, 1ull << (irq - RISCV_IRQ_LOCAL));
	else if (irq && irq <= ndev && my_context() != CTX_NONE)
		*reg(PLIC_ENABLE(my_context(), irq)) &= ~(1u << (irq % 32));
}

/* PLIC sources 1..ndev (0 without a PLIC); local interrupts (timer,
 * software IPIs) stay the kernel's. */
bool arch_irq_user_ok(uint64_t irq) { return irq >= 1 && irq <= ndev; }

void plic_handle(void)
{
	unsigned ctx = my_context();
	uint32_t src;
	while (ctx != CTX_NONE && (src = *reg(PLIC_CLAIM(ctx))) != 0) {
		irq_dispatch(src);
		*reg(PLIC_CLAIM(ctx)) = src; /* complete */
	}
}
