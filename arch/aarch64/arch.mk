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
# The fast paths' only loops are spin loops that do not turn in the common
# case: a loop's alignment padding would be executed on every call.
$(BUILD)/obj/arch/aarch64/uspace.o $(BUILD)/obj/arch/aarch64/vcpu.o: KCFLAGS += -fno-align-loops
USER_ARCH := 1
USER_ARCH_CFLAGS := -mgeneral-regs-only -mstrict-align -mno-outline-atomics
KERNEL_IMAGE := $(BUILD)/Image
KERNEL_LDS := hyp/kernel-pie.ld

QEMU := qemu-system-aarch64
# The SMMUv3 (iommu=smmuv3) is the kernel's: PCI devices reach only the I/O
# spaces their drivers bind them to.
QEMU_MACHINE := -machine virt,virtualization=on,gic-version=3,iommu=smmuv3 -cpu max,pauth-impdef=on
UBOOT_BIN := /usr/lib/u-boot/qemu_arm64/u-boot.bin
AAVMF_CODE := /usr/share/AAVMF/AAVMF_CODE.fd
AAVMF_VARS := /usr/share/AAVMF/AAVMF_VARS.fd
# BOOT=kernel (QEMU loads the Image), BOOT=uboot (U-Boot's booti loads it)
# or BOOT=uefi (AAVMF runs BOOTAA64.EFI, Cairn's loader, from a FAT image;
# acpi=off: otherwise AAVMF gives the OS ACPI tables instead of the DTB).
# The ESP is a virtio-mmio disk: Cairn's block driver would take a PCI one
# for the guest's disk.
QEMU_BOOT_kernel = -kernel $(KERNEL_IMAGE)
QEMU_BOOT_uboot = -bios $(UBOOT_BIN) -kernel $(KERNEL_IMAGE)
QEMU_BOOT_uefi = -machine acpi=off \
	-drive if=pflash,format=raw,readonly=on,file=$(AAVMF_CODE) \
	-drive if=pflash,format=raw,file=$(BUILD)/aavmf-vars.fd \
	-drive file=$(UEFI_ESP),format=raw,if=none,id=esp -device virtio-blk-device,drive=esp
UEFI_ESP := $(BUILD)/esp.img
BOOTS := kernel uboot uefi

# The UEFI loader: Debian's GNU-EFI for arm64, unpacked into the cache by
# tools/gnu-efi-arm64.sh (it cannot be installed beside the amd64 one), with
# libfdt and the kernel's string functions built for it: it edits the
# firmware's DTB.  libefi has its own memset and memcpy (beside
# InitializeLib), so the kernel's are made weak for this link.  GNU-EFI's
# arm64 crt0 carries its own PE header: the linker fills in the subsystem
# (10, an application) and the image is a plain binary copy, padded to the
# 512-byte end of .data the header claims (AAVMF refuses a shorter file as
# "Unsupported").
EFI_CFLAGS = -std=gnu11 -O2 -ffreestanding -fno-stack-protector -fpic -fshort-wchar \
	-mgeneral-regs-only -mstrict-align -I$$efi/include/efi -I$$efi/include/efi/aarch64 \
	-I. -Ihyp/libfdt -I$$fdt
EFI_FDT := fdt fdt_ro fdt_rw fdt_wip fdt_strerror
EFI_SRCS := arch/aarch64/efi/loader.c arch/aarch64/efi/ranges.c
EFI_OBJS = $(patsubst %.c,$(@D)/%.o,$(notdir $(EFI_SRCS))) $(@D)/enter.o $(@D)/string.o \
	$(EFI_FDT:%=$(@D)/%.o)
$(BUILD)/efi/BOOTAA64.EFI: $(EFI_SRCS) arch/aarch64/efi/ranges.h arch/aarch64/efi/enter.S \
		hyp/string.c hyp/libfdt/libfdt_env.h tools/gnu-efi-arm64.sh tools/libfdt.sh
	@mkdir -p $(@D)
	$(Q)efi=$$(tools/gnu-efi-arm64.sh)/usr && fdt=$$(tools/libfdt.sh) && \
	for f in $(EFI_FDT); do \
		$(CC) $(EFI_CFLAGS) -w -c $$fdt/$$f.c -o $(@D)/$$f.o || exit 1; done && \
	for f in $(EFI_SRCS) hyp/string.c; do \
		$(CC) $(EFI_CFLAGS) $(WARN) -c $$f -o $(@D)/$$(basename $$f .c).o || exit 1; done && \
	$(OBJCOPY) --weaken-symbol=memset --weaken-symbol=memcpy $(@D)/string.o && \
	$(CC) $(EFI_CFLAGS) -c arch/aarch64/efi/enter.S -o $(@D)/enter.o && \
	$(LD) -shared -Bsymbolic -nostdlib --no-undefined --no-warn-rwx-segments \
		--defsym=EFI_SUBSYSTEM=0xa -T $$efi/lib/elf_aarch64_efi.lds \
		$$efi/lib/crt0-efi-aarch64.o $(EFI_OBJS) -L$$efi/lib -lefi -lgnuefi -o $(@D)/loader.so && \
	$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .rodata -j .rel -j .rela \
		-j '.rel.*' -j '.rela.*' -j .reloc -O binary $(@D)/loader.so $@ && \
	truncate -s %512 $@
	@echo "  EFI     $@"
$(BUILD)/esp.img: $(KERNEL_IMAGE) $(BUILD)/efi/BOOTAA64.EFI tools/mkesp.sh
	$(Q)tools/mkesp.sh $@ $(BUILD)/efi/BOOTAA64.EFI $(KERNEL_IMAGE)
	@echo "  ESP     $@"
# Fresh variables each run: the boot entries a run with other devices left
# behind send AAVMF to its shell instead of the ESP.
.PHONY: $(BUILD)/aavmf-vars.fd
$(BUILD)/aavmf-vars.fd:
	$(Q)cp $(AAVMF_VARS) $@

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
# BOOT=uefi: the command line and the bundle are files on the ESP instead.
RUN_ARGS = $(if $(filter uefi,$(BOOT)),,-initrd $(SYSTEM_MODS) -append "cairn.root=linux") \
	-drive file=$(DISK),if=none,id=disk,format=raw \
	-device virtio-blk-pci,drive=disk,iommu_platform=on,disable-legacy=on \
	-netdev user,id=net -device virtio-net-pci,netdev=net,iommu_platform=on,disable-legacy=on
UEFI_ESP := $(BUILD)/esp-$(SYSTEM_NAME).img
$(UEFI_ESP): $(KERNEL_IMAGE) $(BUILD)/efi/BOOTAA64.EFI $(SYSTEM_MODS) tools/mkesp.sh
	$(Q)tools/mkesp.sh $@ $(BUILD)/efi/BOOTAA64.EFI $(KERNEL_IMAGE) "cairn.root=linux" $(SYSTEM_MODS)
	@echo "  ESP     $@"
endif
_run: $(if $(filter uefi,$(BOOT)),$(UEFI_ESP) $(BUILD)/aavmf-vars.fd)
$(DISK):
	@mkdir -p $(@D)
	truncate -s 128M $@

QEMU_TEST_DEPS := $(BUILD)/tests/dtb-shim.bin $(BUILD)/tests/initrd.bin $(LINUX_MODS) \
	$(BUILD)/efi/BOOTAA64.EFI \
	$(BUILD)/systems/two-guests.bin $(BUILD)/systems/passthrough.bin $(BUILD)/tests/bad-system.bin \
	$(BUILD)/tests/driver-limit.bin $(BUILD)/tests/blk-restart.bin \
	$(BUILD)/tests/net-restart.bin $(BUILD)/tests/con-restart.bin
