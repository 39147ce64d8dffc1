/* The guest's ACPI tables, what a PC's firmware would leave: an RSDP, an
 * XSDT, a FADT for a hardware-reduced platform (no PM timer, SCI or 8259:
 * Linux then needs no PIT either) with its sleep control and reset
 * registers on I/O ports (arch.c: S5 powers off, the reset register
 * resets), a MADT (a local APIC per VCPU, the IOAPIC) and a DSDT with _S5
 * and the virtio-mmio slots (LNRO0005, the ACPI name Linux's virtio_mmio
 * matches).  Offsets and layouts are ACPI 6.0's. */
#include "servers/vmm/vmm.h"

#define RSDP_OFF 0x000
#define XSDT_OFF 0x040
#define FADT_OFF 0x100
#define MADT_OFF 0x300
#define DSDT_OFF 0x400
#define FADT_LEN 276
#define FADT_HW_REDUCED (1u << 20)
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_POWER_BUTTON (1u << 4)     /* no fixed buttons */
#define FADT_SLEEP_BUTTON (1u << 5)
#define BOOT_NO_VGA 0x4
#define BOOT_NO_CMOS_RTC 0x20

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t sum(const uint8_t *p, unsigned n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* A table's header; the checksum is set once the table is whole. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "CAIRN ", 6);
	memcpy(t + 16, "CAIRNVMM", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "CRN ", 4);
	put32(t + 32, 1);
}

static void seal(uint8_t *t)
{
	uint32_t len;
	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = (uint8_t)-sum(t, len);
}

/* A generic address of one byte in I/O space. */
static void gas_port(uint8_t *g, unsigned port)
{
	g[0] = 1, g[1] = 8, g[2] = 0, g[3] = 1;
	put64(g + 4, port);
}

static void fadt(uint8_t *t, uint64_t dsdt)
{
	header(t, "FACP", FADT_LEN, 6);
	put32(t + 40, (uint32_t)dsdt);
	put16(t + 109, BOOT_NO_VGA | BOOT_NO_CMOS_RTC);
	put32(t + 112, FADT_HW_REDUCED | FADT_RESET_REG_SUP | FADT_POWER_BUTTON | FADT_SLEEP_BUTTON);
	gas_port(t + 116, PM_PORT + 4);   /* RESET_REG */
	t[128] = 1;                       /* RESET_VALUE */
	put64(t + 140, dsdt);             /* X_DSDT */
	gas_port(t + 244, PM_PORT);       /* SLEEP_CONTROL_REG */
	gas_port(t + 256, PM_PORT + 1);   /* SLEEP_STATUS_REG */
	memcpy(t + 268, "CAIRNVMM", 8);   /* hypervisor vendor identity */
	seal(t);
}

static uint32_t madt(uint8_t *t, unsigned ncpus)
{
	uint32_t n = 44;
	put32(t + 36, (uint32_t)GUEST_LAPIC);
	put32(t + 40, 0); /* no PC-AT 8259s */
	for (unsigned i = 0; i < ncpus; i++, n += 8) {
		uint8_t *e = t + n;
		e[0] = 0, e[1] = 8, e[2] = (uint8_t)i, e[3] = (uint8_t)i; /* processor, its APIC id */
		put32(e + 4, 1);                                         /* enabled */
	}
	uint8_t *io = t + n;
	io[0] = 1, io[1] = 12, io[2] = (uint8_t)ncpus, io[3] = 0; /* IOAPIC id after the CPUs' */
	put32(io + 4, (uint32_t)GUEST_IOAPIC);
	put32(io + 8, 0);                                       /* GSI base */
	n += 12;
	header(t, "APIC", n, 4);
	seal(t);
	return n;
}

/* AML: a package length (one byte below 64, else two). */
static uint8_t *pkglen(uint8_t *p, unsigned len)
{
	if (len + 1 < 64) {
		*p++ = (uint8_t)(len + 1);
	} else {
		len += 2;
		*p++ = (uint8_t)(0x40 | (len & 0xf));
		*p++ = (uint8_t)(len >> 4);
	}
	return p;
}

/* Device(name) { _HID hid, _UID uid, _CRS: `res` (register descriptors)
 * and its interrupt, GSI `gsi` (edge, active high) }. */
static uint8_t *device(uint8_t *p, const char name[4], const char *hid, unsigned uid,
		       const uint8_t *res, unsigned nres, unsigned gsi)
{
	uint8_t crs[64];
	static const uint8_t irq[] = { 0x89, 6, 0, 0x03, 1 }; /* Interrupt: consumer, edge */
	static const uint8_t end[] = { 0x79, 0 };
	unsigned n = 0;
	memcpy(crs, res, nres), n += nres;
	memcpy(crs + n, irq, sizeof(irq)), n += sizeof(irq);
	put32(crs + n, gsi), n += 4;
	memcpy(crs + n, end, sizeof(end)), n += sizeof(end);
	unsigned hlen = (unsigned)strlen(hid);
	unsigned body = 4 + (1 + 4 + 1 + hlen + 1) + 7 + (1 + 4) + (1 + 1 + 2 + n);
	*p++ = 0x5b, *p++ = 0x82; /* DeviceOp */
	p = pkglen(p, body);
	memcpy(p, name, 4), p += 4;
	*p++ = 0x08, memcpy(p, "_HID", 4), p += 4, *p++ = 0x0d; /* a string */
	memcpy(p, hid, hlen), p += hlen, *p++ = 0;
	*p++ = 0x08, memcpy(p, "_UID", 4), p += 4, *p++ = 0x0a, *p++ = (uint8_t)uid;
	*p++ = 0x08, memcpy(p, "_CRS", 4), p += 4;
	*p++ = 0x11; /* BufferOp */
	p = pkglen(p, 2 + n);
	*p++ = 0x0a, *p++ = (uint8_t)n;
	memcpy(p, crs, n);
	return p + n;
}

/* A virtio-mmio slot: LNRO0005, its registers and its pin. */
static uint8_t *virtio_device(uint8_t *p, unsigned i, uint64_t base, unsigned gsi)
{
	uint8_t mem[12] = { 0x86, 9, 0, 1 }; /* Memory32Fixed, read-write */
	const char name[4] = { 'V', 'R', (char)('0' + i / 10), (char)('0' + i % 10) };
	put32(mem + 4, (uint32_t)base);
	put32(mem + 8, (uint32_t)VDEV_MMIO_SIZE);
	return device(p, name, "LNRO0005", i, mem, sizeof(mem), gsi);
}

/* COM1 as a PNP0501: Linux's 8250 takes its interrupt from here (a
 * hardware-reduced platform has no ISA interrupts of its own). */
static uint8_t *com1_device(uint8_t *p)
{
	const uint8_t io[] = { 0x47, 1, COM1 & 0xff, COM1 >> 8, COM1 & 0xff, COM1 >> 8, 1, 8 };
	return device(p, "COM1", "PNP0501", 1, io, sizeof(io), COM1_GSI);
}

static uint32_t dsdt(uint8_t *t, const struct vmm *m)
{
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, 0x05, 0, 0, 0 };
	uint8_t *p = t + 36, dev[(VMM_VDEVS + 1) * 64], *d = com1_device(dev);
	memcpy(p, s5, sizeof(s5));
	p += sizeof(s5);
	/* every slot, as QEMU's virt does: an empty one reads device id 0 */
	for (unsigned i = 0; i < VMM_VDEVS; i++)
		d = virtio_device(d, i, m->dev[i].base, GUEST_VIRTIO_INTID + i);
	*p++ = 0x10; /* Scope(\_SB) */
	p = pkglen(p, 4 + (unsigned)(d - dev));
	memcpy(p, "_SB_", 4);
	memcpy(p + 4, dev, (size_t)(d - dev));
	p += 4 + (d - dev);
	uint32_t n = (uint32_t)(p - t);
	header(t, "DSDT", n, 2);
	seal(t);
	return n;
}

uint64_t acpi_build(const struct vmm *m, uint8_t *va)
{
	uint64_t at = GUEST_ACPI;
	uint8_t *rsdp = va + RSDP_OFF, *xsdt = va + XSDT_OFF;
	memset(va, 0, 0x1000);
	dsdt(va + DSDT_OFF, m);
	fadt(va + FADT_OFF, at + DSDT_OFF);
	madt(va + MADT_OFF, m->nvcpus);
	header(xsdt, "XSDT", 36 + 16, 1);
	put64(xsdt + 36, at + FADT_OFF);
	put64(xsdt + 44, at + MADT_OFF);
	seal(xsdt);
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "CAIRN ", 6);
	rsdp[15] = 2;                     /* ACPI 2.0 and later: the XSDT */
	put32(rsdp + 20, 36);
	put64(rsdp + 24, at + XSDT_OFF);
	rsdp[8] = (uint8_t)-sum(rsdp, 20);
	rsdp[32] = (uint8_t)-sum(rsdp, 36);
	return at + RSDP_OFF;
}
