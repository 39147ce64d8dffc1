/* The SMMUv3 (QEMU virt's iommu=smmuv3): the kernel owns it and confines
 * every PCI device's DMA to the I/O address space its stream is bound to
 * (mm/iospace.c).  Stage 1 only, as QEMU 7.2 implements: an I/O space is a
 * stage-1 table (the format below) named by one context descriptor per
 * stream, tagged with the space's ASID.  A stream bound to none aborts its
 * DMA.  The stream table is linear and covers bus 0 (256 stream IDs); the
 * command queue is driven synchronously (each batch ends with a CMD_SYNC
 * the kernel waits for), and the event queue is read when someone asks
 * for a stream's faults, so the SMMU needs no interrupt.  Everything runs
 * under the big kernel lock. */
#include <libfdt.h>
#include "arch/aarch64/sysreg.h"
#include "cairn/abi.h"
#include "hyp/arch.h"
#include "hyp/dtb.h"
#include "hyp/kmem.h"
#include "hyp/panic.h"
#include "hyp/printk.h"
#include "hyp/string.h"
#include "mm/pt.h"

enum {
	IDR0 = 0x00, IDR1 = 0x04, IDR5 = 0x14, CR0 = 0x20, CR0ACK = 0x24, CR1 = 0x28,
	CR2 = 0x2c, GERROR = 0x60, STRTAB_BASE = 0x80, STRTAB_BASE_CFG = 0x88,
	CMDQ_BASE = 0x90, CMDQ_PROD = 0x98, CMDQ_CONS = 0x9c, EVENTQ_BASE = 0xa0,
	EVENTQ_PROD = 0x100a8, EVENTQ_CONS = 0x100ac,
};
#define CR0_SMMUEN 1u
#define CR0_EVENTQEN 4u
#define CR0_CMDQEN 8u
#define SIDS_LOG2 8          /* bus 0 */
#define CMDQ_LOG2 6          /* 64 commands of 16 bytes */
#define EVTQ_LOG2 5          /* 32 events of 32 bytes */
#define Q_IDX(v, log2) ((v) & ((1u << (log2)) - 1))
#define Q_WRAP(v, log2) ((v) & (1u << (log2)))

/* The I/O page-table format: VMSAv8-64 stage 1, 4 KiB granule, 40-bit
 * input (T0SZ 24), from level 0 as the native spaces are.  MAIR index 0
 * is Normal write-back, 1 Device-nGnRE (the CD's MAIR below).  Entries are
 * non-global (nG): the SMMU's TLB keeps them per ASID. */
#define S1_AF (1ull << 10)
#define S1_NG (1ull << 11)
#define S1_SH_INNER (3ull << 8)
#define S1_AP_EL0 (1ull << 6)
#define S1_AP_RO (1ull << 7)
#define S1_ATTR_DEVICE (1ull << 2)
#define S1_XN (3ull << 53)
#define MAIR_VALUE 0x04ffull

static const struct pt_format io_stage1 = {
	.levels = 4,
	.block_min_level = 1,
	.oa_mask = 0x0000fffffffff000ull,
	.table_mask = 3, .table = 3,
	.valid = 1,
	.block = 1 | S1_AF | S1_NG | S1_AP_EL0,
	.page = 3 | S1_AF | S1_NG | S1_AP_EL0,
	.attr_clear = { [0] = S1_AP_RO, [1] = S1_XN, [3] = S1_SH_INNER },
	.attr_set = { [3] = S1_ATTR_DEVICE },
};

static volatile uint8_t *regs;
static uint64_t *strtab;     /* 8 words per stream */
static uint64_t *cds;        /* 8 words per stream: its one context descriptor */
static uint64_t *cmdq, *evtq;
static uint32_t cmdq_prod;
static uint64_t faults[1u << SIDS_LOG2], last_fault[1u << SIDS_LOG2];

static volatile uint32_t *reg32(unsigned off) { return (volatile uint32_t *)(regs + off); }
static volatile uint64_t *reg64(unsigned off) { return (volatile uint64_t *)(regs + off); }

const struct pt_format *arch_io_pt_format(void) { return regs ? &io_stage1 : NULL; }
unsigned arch_iommu_streams(void) { return regs ? 1u << SIDS_LOG2 : 0; }

static void cmd(uint64_t w0, uint64_t w1)
{
	uint64_t *c = &cmdq[2 * Q_IDX(cmdq_prod, CMDQ_LOG2)];
	c[0] = w0, c[1] = w1;
	cmdq_prod = (cmdq_prod + 1) & ((2u << CMDQ_LOG2) - 1);
	/* the queue may fill only if a batch is longer than it: none is */
}

/* Post what cmd() queued, with a CMD_SYNC, and wait until the SMMU has
 * done all of it: after this, no walk or TLB entry of the old state is
 * in use.  A command error stops the queue: that is a kernel bug. */
static void sync(void)
{
	cmd(0x46, 0);
	dsb(ishst);
	*reg32(CMDQ_PROD) = cmdq_prod;
	while (*reg32(CMDQ_CONS) != cmdq_prod)
		if (*reg32(GERROR) & 1)
			panic("smmu: command queue error 0x%x", *reg32(CMDQ_CONS) >> 24 & 0x7f);
}

static void ste_write(unsigned sid, uint64_t w0, uint64_t w1)
{
	uint64_t *ste = &strtab[8 * sid];
	ste[0] = 1; /* valid, abort, while it changes */
	dsb(ishst);
	cmd(0x03 | (uint64_t)sid << 32, 1); /* CFGI_STE, leaf */
	sync();
	ste[1] = w1;
	dsb(ishst);
	ste[0] = w0;
	dsb(ishst);
	cmd(0x03 | (uint64_t)sid << 32, 1);
	sync();
}

void arch_iommu_attach(unsigned sid, paddr_t root, unsigned asid)
{
	uint64_t *cd = &cds[8 * sid];
	/* T0SZ 24, 4 KiB, walks write-back inner shareable, TTB1 off, valid,
	 * IPS 44 bits, AArch64, record faults (R), abort (A), the ASID */
	cd[1] = pa_addr(root);
	cd[3] = MAIR_VALUE;
	dsb(ishst);
	cd[0] = (64 - USER_VA_BITS) | 1u << 8 | 1u << 10 | 3u << 12 | 1u << 30 | 1u << 31 |
		4ull << 32 | 1ull << 41 | 1ull << 45 | 1ull << 46 | (uint64_t)asid << 48;
	/* S1 translate (config 0b101), its CD; S1 walks write-back inner
	 * shareable */
	ste_write(sid, 1 | 5u << 1 | kmem_pa(cd).pa,
		  1u << 2 | 1u << 4 | 3u << 6);
	arch_iommu_flush(asid);
}

void arch_iommu_detach(unsigned sid)
{
	ste_write(sid, 1, 0); /* valid, config abort */
	cmd(0x05 | (uint64_t)sid << 32, 1); /* CFGI_CD */
	sync();
}

void arch_iommu_flush(unsigned asid)
{
	cmd(0x11 | (uint64_t)asid << 48, 0); /* TLBI_NH_ASID */
	sync();
}

/* Read the event queue: faults per stream, one line on the console per
 * stream and reading (a device's one stray burst is many events). */
static void drain_events(void)
{
	uint32_t cons = *reg32(EVENTQ_CONS), prod = *reg32(EVENTQ_PROD), mask = (2u << EVTQ_LOG2) - 1;
	uint64_t before[1u << SIDS_LOG2];
	memcpy(before, faults, sizeof(before));
	for (; (cons & mask) != (prod & mask); cons = (cons + 1) & mask) {
		const uint64_t *e = &evtq[4 * Q_IDX(cons, EVTQ_LOG2)];
		unsigned sid = (unsigned)(e[0] >> 32);
		if (sid < (1u << SIDS_LOG2))
			faults[sid]++, last_fault[sid] = e[2];
	}
	*reg32(EVENTQ_CONS) = cons;
	for (unsigned sid = 0; sid < (1u << SIDS_LOG2); sid++)
		if (faults[sid] != before[sid])
			printk("smmu: stream 0x%x: %lu faults, the last at 0x%lx\n", sid,
			       faults[sid] - before[sid], last_fault[sid]);
}

uint64_t arch_iommu_faults(unsigned sid, uint64_t *last)
{
	drain_events();
	*last = last_fault[sid];
	return faults[sid];
}

static void *table(unsigned order)
{
	void *p = kmem_alloc_pages(order);
	if (!p)
		panic("smmu: no memory for its tables");
	return p;
}

err_t arch_iommu_init(const struct boot_info *bi)
{
	int node = fdt_node_offset_by_compatible(bi->fdt, -1, "arm,smmu-v3");
	struct mem_range r;
	if (node < 0 || !dtb_node_enabled(bi->fdt, node) || dtb_reg(bi->fdt, node, 0, &r))
		return E_NOENT;
	regs = arch_map_device(r.base, r.size);
	if (!regs)
		return E_NOMEM;
	if ((*reg32(IDR0) & 3) != 2 || (*reg32(IDR0) >> 2 & 3) < 2 ||
	    (*reg32(IDR1) & 0x3f) < SIDS_LOG2) { /* stage 1, AArch64 tables, bus 0 */
		regs = NULL;
		return E_INVAL;
	}
	*reg32(CR0) = 0;
	while (*reg32(CR0ACK))
		;
	strtab = table(2), cds = table(2), cmdq = table(0), evtq = table(0);
	for (unsigned sid = 0; sid < (1u << SIDS_LOG2); sid++)
		strtab[8 * sid] = 1; /* valid, abort: no DMA until bound */
	dsb(ishst);
	*reg32(CR1) = 3u << 10 | 1u << 8 | 1u << 6 | 3u << 4 | 1u << 2 | 1u; /* WB, inner shareable */
	*reg32(CR2) = 2;                                                     /* record bad stream IDs */
	*reg64(STRTAB_BASE) = 1ull << 62 | kmem_pa(strtab).pa;
	*reg32(STRTAB_BASE_CFG) = SIDS_LOG2;                                 /* linear */
	*reg64(CMDQ_BASE) = 1ull << 62 | kmem_pa(cmdq).pa | CMDQ_LOG2;
	*reg32(CMDQ_PROD) = *reg32(CMDQ_CONS) = 0;
	*reg64(EVENTQ_BASE) = 1ull << 62 | kmem_pa(evtq).pa | EVTQ_LOG2;
	*reg32(EVENTQ_PROD) = *reg32(EVENTQ_CONS) = 0;
	*reg32(CR0) = CR0_CMDQEN | CR0_EVENTQEN;
	while (*reg32(CR0ACK) != (CR0_CMDQEN | CR0_EVENTQEN))
		;
	cmd(0x04, 31); /* CFGI_ALL */
	cmd(0x10, 0);  /* TLBI_NH_ALL */
	sync();
	*reg32(CR0) = CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN;
	while (!(*reg32(CR0ACK) & CR0_SMMUEN))
		;
	printk("smmu: SMMUv3 at 0x%lx, %u streams, every device's DMA aborted until bound\n",
	       r.base.pa, 1u << SIDS_LOG2);
	return E_OK;
}
