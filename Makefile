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
	-I. -Ihyp/libfdt -I$(LIBFDT_DIR) $(ARCH_CFLAGS)

GENERIC_SRCS := hyp/boot.c hyp/console.c hyp/dtb.c hyp/irq.c hyp/kmem.c \
	hyp/panic.c hyp/printk.c hyp/selftest.c hyp/smp.c hyp/string.c \
	mm/buddy.c mm/kmap.c mm/memmap.c mm/pmem.c mm/pt.c mm/slab.c
KOBJS := $(patsubst %,$(BUILD)/obj/%.o,$(basename $(ARCH_SRCS) $(GENERIC_SRCS)))
FDTOBJS := $(patsubst %.c,$(BUILD)/libfdt/%.o,$(LIBFDT_SRCS))

.PHONY: all kernel run test test-unit test-qemu bench deps clean _run _test
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

-include $(KOBJS:.o=.d) $(FDTOBJS:.o=.d)

deps:
	@tools/deps.sh

# run and test install missing packages first, then build and go.
run: deps
	@$(MAKE) --no-print-directory _run
test: deps
	@$(MAKE) --no-print-directory _test

_run: kernel
	$(QEMU) $(QEMU_MACHINE) -smp $(SMP) -m $(MEM) -nographic $(QEMU_BOOT_$(BOOT))

include tests/tests.mk

clean:
	rm -rf build
