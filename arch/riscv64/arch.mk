# RISC-V: HS-mode hypervisor (H extension) under SBI firmware on QEMU virt.
CROSS_COMPILE ?= riscv64-linux-gnu-
# The linker relaxes: a call (auipc, jalr) in reach becomes one jal, which
# is as position-independent; nothing is made gp-relative (the kernel
# defines no __global_pointer$).
ARCH_CFLAGS := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany \
	-msmall-data-limit=0 -fpie
ARCH_LDFLAGS := -pie --no-dynamic-linker -z norelro -z noexecstack \
	--no-warn-rwx-segments
ARCH_SRCS := arch/riscv64/head.S arch/riscv64/entry.S arch/riscv64/boot.c \
	arch/riscv64/cpu.c arch/riscv64/trap.c arch/riscv64/mmu.c arch/riscv64/uspace.c \
	arch/riscv64/ecall.c arch/riscv64/fp.S arch/riscv64/vcpu.c hyp/iommu_none.c arch/riscv64/plic.c arch/riscv64/timer.c \
	arch/riscv64/sbi.c arch/riscv64/uarts.c hyp/uart_ns16550.c
# ecall.c's fast paths keep no register for their caller (entry.S reloads
# them all), so none is callee-saved there: no prologue saving s-registers.
$(BUILD)/obj/arch/riscv64/ecall.o: KCFLAGS += -fomit-frame-pointer $(foreach r,1 2 3 4 5 6 7 8 9 10 11,-fcall-used-s$(r))
# Native threads in VU-mode (arch/riscv64/uspace.c) run the root task.  User
# code uses Debian's libgcc, which is lp64d: the D extension is allowed,
# though C code without floating point never touches an FP register (the
# FP tests rely on that, as AArch64's -mgeneral-regs-only does).
USER_ARCH := 1
USER_ARCH_CFLAGS := -march=rv64imafdc_zicsr_zifencei -mabi=lp64d -mcmodel=medany \
	-mno-relax -msmall-data-limit=0
KERNEL_IMAGE := $(BUILD)/Image
KERNEL_LDS := hyp/kernel-pie.ld

QEMU := qemu-system-riscv64
QEMU_MACHINE := -machine virt -cpu rv64
OPENSBI := /usr/lib/riscv64-linux-gnu/opensbi/generic
UBOOT_BIN := /usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin
# BOOT=kernel (OpenSBI starts the Image) or BOOT=uboot (OpenSBI starts
# U-Boot, whose distro boot finds the Image on a virtio disk).
QEMU_BOOT_kernel = -bios $(OPENSBI)/fw_dynamic.bin -kernel $(KERNEL_IMAGE)
QEMU_BOOT_uboot = -bios $(OPENSBI)/fw_jump.bin -kernel $(UBOOT_BIN) \
	-drive file=$(BUILD)/boot-disk.img,format=raw,if=virtio
BOOTS := kernel uboot

$(KERNEL_IMAGE): $(BUILD)/cairn.elf
	$(Q)$(OBJCOPY) -O binary $< $@
	@echo "  IMAGE   $@"

$(BUILD)/boot-disk.img: $(KERNEL_IMAGE) tools/mkdisk.py
	$(Q)python3 tools/mkdisk.py $@ $(KERNEL_IMAGE)
	@echo "  DISK    $@"
_run: $(if $(filter uboot,$(BOOT)),$(BUILD)/boot-disk.img)

# The Linux guest: Linux 6.1 built from Debian's linux-source-6.1 and a
# tiny static init (tools/linux-riscv64.sh, once, into the cache), bundled
# as the root task's boot modules.
LINUX_MODS := $(BUILD)/guests/linux-mods.bin
$(LINUX_MODS): tools/linux-riscv64.sh tools/mkbootmod.py guests/linux-riscv64/init.c \
		guests/linux-riscv64/config
	@mkdir -p $(@D)
	$(Q)d=$$(tools/linux-riscv64.sh) && python3 tools/mkbootmod.py $@ linux=$$d/Image \
		initramfs=$$d/initramfs.cpio
	@echo "  BUNDLE  $@"
QEMU_TEST_DEPS := $(BUILD)/boot-disk.img $(LINUX_MODS)

# make run: Cairn, the default system's native servers and its Linux guest
# (2 VCPUs, its console hvc0); GUEST=none runs the native demo alone, as
# BOOT=uboot does (its extlinux.conf has the command line).
GUEST ?= linux
ifeq ($(GUEST)$(BOOT),linux)
RUN_DEPS := $(LINUX_MODS)
MEM := 1G
RUN_ARGS = -initrd $(LINUX_MODS) -append "cairn.root=linux"
endif
