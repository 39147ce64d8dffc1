/* virtio-pci for driver servers (vpci.h). */
#include "servers/lib/vpci.h"

enum { S_ACK = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8 };

err_t vpci_call(const struct vpci *v, enum pci_label label, uint64_t arg, uint64_t *out)
{
	struct sysregs call = { .mr = { arg }, .nr = SYS_CALL, .cap = v->pci,
				.info = msginfo(label, 1, 0) }, r = call;
	err_t e;
	while ((e = sys(&r)) == E_CANCELLED)
		r = call;
	*out = r.mr[1];
	return e ? e : (err_t)r.mr[0];
}

static uint32_t cfg(const struct vpci *v, unsigned off)
{
	uint64_t w;
	return vpci_call(v, PCI_CFG_READ, off, &w) ? ~0u : (uint32_t)w;
}

uint64_t frame_pa(cptr_t f)
{
	uint64_t info[5];
	return inv(SYS_FRAME_INFO, f, 0, 0, 0, 0, 0, 0, info) ? 0 : info[2];
}

static bool map_bars(struct vpci *v)
{
	if (!bootinfo->ndev)
		return false;
	v->bar_lo = bootinfo->dev[0].base;
	for (uint64_t i = 0; i < bootinfo->ndev; i++)
		for (uint64_t k = 0, off; k < bootinfo->dev[i].frames; k++) {
			uint64_t pa = bootinfo->dev[i].base + (k << FRAME_BITS_2M);
			cptr_t f = device_frame(pa, &off);
			if (!f || off || INV3(SYS_AS_MAP, ROOT_ASPACE, f, v->va + (pa - v->bar_lo),
					      R_READ | R_WRITE))
				return false;
			v->bar_hi = pa + (1ull << FRAME_BITS_2M);
		}
	return true;
}

/* Where this driver reaches [off, off + len) of BAR b, or NULL. */
static volatile uint8_t *bar_va(const struct vpci *v, unsigned b, uint64_t off, uint64_t len)
{
	uint32_t lo = cfg(v, 0x10 + 4 * b);
	uint64_t pa = lo & ~0xfull;
	if (lo & 1)
		return NULL; /* I/O space */
	if ((lo >> 1 & 3) == 2 && b < 5)
		pa |= (uint64_t)cfg(v, 0x14 + 4 * b) << 32;
	pa += off;
	if (pa < v->bar_lo || pa >= v->bar_hi || len > v->bar_hi - pa)
		return NULL;
	return (volatile uint8_t *)(v->va + (pa - v->bar_lo));
}

/* MSI-X table entry 0 given the message of MSI line irq, and MSI-X on:
 * the entry masked while it changes (a predecessor may have left it live),
 * then unmasked.  An INTx line (no message: E_INVAL) leaves MSI-X off. */
static bool msix_setup(struct vpci *v, cptr_t irq, unsigned cap)
{
	uint64_t m[5], unused;
	err_t e = inv(SYS_IRQ_MSI_MESSAGE, irq, 0, 0, 0, 0, 0, 0, m);
	if (e == E_INVAL)
		return true;
	uint32_t table = cap ? cfg(v, cap + 4) : 0; /* BIR in bits 2:0, offset the rest */
	volatile uint32_t *entry = cap && (table & 7) < 6 ?
		(volatile uint32_t *)bar_va(v, table & 7, table & ~7u, 16) : NULL;
	if (e || !entry)
		return false;
	entry[3] = 1; /* vector control: masked */
	entry[0] = (uint32_t)m[0], entry[1] = (uint32_t)(m[0] >> 32), entry[2] = (uint32_t)m[1];
	entry[3] = 0;
	v->msix = !vpci_call(v, PCI_MSIX, 0, &unused);
	return v->msix;
}

bool vpci_init(struct vpci *v, cptr_t pci, cptr_t irq, uint64_t va)
{
	*v = (struct vpci){ .pci = pci, .va = va };
	if (!map_bars(v))
		return false;
	unsigned at = cfg(v, 0x04) >> 16 & 0x10 ? cfg(v, 0x34) & 0xfc : 0, msix = 0;
	for (unsigned n = 0; at && n < 48; n++) { /* vendor capabilities, 4.1.4 */
		uint32_t w0 = cfg(v, at);
		if ((w0 & 0xff) == PCI_CAP_MSIX)
			msix = at;
		if ((w0 & 0xff) == 0x09) {
			unsigned type = w0 >> 24, b = cfg(v, at + 4) & 0xff;
			volatile uint8_t *p = b < 6 ? bar_va(v, b, cfg(v, at + 8), cfg(v, at + 12)) : NULL;
			if (type == 1)
				v->common = p;
			else if (type == 2)
				v->notify = p, v->notify_mul = cfg(v, at + 16);
			else if (type == 3)
				v->isr = p;
			else if (type == 4)
				v->devcfg = p;
		}
		at = w0 >> 8 & 0xfc;
	}
	return v->common && v->notify && v->isr && v->devcfg && msix_setup(v, irq, msix);
}

/* Vector 0 at register reg of the common configuration (msix_config, or
 * the selected queue's queue_msix_vector): read back, as the device
 * answers NO_VECTOR (0xffff) to one it cannot use (4.1.4.3). */
static bool msix_vector(volatile uint8_t *c, unsigned reg)
{
	VPCI_REG(uint16_t, c, reg) = 0;
	return VPCI_REG(uint16_t, c, reg) == 0;
}

bool vpci_begin(struct vpci *v, uint64_t want, uint64_t *got)
{
	volatile uint8_t *c = v->common;
	VPCI_REG(uint8_t, c, VPCI_C_STATUS) = 0;
	while (VPCI_REG(uint8_t, c, VPCI_C_STATUS))
		;
	VPCI_REG(uint8_t, c, VPCI_C_STATUS) = S_ACK | S_DRIVER;
	if (v->msix && !msix_vector(c, VPCI_C_MSIX)) /* the reset left none */
		return false;
	want |= 1ull << 32 | 1ull << VIRTIO_F_ACCESS_PLATFORM; /* VERSION_1 */
	uint64_t offered = 0;
	for (unsigned w = 0; w < 2; w++) {
		VPCI_REG(uint32_t, c, VPCI_C_DFSEL) = w;
		offered |= (uint64_t)VPCI_REG(uint32_t, c, VPCI_C_DF) << (32 * w);
	}
	*got = offered & want;
	if (!(*got & 1ull << 32))
		return false;
	for (unsigned w = 0; w < 2; w++) {
		VPCI_REG(uint32_t, c, VPCI_C_GFSEL) = w;
		VPCI_REG(uint32_t, c, VPCI_C_GF) = (uint32_t)(*got >> (32 * w));
	}
	VPCI_REG(uint8_t, c, VPCI_C_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK;
	return VPCI_REG(uint8_t, c, VPCI_C_STATUS) & S_FEATURES_OK;
}

bool vpci_queue(struct vpci *v, unsigned q, unsigned size, const uint64_t ring[3],
		uint16_t *noff)
{
	volatile uint8_t *c = v->common;
	VPCI_REG(uint16_t, c, VPCI_C_QSEL) = (uint16_t)q;
	if (VPCI_REG(uint16_t, c, VPCI_C_QSIZE) < size ||
	    (v->msix && !msix_vector(c, VPCI_C_QMSIX)))
		return false;
	VPCI_REG(uint16_t, c, VPCI_C_QSIZE) = (uint16_t)size;
	for (unsigned i = 0; i < 3; i++) { /* descriptors, driver area, device area */
		VPCI_REG(uint32_t, c, VPCI_C_QDESC + 8 * i) = (uint32_t)ring[i];
		VPCI_REG(uint32_t, c, VPCI_C_QDESC + 8 * i + 4) = (uint32_t)(ring[i] >> 32);
	}
	*noff = VPCI_REG(uint16_t, c, VPCI_C_QNOFF);
	VPCI_REG(uint16_t, c, VPCI_C_QENABLE) = 1;
	return true;
}

bool vpci_go(struct vpci *v)
{
	uint64_t unused;
	if (vpci_call(v, PCI_ENABLE, 0, &unused)) /* bus mastering: DMA from here on */
		return false;
	VPCI_REG(uint8_t, v->common, VPCI_C_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
	return true;
}

bool vpci_confine(cptr_t stream, const cptr_t *frames, const uint64_t *iova, unsigned n)
{
	cptr_t io = slot_alloc();
	if (!io || retype(ROOT_MEMORY, OBJ_ASPACE, 1, ROOT_CNODE, io))
		return false;
	for (unsigned i = 0; i < n; i++) {
		cptr_t c = slot_alloc();
		if (!c || INV4(SYS_CNODE_COPY, ROOT_CNODE, c, ROOT_CNODE, frames[i], R_READ | R_WRITE) ||
		    INV3(SYS_AS_MAP, io, c, iova[i], R_READ | R_WRITE))
			return false;
	}
	return !INV1(SYS_STREAM_BIND, stream, io);
}
