# Cairn.  `make` builds ARCH=aarch64 (default) | riscv64 | x86_64 into
# build/<arch>/.  `make run` boots it in QEMU, `make test` runs every test.
# Both first run tools/deps.sh, which installs missing Debian packages.

ARCH ?= aarch64
SMP ?= 4
MEM ?= 512M
V ?= 0
BUILD := build/$(ARCH)
Q := $(if $(filter 1,$(V)),,@)

ifeq ($(filter $(ARCH),aarch64 riscv64 x86_64),)
$(error ARCH must be aarch64, riscv64 or x86_64)
endif
include arch/$(ARCH)/arch.mk
# The default goal is `all`, not the first rule an arch.mk happens to have.
.DEFAULT_GOAL := all
BOOT ?= $(firstword $(BOOTS))

CC := $(CROSS_COMPILE)gcc
LD := $(CROSS_COMPILE)ld
OBJCOPY := $(CROSS_COMPILE)objcopy

# Debian's libfdt sources, extracted once into the cache (tools/libfdt.sh),
# outside the work tree so that a fresh clone does not fetch them again.
CAIRN_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cairn
export CAIRN_CACHE
LIBFDT_DIR := $(CAIRN_CACHE)/libfdt
LIBFDT_SRCS := fdt.c fdt_ro.c fdt_wip.c fdt_sw.c fdt_rw.c fdt_strerror.c \
	fdt_empty_tree.c fdt_addresses.c

WARN := -Wall -Wextra -Werror
KCFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -fno-common \
	-fno-stack-protector -fno-omit-frame-pointer -fvisibility=hidden \
	-fno-asynchronous-unwind-tables -MMD -MP \
	-I. -Iinclude -Iarch/$(ARCH)/include -Ihyp/libfdt -I$(LIBFDT_DIR) $(ARCH_CFLAGS)

GENERIC_SRCS := hyp/boot.c hyp/console.c hyp/dtb.c hyp/irq.c hyp/kmem.c \
	hyp/panic.c hyp/printk.c hyp/selftest.c hyp/smp.c hyp/string.c \
	hyp/obj.c hyp/runq.c hyp/sched.c hyp/fair.c hyp/balance.c hyp/budget.c hyp/hotplug.c hyp/thread.c hyp/kernel.c hyp/root.c \
	hyp/root_image.S hyp/syscall.c hyp/sys_thread.c hyp/sys_debug.c \
	hyp/irq_handler.c hyp/irq_timer.c hyp/fp.c hyp/debug_check.c hyp/ktimer.c cap/cdt.c cap/cspace.c cap/cnode.c cap/sys_cnode.c \
	ipc/endpoint.c ipc/fastpath.c ipc/notification.c \
	mm/buddy.c mm/kmap.c mm/memmap.c mm/pmem.c mm/pt.c mm/slab.c \
	mm/memory.c mm/aspace.c mm/iospace.c mm/sys_memory.c mm/sys_aspace.c \
	vcpu/vcpu.c vcpu/sys_vcpu.c vcpu/doorbell.c vcpu/status_reg.c
KOBJS := $(patsubst %,$(BUILD)/obj/%.o,$(basename $(ARCH_SRCS) $(GENERIC_SRCS)))
FDTOBJS := $(patsubst %.c,$(BUILD)/libfdt/%.o,$(LIBFDT_SRCS))

.PHONY: all kernel run test test-unit test-qemu bench deps clean _run _test debug _debug
all: kernel
kernel: $(KERNEL_IMAGE)

$(BUILD)/cairn.elf: $(KOBJS) $(FDTOBJS) $(KERNEL_LDS)
	$(Q)$(LD) $(ARCH_LDFLAGS) -T $(KERNEL_LDS) -o $@ $(KOBJS) $(FDTOBJS)
	@echo "  LD      $@"

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(KCFLAGS) $(WARN) -c $< -o $@
	@$(if $(Q),echo "  CC      $<")

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(@D)
	$(Q)$(CC) $(KCFLAGS) -D__ASSEMBLY__ -c $< -o $@
	@$(if $(Q),echo "  AS      $<")

# libfdt is third-party code: our warnings policy is not its own.
$(FDTOBJS): $(BUILD)/libfdt/%.o: $(LIBFDT_DIR)/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(KCFLAGS) -w -c $< -o $@
	@$(if $(Q),echo "  CC      libfdt/$*.c")

LIBFDT_FILES := $(addprefix $(LIBFDT_DIR)/,$(LIBFDT_SRCS) libfdt.h)
$(LIBFDT_FILES) &:
	@tools/libfdt.sh >/dev/null
$(KOBJS): | $(LIBFDT_DIR)/libfdt.h

# The framebuffer console's font (hyp/fbcon.c, in the ports that link it):
# a PSF font from Debian's console-setup-linux, converted at build time.
FBCON_FONT ?= /usr/share/consolefonts/Lat15-VGA16.psf.gz
# (also build/host/gen's, for its unit test)
%/gen/fbcon_font.h: tools/psf2c.py
	@mkdir -p $(@D)
	$(Q)python3 tools/psf2c.py $(FBCON_FONT) $@
$(BUILD)/obj/hyp/fbcon.o: $(BUILD)/gen/fbcon_font.h
$(BUILD)/obj/hyp/fbcon.o: KCFLAGS += -I$(BUILD)/gen

-include $(KOBJS:.o=.d) $(FDTOBJS:.o=.d)

# The root task (servers/root), built for the ports that run native threads
# (USER_ARCH := 1 in arch.mk) and linked into the kernel image.
ifeq ($(USER_ARCH),1)
# The ISA's side of user space: uarch.h, crt0.S, fp_regs.S.
UARCH := arch/$(ARCH)/user
USER_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -fno-pie -no-pie \
	-fno-stack-protector -nostdlib -static -Wl,--build-id=none -I. -Iinclude -I$(UARCH) $(USER_ARCH_CFLAGS) $(WARN)
ROOT_SRCS := $(UARCH)/crt0.S $(UARCH)/fp_regs.S servers/lib/ulib.c servers/lib/ring.c servers/lib/bootmod.c hyp/string.c \
	servers/vmm/vm.c servers/vmm/virtio_mmio.c $(wildcard servers/root/*.c servers/root/*.S)
# The VMM, a server of its own that the root task starts from this image.
VMM_SRCS := $(UARCH)/crt0.S servers/lib/ulib.c servers/lib/bootmod.c hyp/string.c servers/root/util.c \
	$(wildcard servers/vmm/*.c servers/vmm/$(ARCH)/*.c)
VMM_ELF := $(BUILD)/vmm/vmm.elf
# The block server, another the root task starts (servers/blk).
BLK_SRCS := $(UARCH)/crt0.S servers/lib/ulib.c servers/lib/virtq.c servers/lib/vdev_client.c \
	servers/lib/vdev_guard.c hyp/string.c \
	servers/root/util.c $(wildcard servers/blk/*.c)
BLK_ELF := $(BUILD)/blk/blk.elf
# The PCI server (servers/pci), with libfdt: it reads the bridge from its DTB.
PCI_SRCS := $(UARCH)/crt0.S servers/lib/ulib.c hyp/string.c servers/root/util.c \
	$(wildcard servers/pci/*.c)
PCI_ELF := $(BUILD)/pci/pci.elf
# The virtio-blk-pci driver (servers/vblk), a server the root task restarts.
VBLK_SRCS := $(UARCH)/crt0.S servers/lib/ulib.c servers/lib/vpci.c hyp/string.c servers/root/util.c \
	$(wildcard servers/vblk/*.c)
VBLK_ELF := $(BUILD)/vblk/vblk.elf
# The virtio-net-pci driver (servers/vnet) and the net server, a switch (servers/net).
VNET_SRCS := $(UARCH)/crt0.S servers/lib/ulib.c servers/lib/vpci.c hyp/string.c servers/root/util.c \
	$(wildcard servers/vnet/*.c)
VNET_ELF := $(BUILD)/vnet/vnet.elf
NET_SRCS := $(UARCH)/crt0.S servers/lib/ulib.c servers/lib/virtq.c servers/lib/vdev_client.c \
	servers/lib/vdev_guard.c hyp/string.c \
	servers/root/util.c $(wildcard servers/net/*.c)
NET_ELF := $(BUILD)/net/net.elf
# The console server (servers/con): guests' virtio-console.
CON_SRCS := $(UARCH)/crt0.S servers/lib/ulib.c servers/lib/virtq.c servers/lib/vdev_client.c \
	servers/lib/vdev_guard.c hyp/string.c \
	servers/root/util.c $(wildcard servers/con/*.c)
CON_ELF := $(BUILD)/con/con.elf
ROOT_ELF := $(BUILD)/root/root.elf
# System descriptions (systems/*.dts, docs/SYSTEM.md), compiled by dtc; the
# default one is built into the root task.
$(BUILD)/systems/%.dtb: systems/%.dts
	@mkdir -p $(@D)
	$(Q)dtc -q -I dts -O dtb -o $@ $<
DEFAULT_SYSTEM_DTB := $(BUILD)/systems/default.dtb
# The bare-metal test guest (guests/test), a flat image the root task's VMM
# tests load into guest RAM.
GUEST_TEST_BIN := $(BUILD)/guests/test.bin
ifeq ($(NO_TEST_GUEST),1)
# A port without VCPUs (NO_TEST_GUEST := 1 in its arch.mk) carries an
# empty image, its VM tests being skipped.
$(GUEST_TEST_BIN):
	@mkdir -p $(@D)
	$(Q): > $@
else
# Its ISA's entry, primitives and own tests (guests/test/$(ARCH), whose
# isa.h common.h includes), the tests every ISA shares, the guest timer's
# (an arch.mk whose guest has no timer empties GUEST_TEST_TIMER), the
# virtio ones.
GUEST_TEST_TIMER ?= guests/test/timer.c
GUEST_TEST_SRCS := guests/test/$(ARCH)/start.S guests/test/$(ARCH)/isa.c guests/test/guest.c \
	$(GUEST_TEST_TIMER) guests/test/vfuzz.c guests/test/vnetfuzz.c
$(GUEST_TEST_BIN): $(wildcard guests/test/* guests/test/$(ARCH)/*) include/cairn/vcpu.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -Iguests/test/$(ARCH) -Wl,--no-warn-rwx-segments \
		-T guests/test/guest.ld -o $(@:.bin=.elf) $(GUEST_TEST_SRCS) -lgcc
	$(Q)$(OBJCOPY) -O binary $(@:.bin=.elf) $@
	@echo "  GUEST   $@"
endif
# libfdt for user space (the VMM builds guest DTBs), from the same sources.
USER_FDTOBJS := $(patsubst %.c,$(BUILD)/root/libfdt/%.o,$(LIBFDT_SRCS))
$(USER_FDTOBJS): $(BUILD)/root/libfdt/%.o: $(LIBFDT_DIR)/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -Ihyp/libfdt -I$(LIBFDT_DIR) -w -c $< -o $@
USER_HDRS := $(wildcard $(UARCH)/*.h servers/lib/*.h servers/root/*.h servers/vmm/*.h servers/vmm/$(ARCH)/*.h \
	include/cairn/*.h guests/test/*.h)
$(VMM_ELF): $(VMM_SRCS) servers/root/root.ld $(USER_HDRS) $(USER_FDTOBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -Iservers/vmm/$(ARCH) -Ihyp/libfdt -I$(LIBFDT_DIR) -T servers/root/root.ld -o $@ \
		$(filter %.c %.S %.o,$^) -lgcc
	@echo "  LD      $@"
$(BLK_ELF): $(BLK_SRCS) servers/root/root.ld $(USER_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -T servers/root/root.ld -o $@ $(filter %.c %.S,$^) -lgcc
	@echo "  LD      $@"
$(PCI_ELF): $(PCI_SRCS) servers/root/root.ld $(USER_HDRS) $(USER_FDTOBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -Ihyp/libfdt -I$(LIBFDT_DIR) -T servers/root/root.ld -o $@ \
		$(filter %.c %.S %.o,$^) -lgcc
	@echo "  LD      $@"
$(VBLK_ELF): $(VBLK_SRCS) servers/root/root.ld $(USER_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -T servers/root/root.ld -o $@ $(filter %.c %.S,$^) -lgcc
	@echo "  LD      $@"
$(VNET_ELF): $(VNET_SRCS) servers/root/root.ld $(USER_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -T servers/root/root.ld -o $@ $(filter %.c %.S,$^) -lgcc
	@echo "  LD      $@"
$(NET_ELF): $(NET_SRCS) servers/root/root.ld $(USER_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -T servers/root/root.ld -o $@ $(filter %.c %.S,$^) -lgcc
	@echo "  LD      $@"
$(CON_ELF): $(CON_SRCS) servers/root/root.ld $(USER_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -T servers/root/root.ld -o $@ $(filter %.c %.S,$^) -lgcc
	@echo "  LD      $@"
$(ROOT_ELF): $(ROOT_SRCS) servers/root/root.ld $(USER_HDRS) $(GUEST_TEST_BIN) $(USER_FDTOBJS) $(VMM_ELF) $(BLK_ELF) $(PCI_ELF) $(VBLK_ELF) $(VNET_ELF) $(NET_ELF) $(CON_ELF) $(DEFAULT_SYSTEM_DTB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -Ihyp/libfdt -I$(LIBFDT_DIR) -DGUEST_TEST_BIN='"$(GUEST_TEST_BIN)"' \
		-DVMM_ELF='"$(VMM_ELF)"' -DBLK_ELF='"$(BLK_ELF)"' -DPCI_ELF='"$(PCI_ELF)"' -DVBLK_ELF='"$(VBLK_ELF)"' \
		-DVNET_ELF='"$(VNET_ELF)"' -DNET_ELF='"$(NET_ELF)"' -DCON_ELF='"$(CON_ELF)"' -DDEFAULT_SYSTEM_DTB='"$(DEFAULT_SYSTEM_DTB)"' \
		-T servers/root/root.ld -o $@ $(filter %.c %.S %.o,$^) -lgcc
	@echo "  LD      $@"
$(BUILD)/obj/hyp/root_image.o: $(ROOT_ELF)
$(BUILD)/obj/hyp/root_image.o: KCFLAGS += -DROOT_ELF='"$(ROOT_ELF)"'
endif

deps:
	@tools/deps.sh

# run and test install missing packages first, then build and go.
run: deps
	@$(MAKE) --no-print-directory _run
test: deps
	@$(MAKE) --no-print-directory _test

# SCREEN=1 (x86_64): QEMU's standard VGA shown, where BOOT=uefi has the
# kernel's framebuffer console (hyp/fbcon.c): in a window where Debian's
# qemu-system-gui is installed, else over VNC (QEMU says where).  The serial
# console and QEMU's monitor (Ctrl-A c) stay on the terminal.  Not DISPLAY,
# which X sets in the environment.
QEMU_DISPLAY := $(if $(filter 1,$(SCREEN)),-vga std -serial mon:stdio,-nographic)
_run: kernel $(RUN_DEPS)
	$(QEMU) $(QEMU_MACHINE) -smp $(SMP) -m $(MEM) $(QEMU_DISPLAY) $(QEMU_BOOT_$(BOOT)) $(RUN_ARGS)

# make debug: what make run boots, stopped at reset with QEMU's GDB stub,
# and gdb-multiarch attached with the kernel's and the root task's symbols
# and the project's commands (tools/cairn-gdb.py: cairn-threads).  The
# console goes to $(BUILD)/console.log (tail -f it beside gdb); quitting
# gdb stops QEMU.  AArch64 (where the boot loader puts the kernel is known).
GDB_PORT ?= 1234
debug: deps
	@$(MAKE) --no-print-directory _debug
_debug: kernel $(RUN_DEPS)
	@test "$(ARCH)" = aarch64 || { echo "make debug: AArch64 only for now"; exit 1; }
	@echo "cairn: console in $(BUILD)/console.log; in gdb: continue, Ctrl-C, cairn-threads"
	@$(QEMU) $(QEMU_MACHINE) -smp $(SMP) -m $(MEM) -display none -monitor none \
		-serial file:$(BUILD)/console.log $(QEMU_BOOT_$(BOOT)) $(RUN_ARGS) \
		-S -gdb tcp:127.0.0.1:$(GDB_PORT) & \
	gdb-multiarch -q -x tools/cairn-gdb.py -ex "cairn-load $(BUILD) 0x40200000" \
		-ex "target remote 127.0.0.1:$(GDB_PORT)"; kill %1 2>/dev/null; true

include tests/tests.mk

clean:
	rm -rf build
