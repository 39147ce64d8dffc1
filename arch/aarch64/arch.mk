# AArch64: EL2 hypervisor on QEMU virt (GICv3) and boards like it.
CROSS_COMPILE ?= aarch64-linux-gnu-
ARCH_CFLAGS := -mgeneral-regs-only -mstrict-align -mno-outline-atomics \
	-march=armv8-a -fpie
ARCH_LDFLAGS := -pie --no-dynamic-linker -z norelro -z noexecstack --no-warn-rwx-segments
ARCH_SRCS := arch/aarch64/head.S arch/aarch64/vectors.S arch/aarch64/boot.c \
	arch/aarch64/cpu.c arch/aarch64/trap.c arch/aarch64/mmu.c \
	arch/aarch64/gicv3.c arch/aarch64/timer.c arch/aarch64/uarts.c \
	arch/aarch64/uspace.c arch/aarch64/vcpu.c arch/aarch64/fp.S arch/aarch64/smmuv3.c \
	hyp/uart_pl011.c
USER_ARCH := 1
USER_ARCH_CFLAGS := -mgeneral-regs-only -mstrict-align -mno-outline-atomics
KERNEL_IMAGE := $(BUILD)/Image
KERNEL_LDS := hyp/kernel-pie.ld

QEMU := qemu-system-aarch64
# The SMMUv3 (iommu=smmuv3) is the kernel's: PCI devices reach only the I/O
# spaces their drivers bind them to.
QEMU_MACHINE := -machine virt,virtualization=on,gic-version=3,iommu=smmuv3 -cpu max,pauth-impdef=on
UBOOT_BIN := /usr/lib/u-boot/qemu_arm64/u-boot.bin
# BOOT=kernel (QEMU loads the Image) or BOOT=uboot (U-Boot's booti loads it).
QEMU_BOOT_kernel = -kernel $(KERNEL_IMAGE)
QEMU_BOOT_uboot = -bios $(UBOOT_BIN) -kernel $(KERNEL_IMAGE)
BOOTS := kernel uboot

$(KERNEL_IMAGE): $(BUILD)/cairn.elf
	$(Q)$(OBJCOPY) -O binary $< $@
	@echo "  IMAGE   $@"

# The Linux guest (Debian's Image and busybox, fetched into the cache by
# tools/linux-guest.sh) bundled as the root task's boot modules.
LINUX_MODS := $(BUILD)/guests/linux-mods.bin
$(LINUX_MODS): tools/linux-guest.sh tools/mkbootmod.py guests/linux/init
	@mkdir -p $(@D)
	$(Q)d=$$(tools/linux-guest.sh) && python3 tools/mkbootmod.py $@ linux=$$d/Image \
		initramfs=$$d/initramfs.cpio
	@echo "  BUNDLE  $@"

# make run: Cairn and the system SYSTEM describes (docs/SYSTEM.md; default
# systems/default.dts: a Linux guest with 2 VCPUs beside its native
# servers), bundled with the guest's Image and initramfs as boot modules.
# The machine: QEMU's virtio-blk-pci on DISK (a sparse 128 MiB raw file per
# system, made once and kept: the guests' files outlive the run), its DMA
# confined by the SMMU (iommu_platform: QEMU's virtio devices bypass an
# IOMMU without it), and QEMU's user networking through a virtio-net-pci
# NIC.  SYSTEM=systems/two-guests.dts runs two guests on one switch (the
# second's lines marked [guest 2]); GUEST=none runs the native demo alone.
GUEST ?= linux
SYSTEM ?= systems/default.dts
SYSTEM_NAME := $(basename $(notdir $(SYSTEM)))
SYSTEM_MODS := $(BUILD)/systems/$(SYSTEM_NAME).bin
DISK ?= $(BUILD)/disk$(if $(filter-out default,$(SYSTEM_NAME)),-$(SYSTEM_NAME)).img
# A system's bundle: the guest's modules and the description, "system".
$(BUILD)/systems/%.bin: $(BUILD)/systems/%.dtb tools/linux-guest.sh tools/mkbootmod.py guests/linux/init
	$(Q)d=$$(tools/linux-guest.sh) && python3 tools/mkbootmod.py $@ linux=$$d/Image \
		initramfs=$$d/initramfs.cpio system=$<
	@echo "  BUNDLE  $@"
$(BUILD)/systems/%.dtb: $(dir $(SYSTEM))%.dts
	@mkdir -p $(@D)
	$(Q)dtc -q -I dts -O dtb -o $@ $<
ifeq ($(GUEST),linux)
RUN_DEPS := $(SYSTEM_MODS) $(DISK)
MEM := 1G
RUN_ARGS = -initrd $(SYSTEM_MODS) -append "cairn.root=linux" \
	-drive file=$(DISK),if=none,id=disk,format=raw \
	-device virtio-blk-pci,drive=disk,iommu_platform=on,disable-legacy=on \
	-netdev user,id=net -device virtio-net-pci,netdev=net,iommu_platform=on,disable-legacy=on
endif
$(DISK):
	@mkdir -p $(@D)
	truncate -s 128M $@

QEMU_TEST_DEPS := $(BUILD)/tests/dtb-shim.bin $(BUILD)/tests/initrd.bin $(LINUX_MODS) \
	$(BUILD)/systems/two-guests.bin $(BUILD)/systems/passthrough.bin $(BUILD)/tests/bad-system.bin \
	$(BUILD)/tests/driver-limit.bin $(BUILD)/tests/blk-restart.bin \
	$(BUILD)/tests/net-restart.bin $(BUILD)/tests/con-restart.bin
