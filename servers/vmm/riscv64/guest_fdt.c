/* The riscv64 guest's device tree, written with libfdt's sequential-write
 * calls: memory, harts started by SBI HSM with their local interrupt
 * controllers, the PLIC, the virtio-mmio slots, and /chosen with the
 * command line and the initramfs. */
#include "servers/vmm/fdt_props.h"
#include "servers/vmm/vmm.h"

#define PHANDLE_PLIC 1
#define PHANDLE_INTC(i) (2 + (i))
#define IRQ_S_EXT 9 /* a hart's supervisor external interrupt */
#define TIMEBASE_QEMU 10000000u

/* The guest's time CSR counts at the host's timebase. */
static uint32_t timebase(void)
{
	uint64_t r[5] = { 0 };
	if (inv(SYS_STATS_CPU, ROOT_IRQ_CONTROL, 0, 0, 0, 0, 0, 0, r) || !r[4] || r[4] >> 32)
		return TIMEBASE_QEMU;
	return (uint32_t)r[4];
}

static int cpus(void *f, const struct vmm *m)
{
	int e = fdt_begin_node(f, "cpus") | fdt_property_u32(f, "#address-cells", 1) |
		fdt_property_u32(f, "#size-cells", 0) |
		fdt_property_u32(f, "timebase-frequency", timebase());
	for (unsigned i = 0; i < m->nvcpus; i++) {
		char name[16];
		snprintf(name, sizeof(name), "cpu@%u", i);
		e |= fdt_begin_node(f, name) | fdt_property_string(f, "device_type", "cpu") |
		     fdt_property_string(f, "compatible", "riscv") | fdt_property_u32(f, "reg", i) |
		     fdt_property_string(f, "status", "okay") |
		     fdt_property_string(f, "riscv,isa", "rv64imafdc") |
		     fdt_property_string(f, "mmu-type", "riscv,sv48");
		e |= fdt_begin_node(f, "interrupt-controller") |
		     fdt_property_string(f, "compatible", "riscv,cpu-intc") |
		     fdt_property_u32(f, "#interrupt-cells", 1) |
		     fdt_property(f, "interrupt-controller", NULL, 0) |
		     fdt_property_u32(f, "phandle", PHANDLE_INTC(i)) | fdt_end_node(f) | fdt_end_node(f);
	}
	return e | fdt_end_node(f);
}

/* The PLIC: context i is hart i's supervisor external interrupt. */
static int plic(void *f, const struct vmm *m)
{
	static const char compat[] = "sifive,plic-1.0.0\0riscv,plic0";
	const uint64_t reg[] = { GUEST_PLIC, 0x200000 + m->nvcpus * 0x1000ull };
	uint32_t ctx[2 * VM_MAX_VCPUS];
	for (unsigned i = 0; i < m->nvcpus; i++)
		ctx[2 * i] = PHANDLE_INTC(i), ctx[2 * i + 1] = IRQ_S_EXT;
	return fdt_begin_node(f, "plic@c000000") |
	       fdt_property(f, "compatible", compat, sizeof(compat)) |
	       fdt_property_u32(f, "#interrupt-cells", 1) | fdt_property_u32(f, "#address-cells", 0) |
	       fdt_property(f, "interrupt-controller", NULL, 0) | prop_u64s(f, "reg", reg, 2) |
	       fdt_property_u32(f, "riscv,ndev", PLIC_SOURCES - 1) |
	       prop_u32s(f, "interrupts-extended", ctx, 2 * m->nvcpus) |
	       fdt_property_u32(f, "phandle", PHANDLE_PLIC) | fdt_end_node(f);
}

/* virtio-mmio slots: the device's registers decide what is there (a
 * device ID of 0 is an empty slot), so the nodes are always present.  Each
 * names the PLIC its parent (not the root: the harts' own controllers
 * would inherit it and no controller would be a root). */
static int virtio(void *f)
{
	int e = 0;
	for (unsigned i = 0; i < VMM_VDEVS; i++) {
		const uint64_t reg[] = { GUEST_VIRTIO + i * VDEV_MMIO_SIZE, VDEV_MMIO_SIZE };
		char name[32];
		snprintf(name, sizeof(name), "virtio_mmio@%lx", reg[0]);
		e |= fdt_begin_node(f, name) | fdt_property_string(f, "compatible", "virtio,mmio") |
		     prop_u64s(f, "reg", reg, 2) | fdt_property_u32(f, "interrupt-parent", PHANDLE_PLIC) |
		     fdt_property_u32(f, "interrupts", GUEST_VIRTIO_INTID + i) | fdt_end_node(f);
	}
	return e;
}

uint64_t guest_fdt(const struct vmm *m, void *buf, uint64_t len, const char *bootargs,
		   uint64_t initrd, uint64_t initrd_size)
{
	const uint64_t mem[] = { m->vm.ram_ipa, m->vm.ram_size };
	const uint64_t rd[] = { initrd, initrd + initrd_size };
	char name[32];
	int e = fdt_create(buf, (int)len) | fdt_finish_reservemap(buf) | fdt_begin_node(buf, "") |
		fdt_property_string(buf, "compatible", "cairn,riscv-virt") |
		fdt_property_u32(buf, "#address-cells", 2) | fdt_property_u32(buf, "#size-cells", 2);
	e |= fdt_begin_node(buf, "chosen") | fdt_property_string(buf, "bootargs", bootargs) |
	     prop_u64s(buf, "linux,initrd-start", &rd[0], 1) |
	     prop_u64s(buf, "linux,initrd-end", &rd[1], 1) | fdt_end_node(buf);
	snprintf(name, sizeof(name), "memory@%lx", m->vm.ram_ipa);
	e |= fdt_begin_node(buf, name) | fdt_property_string(buf, "device_type", "memory") |
	     prop_u64s(buf, "reg", mem, 2) | fdt_end_node(buf);
	e |= cpus(buf, m) | plic(buf, m) | virtio(buf) | fdt_end_node(buf) | fdt_finish(buf);
	return e ? 0 : fdt_totalsize(buf);
}
