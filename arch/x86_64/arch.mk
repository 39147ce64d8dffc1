# x86_64: long mode on QEMU q35/pc, booted by GRUB (multiboot2) or by
# Cairn's own UEFI loader (GNU-EFI) from OVMF.  SVM or VMX is checked at boot.
CROSS_COMPILE ?=
ARCH_CFLAGS := -m64 -mcmodel=kernel -mno-red-zone -mgeneral-regs-only \
	-fno-pie -fno-pic
ARCH_LDFLAGS := -static -no-pie -z max-page-size=4096 -z noexecstack \
	--no-warn-rwx-segments
ARCH_SRCS := hyp/iommu_none.c hyp/fbcon.c arch/x86_64/head.S arch/x86_64/entry.S arch/x86_64/trampoline.S \
	arch/x86_64/boot.c arch/x86_64/cpu.c arch/x86_64/trap.c arch/x86_64/mmu.c arch/x86_64/uspace.c \
	arch/x86_64/syscall.c arch/x86_64/apic.c arch/x86_64/acpi.c arch/x86_64/smp.c arch/x86_64/virt.c \
	arch/x86_64/svm.c arch/x86_64/svm_run.S \
	arch/x86_64/vmx.c arch/x86_64/vmx_run.S arch/x86_64/vmexit.c
# syscall.c's fast paths keep no register for their caller (x86_syscall
# never returns): three fewer callee-saved there, three fewer pushes.
$(BUILD)/obj/arch/x86_64/syscall.o: KCFLAGS += -fomit-frame-pointer \
	$(foreach r,rbx r12 r13,-fcall-used-$(r))
# uspace.c's x86_leave, every way back to ring 3, never returns: no frame.
$(BUILD)/obj/arch/x86_64/uspace.o: KCFLAGS += -fomit-frame-pointer
# Native threads: the root task and servers (arch/x86_64/user).  User code
# keeps to general registers (the FP test's SSE is in fp_regs.S); the red
# zone is safe: entries from ring 3 never push on the user's stack.
USER_ARCH := 1
USER_ARCH_CFLAGS := -m64 -mgeneral-regs-only -Wl,-z,noexecstack
# The test guest has no timer here (guests/test/x86_64/isa.c).
GUEST_TEST_TIMER :=
KERNEL_IMAGE := $(BUILD)/cairn.elf
KERNEL_LDS := arch/x86_64/kernel.ld

QEMU := qemu-system-x86_64
# ACCEL=kvm: under KVM where it offers nested VMX or SVM (a developer's
# machine; not these, whose KVM has no nesting): the host CPU, VMX on Intel.
QEMU_MACHINE := -machine q35 $(if $(filter kvm,$(ACCEL)),-accel kvm -cpu host,-cpu qemu64,+svm,+npt)
OVMF_CODE := /usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS := /usr/share/OVMF/OVMF_VARS_4M.fd
# BOOT=multiboot2 (GRUB from an ISO, SeaBIOS) or BOOT=uefi (OVMF runs
# BOOTX64.EFI, Cairn's loader, from a FAT image).
# CMDLINE="cairn.root=test ...": the kernel's command line (GRUB's; there
# is no -append for an ISO), through an ISO made with it.
QEMU_BOOT_multiboot2 = $(if $(CMDLINE),$(call qemu_cmdline,$(CMDLINE)),-cdrom $(BUILD)/cairn.iso)
QEMU_BOOT_uefi = -drive if=pflash,format=raw,readonly=on,file=$(OVMF_CODE) \
	-drive if=pflash,format=raw,file=$(BUILD)/ovmf-vars.fd \
	-drive file=$(BUILD)/esp.img,format=raw,if=ide
BOOTS := multiboot2 uefi

# The UEFI loader: GNU-EFI's crt0 and linker script, then objcopy to PE.
EFI_CFLAGS := -std=gnu11 -O2 -fno-stack-protector -fpic -fshort-wchar \
	-mno-red-zone -DGNU_EFI_USE_MS_ABI -I/usr/include/efi \
	-I/usr/include/efi/x86_64 $(WARN)
$(BUILD)/efi/BOOTX64.EFI: arch/x86_64/efi/loader.c
	@mkdir -p $(@D)
	$(Q)gcc $(EFI_CFLAGS) -c $< -o $(@D)/loader.o
	$(Q)ld -shared -Bsymbolic -nostdlib -T /usr/lib/elf_x86_64_efi.lds \
		/usr/lib/crt0-efi-x86_64.o $(@D)/loader.o -L/usr/lib -lefi -lgnuefi \
		-o $(@D)/loader.so
	$(Q)objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
		-j .rela -j .reloc --target=efi-app-x86_64 $(@D)/loader.so $@
	@echo "  EFI     $@"

$(BUILD)/cairn.iso: $(KERNEL_IMAGE) tools/mkiso.sh
	$(Q)tools/mkiso.sh $@ $(KERNEL_IMAGE)
	@echo "  ISO     $@"
$(BUILD)/esp.img: $(KERNEL_IMAGE) $(BUILD)/efi/BOOTX64.EFI tools/mkesp.sh
	$(Q)tools/mkesp.sh $@ $(BUILD)/efi/BOOTX64.EFI $(KERNEL_IMAGE)
	@echo "  ESP     $@"
$(BUILD)/ovmf-vars.fd:
	$(Q)cp $(OVMF_VARS) $@

# make bench and CMDLINE: GRUB passes the command line, from an ISO made with it.
qemu_cmdline = -cdrom $$(tools/mkiso.sh $(BUILD)/cmdline.iso $(KERNEL_IMAGE) "$(1)" && echo $(BUILD)/cmdline.iso)

# The Linux guest (Debian's cloud bzImage and busybox, fetched into the
# cache by tools/linux-guest.sh amd64) bundled as the root task's boot
# modules, which GRUB loads as its multiboot2 module.
LINUX_MODS := $(BUILD)/guests/linux-mods.bin
$(LINUX_MODS): tools/linux-guest.sh tools/mkbootmod.py guests/linux/init
	@mkdir -p $(@D)
	$(Q)d=$$(tools/linux-guest.sh amd64) && python3 tools/mkbootmod.py $@ linux=$$d/bzImage \
		initramfs=$$d/initramfs.cpio
	@echo "  BUNDLE  $@"

# make run: Cairn and the built-in system (systems/default.dts: a Linux
# guest with 2 VCPUs beside its native servers), from an ISO whose boot
# module is the guest's bzImage and initramfs.  The machine here has no
# virtio-blk-pci disk or virtio-net-pci NIC (q35's is an e1000e), so the
# guest's disk is the block server's RAM disk and its switch has no uplink
# (the driver servers run through MSI-X where QEMU is given those devices:
# tests disk-driver-msix, linux-disk-msix); GUEST=none boots the ISO alone
# (the native demo).
GUEST ?= linux
ifeq ($(GUEST),linux)
RUN_ISO := $(BUILD)/run-linux.iso
$(RUN_ISO): $(KERNEL_IMAGE) $(LINUX_MODS) tools/mkiso.sh
	$(Q)tools/mkiso.sh $@ $(KERNEL_IMAGE) "cairn.root=linux" $(LINUX_MODS)
	@echo "  ISO     $@"
RUN_DEPS := $(RUN_ISO)
MEM := 1G
QEMU_BOOT_multiboot2 = $(if $(CMDLINE),$(call qemu_cmdline,$(CMDLINE)),-cdrom $(RUN_ISO))
endif

_run: $(if $(filter uefi,$(BOOT)),$(BUILD)/esp.img $(BUILD)/ovmf-vars.fd,$(BUILD)/cairn.iso)

# Descriptions only the tests boot, bundled with the amd64 guest (the
# generic rule in tests/tests.mk bundles the arm64 one).
$(BUILD)/tests/uart-shell.bin: tests/qemu/uart-shell.dts tools/mkbootmod.py tools/linux-guest.sh \
		guests/linux/init
	@mkdir -p $(@D)
	$(Q)dtc -q -I dts -O dtb -o $(@:.bin=.dtb) $<
	$(Q)d=$$(tools/linux-guest.sh amd64) && python3 tools/mkbootmod.py $@ linux=$$d/bzImage \
		initramfs=$$d/initramfs.cpio system=$(@:.bin=.dtb)
QEMU_TEST_DEPS := $(BUILD)/cairn.iso $(BUILD)/esp.img $(BUILD)/efi/BOOTX64.EFI \
	$(BUILD)/tests/initrd.bin $(LINUX_MODS) $(BUILD)/tests/uart-shell.bin
