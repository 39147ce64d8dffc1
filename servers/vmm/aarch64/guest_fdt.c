/* The guest's device tree, written with libfdt's sequential-write calls:
 * memory, CPUs started by PSCI (HVC), the architected timer, the GICv3,
 * the PL011 with its clock, and /chosen with the command line and the
 * initramfs. */
#include "servers/vmm/fdt_props.h"
#include "servers/vmm/vmm.h"

#define PHANDLE_GIC 1
#define PHANDLE_CLK 2
#define GIC_PPI 1
#define GIC_SPI 0
#define IRQ_LEVEL_HIGH 4
#define IRQ_EDGE_RISING 1

/* Whether the n bytes at s hold the k bytes of w. */
static bool memmem_(const char *s, unsigned n, const char *w, unsigned k)
{
	for (unsigned i = 0; i + k <= n; i++)
		if (!memcmp(s + i, w, k))
			return true;
	return false;
}

/* virtio-mmio slots: the device's registers decide what is there (a
 * device ID of 0 is an empty slot), so the nodes are always present. */
static int virtio(void *f)
{
	int e = 0;
	for (unsigned i = 0; i < VMM_VDEVS; i++) {
		const uint64_t reg[] = { GUEST_VIRTIO + i * VDEV_MMIO_SIZE, VDEV_MMIO_SIZE };
		const uint32_t irq[] = { GIC_SPI, GUEST_VIRTIO_INTID + i - 32, IRQ_EDGE_RISING };
		char name[32];
		snprintf(name, sizeof(name), "virtio_mmio@%lx", reg[0]);
		e |= fdt_begin_node(f, name) | fdt_property_string(f, "compatible", "virtio,mmio") |
		     prop_u64s(f, "reg", reg, 2) | prop_u32s(f, "interrupts", irq, 3) |
		     fdt_property(f, "dma-coherent", NULL, 0) | fdt_end_node(f);
	}
	return e;
}

/* Devices of the machine the guest owns: the machine's compatible, the
 * same registers and interrupt; a PrimeCell's bus clock. */
static int passthrough(void *f, const struct guest_config *c)
{
	static const char pclk[] = "apb_pclk";
	int e = 0;
	for (unsigned k = 0; k < c->npass; k++) {
		const struct guest_passthrough *p = &c->pass[k];
		const uint64_t reg[] = { p->pa, p->size };
		const uint32_t irq[] = { GIC_SPI, (uint32_t)p->intid - 32, IRQ_LEVEL_HIGH };
		unsigned len = (unsigned)p->compatible_len;
		bool primecell = len <= sizeof(p->compatible) &&
				 memmem_(p->compatible, len, "arm,primecell", sizeof("arm,primecell"));
		e |= fdt_begin_node(f, p->name) | fdt_property(f, "compatible", p->compatible, (int)len) |
		     prop_u64s(f, "reg", reg, 2);
		if (p->intid)
			e |= prop_u32s(f, "interrupts", irq, 3);
		if (primecell)
			e |= fdt_property_u32(f, "clocks", PHANDLE_CLK) |
			     fdt_property(f, "clock-names", pclk, sizeof(pclk));
		e |= fdt_end_node(f);
	}
	return e;
}

static int cpus(void *f, const struct vmm *m)
{
	int e = fdt_begin_node(f, "cpus") | fdt_property_u32(f, "#address-cells", 1) |
		fdt_property_u32(f, "#size-cells", 0);
	for (unsigned i = 0; i < m->nvcpus; i++) {
		char name[16];
		snprintf(name, sizeof(name), "cpu@%u", i);
		e |= fdt_begin_node(f, name) | fdt_property_string(f, "device_type", "cpu") |
		     fdt_property_string(f, "compatible", "arm,armv8") |
		     fdt_property_u32(f, "reg", i) |
		     fdt_property_string(f, "enable-method", "psci") | fdt_end_node(f);
	}
	return e | fdt_end_node(f);
}

static int devices(void *f, const struct vmm *m)
{
	static const char psci_compat[] = "arm,psci-1.0\0arm,psci-0.2";
	static const char uart_compat[] = "arm,pl011\0arm,primecell";
	static const char clock_names[] = "uartclk\0apb_pclk";
	const uint32_t timer_irqs[] = { GIC_PPI, 13, IRQ_LEVEL_HIGH, GIC_PPI, 14, IRQ_LEVEL_HIGH,
					GIC_PPI, 11, IRQ_LEVEL_HIGH, GIC_PPI, 10, IRQ_LEVEL_HIGH };
	const uint32_t maint[] = { GIC_PPI, 9, IRQ_LEVEL_HIGH };
	const uint32_t uart_irq[] = { GIC_SPI, GUEST_UART_SPI, IRQ_LEVEL_HIGH };
	const uint32_t clocks[] = { PHANDLE_CLK, PHANDLE_CLK };
	const uint64_t gic_reg[] = { GUEST_GICD, GUEST_GICD_SIZE, GUEST_GICR,
				     m->nvcpus * GUEST_GICR_STRIDE };
	const uint64_t uart_reg[] = { GUEST_UART, 0x1000 };
	int e = fdt_begin_node(f, "psci") |
		fdt_property(f, "compatible", psci_compat, sizeof(psci_compat)) |
		fdt_property_string(f, "method", "hvc") | fdt_end_node(f);
	e |= fdt_begin_node(f, "timer") | fdt_property_string(f, "compatible", "arm,armv8-timer") |
	     prop_u32s(f, "interrupts", timer_irqs, 12) | fdt_property(f, "always-on", NULL, 0) |
	     fdt_end_node(f);
	e |= fdt_begin_node(f, "intc@8000000") | fdt_property_string(f, "compatible", "arm,gic-v3") |
	     fdt_property_u32(f, "#interrupt-cells", 3) |
	     fdt_property(f, "interrupt-controller", NULL, 0) | prop_u64s(f, "reg", gic_reg, 4) |
	     fdt_property_u32(f, "#redistributor-regions", 1) |
	     prop_u32s(f, "interrupts", maint, 3) | fdt_property_u32(f, "phandle", PHANDLE_GIC) |
	     fdt_end_node(f);
	e |= fdt_begin_node(f, "apb-pclk") | fdt_property_string(f, "compatible", "fixed-clock") |
	     fdt_property_u32(f, "#clock-cells", 0) |
	     fdt_property_u32(f, "clock-frequency", 24000000) |
	     fdt_property_string(f, "clock-output-names", "clk24mhz") |
	     fdt_property_u32(f, "phandle", PHANDLE_CLK) | fdt_end_node(f);
	e |= fdt_begin_node(f, "pl011@9000000") |
	     fdt_property(f, "compatible", uart_compat, sizeof(uart_compat)) |
	     prop_u64s(f, "reg", uart_reg, 2) | prop_u32s(f, "interrupts", uart_irq, 3) |
	     prop_u32s(f, "clocks", clocks, 2) |
	     fdt_property(f, "clock-names", clock_names, sizeof(clock_names)) | fdt_end_node(f);
	return e | virtio(f) | passthrough(f, m->cfg);
}

uint64_t guest_fdt(const struct vmm *m, void *buf, uint64_t len, const char *bootargs,
		   uint64_t initrd, uint64_t initrd_size)
{
	const uint64_t mem[] = { m->vm.ram_ipa, m->vm.ram_size };
	const uint64_t rd[] = { initrd, initrd + initrd_size };
	int e = fdt_create(buf, (int)len) | fdt_finish_reservemap(buf) | fdt_begin_node(buf, "") |
		fdt_property_string(buf, "compatible", "linux,dummy-virt") |
		fdt_property_u32(buf, "#address-cells", 2) | fdt_property_u32(buf, "#size-cells", 2) |
		fdt_property_u32(buf, "interrupt-parent", PHANDLE_GIC);
	e |= fdt_begin_node(buf, "chosen") | fdt_property_string(buf, "bootargs", bootargs) |
	     fdt_property_string(buf, "stdout-path", "/pl011@9000000") |
	     prop_u64s(buf, "linux,initrd-start", &rd[0], 1) |
	     prop_u64s(buf, "linux,initrd-end", &rd[1], 1) | fdt_end_node(buf);
	e |= fdt_begin_node(buf, "memory@40000000") |
	     fdt_property_string(buf, "device_type", "memory") | prop_u64s(buf, "reg", mem, 2) |
	     fdt_end_node(buf);
	e |= cpus(buf, m) | devices(buf, m) | fdt_end_node(buf) | fdt_finish(buf);
	return e ? 0 : fdt_totalsize(buf);
}
