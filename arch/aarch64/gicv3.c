/* GICv3: distributor, one redistributor per CPU, system-register CPU
 * interface.  Split priority drop and deactivation (EOImode 1), so an
 * interrupt handed to user space later stays active until it is acked. */
#include <libfdt.h>

#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/sysreg.h"
#include "hyp/arch.h"
#include "hyp/dtb.h"
#include "hyp/irq.h"
#include "hyp/panic.h"
#include "hyp/printk.h"

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IGROUPR 0x0080
#define GICD_ICENABLER 0x0180
#define GICD_ISENABLER 0x0100
#define GICD_IPRIORITYR 0x0400
#define GICD_IROUTER 0x6000
#define GICD_CTLR_RWP (1u << 31)
#define GICD_CTLR_ARE_NS (1u << 4)
#define GICD_CTLR_GRP1 (1u << 1) /* EnableGrp1 (DS=1) / EnableGrp1A (NS view) */

#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_WAKER_SLEEP (1u << 1)
#define GICR_WAKER_ASLEEP (1u << 2)
#define GICR_TYPER_LAST (1u << 4)
#define GICR_TYPER_VLPIS (1u << 1)
#define GICR_SGI 0x10000 /* SGI/PPI frame */

#define IRQ_PRIO 0xa0
#define IRQ_SPURIOUS 1020

static volatile uint8_t *gicd, *gicr_base;
static uint64_t gicr_size;
static unsigned nr_lines;
static volatile uint8_t *gicr_of_cpu[MAX_CPUS];

static inline volatile uint32_t *reg32(volatile uint8_t *b, unsigned off)
{
	return (volatile uint32_t *)(b + off);
}

static void dist_wait(void)
{
	while (*reg32(gicd, GICD_CTLR) & GICD_CTLR_RWP)
		;
}

err_t arch_irq_init(const struct boot_info *bi)
{
	const void *fdt = bi->fdt;
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");
	struct mem_range d, r;
	if (node < 0 || dtb_reg(fdt, node, 0, &d) || dtb_reg(fdt, node, 1, &r))
		return E_NOENT;
	gicd = arch_map_device(d.base, d.size);
	gicr_base = arch_map_device(r.base, r.size);
	if (!gicd || !gicr_base)
		return E_NOMEM;
	gicr_size = r.size;
	nr_lines = MIN(32 * ((*reg32(gicd, GICD_TYPER) & 0x1f) + 1), 1020u);

	*reg32(gicd, GICD_CTLR) = 0;
	dist_wait();
	for (unsigned i = 32; i < nr_lines; i += 32) { /* SPIs: off, group 1 */
		*reg32(gicd, GICD_ICENABLER + i / 8) = ~0u;
		*reg32(gicd, GICD_IGROUPR + i / 8) = ~0u;
	}
	for (unsigned i = 32; i < nr_lines; i += 4)
		*reg32(gicd, GICD_IPRIORITYR + i) = IRQ_PRIO * 0x01010101u;
	for (unsigned i = 32; i < nr_lines; i++) /* SPIs to the boot CPU */
		*(volatile uint64_t *)(gicd + GICD_IROUTER + 8 * i) = arch_cpu_hwid();
	*reg32(gicd, GICD_CTLR) = GICD_CTLR_ARE_NS | GICD_CTLR_GRP1;
	dist_wait();
	printk("gic: GICv3 dist 0x%lx, redist 0x%lx (%lu KiB), %u lines\n",
	       d.base.pa, r.base.pa, r.size / KiB, nr_lines);
	return E_OK;
}

/* Find this CPU's redistributor by its affinity in GICR_TYPER[63:32]. */
static volatile uint8_t *find_redist(void)
{
	uint64_t mpidr = arch_cpu_hwid();
	uint32_t aff = (uint32_t)(((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff));
	for (uint64_t off = 0; off < gicr_size;) {
		volatile uint8_t *rd = gicr_base + off;
		uint64_t typer = *(volatile uint64_t *)(rd + GICR_TYPER);
		if ((uint32_t)(typer >> 32) == aff)
			return rd;
		if (typer & GICR_TYPER_LAST)
			break;
		off += (typer & GICR_TYPER_VLPIS) ? 0x40000 : 0x20000;
	}
	return NULL;
}

void arch_irq_init_cpu(void)
{
	volatile uint8_t *rd = find_redist();
	if (!rd)
		panic("gic: no redistributor for cpu%u", arch_cpu_id());
	gicr_of_cpu[arch_cpu_id()] = rd;
	*reg32(rd, GICR_WAKER) &= ~GICR_WAKER_SLEEP;
	while (*reg32(rd, GICR_WAKER) & GICR_WAKER_ASLEEP)
		;
	volatile uint8_t *sgi = rd + GICR_SGI;
	*reg32(sgi, GICD_ICENABLER) = ~0u;
	*reg32(sgi, GICD_IGROUPR) = ~0u;
	for (unsigned i = 0; i < 32; i += 4)
		*reg32(sgi, GICD_IPRIORITYR + i) = IRQ_PRIO * 0x01010101u;

	write_sysreg(ICC_SRE_EL2, read_sysreg(ICC_SRE_EL2) | 1 | (1 << 3));
	isb();
	write_sysreg(ICC_PMR_EL1, 0xff);
	write_sysreg(ICC_BPR1_EL1, 0);
	write_sysreg(ICC_CTLR_EL1, 1 << 1); /* EOImode: drop and deactivate apart */
	write_sysreg(ICC_IGRPEN1_EL1, 1);
	isb();
}

static void set_enable(unsigned irq, bool on)
{
	volatile uint8_t *b = irq < 32 ? gicr_of_cpu[arch_cpu_id()] + GICR_SGI : gicd;
	*reg32(b, (on ? GICD_ISENABLER : GICD_ICENABLER) + (irq / 32) * 4) =
		1u << (irq % 32);
}

void arch_irq_unmask(unsigned irq) { set_enable(irq, true); }
/* PPIs and the SPIs GICD_TYPER reports; SGIs are software's (the kernel's
 * IPIs), 1020-1023 are special INTIDs, beyond are LPIs (not supported). */
bool arch_irq_user_ok(uint64_t irq) { return irq >= 16 && irq < nr_lines; }
void arch_irq_mask(unsigned irq) { set_enable(irq, false); }

void gic_handle_irq(void)
{
	unsigned irq = read_sysreg(ICC_IAR1_EL1) & 0xffffff;
	if (irq >= IRQ_SPURIOUS && irq < 1024)
		return;
	write_sysreg(ICC_EOIR1_EL1, irq); /* priority drop */
	irq_dispatch(irq);
	write_sysreg(ICC_DIR_EL1, irq);   /* deactivate */
}
