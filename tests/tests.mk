# Test tiers: host unit tests (cmocka, ASan+UBSan), then QEMU scenarios.
# Every runner ends with "N passed, N failed"; _test adds them up.

HOST_CC ?= gcc
UNIT_BUILD := build/host
# -Wno-unused-parameter: every cmocka test takes a `void **state` it may not use.
UNIT_CFLAGS := -std=gnu11 -g -O1 -Itests/unit/include -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=address,undefined -fno-sanitize-recover=all -I. -Iinclude -Itests/unit -I$(UNIT_BUILD)/gen
UNIT_LIBS := -lcmocka -lfdt -lpthread
UNIT_TESTS := buddy slab dtb dtb_fuzz pt cap sched bkl ring virtq netchan sysdesc numa efi_ranges fbcon string
# The x86_64 VMM's APIC model and virtio transport, built with that port's user headers (their
# trap is x86 assembly, which an x86_64 host compiles; the test replaces it).
ifeq ($(shell uname -m),x86_64)
UNIT_TESTS += vlapic
else
$(info test-unit: test_vlapic SKIPPED: it needs an x86_64 host)
endif
UNIT_SRCS_buddy := mm/buddy.c
UNIT_SRCS_slab := mm/buddy.c mm/slab.c mm/pmem.c mm/memmap.c hyp/dtb.c
UNIT_SRCS_dtb := tests/unit/dtb_tree.c hyp/dtb.c mm/memmap.c mm/pmem.c mm/buddy.c
UNIT_SRCS_pt := mm/pt.c mm/buddy.c
UNIT_SRCS_cap := cap/cdt.c cap/cspace.c
UNIT_SRCS_sched := hyp/runq.c hyp/sched.c hyp/fair.c hyp/balance.c hyp/budget.c hyp/ktimer.c
UNIT_SRCS_ring := servers/lib/ring.c
UNIT_SRCS_virtq := servers/lib/virtq.c
UNIT_SRCS_sysdesc := servers/root/sysdesc.c
UNIT_SRCS_numa := tests/unit/dtb_tree.c hyp/dtb.c mm/memmap.c mm/pmem.c mm/buddy.c mm/slab.c
UNIT_SRCS_dtb_fuzz := tests/unit/dtb_tree.c hyp/dtb.c mm/memmap.c
UNIT_SRCS_efi_ranges := arch/aarch64/efi/ranges.c
UNIT_SRCS_fbcon := hyp/fbcon.c
UNIT_SRCS_vlapic := servers/vmm/x86_64/lapic.c servers/vmm/virtio_mmio.c
UNIT_INCLUDED_string := hyp/string.c # included by the test, under other names
UNIT_CFLAGS_vlapic := -Iarch/x86_64/user -Iservers/vmm/x86_64 -DUARCH_SYS_RECORDED
$(UNIT_BUILD)/test_fbcon: $(UNIT_BUILD)/gen/fbcon_font.h

define unit_rule
$(UNIT_BUILD)/test_$(1): tests/unit/test_$(1).c tests/unit/host.c $(UNIT_SRCS_$(1)) $(UNIT_INCLUDED_$(1)) $(wildcard hyp/*.h mm/*.h cap/*.h include/cairn/*.h tests/unit/*.h servers/root/sysdesc.h servers/vmm/*.h servers/vmm/x86_64/*.h servers/lib/*.h) $(if $(filter sysdesc,$(1)),$(wildcard systems/*.dts))
	@mkdir -p $$(@D)
	$(Q)$(HOST_CC) $(UNIT_CFLAGS) $(UNIT_CFLAGS_$(1)) -o $$@ $$(filter-out $(UNIT_INCLUDED_$(1)),$$(filter %.c,$$^)) $(UNIT_LIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

# Host benchmarks of kernel sources, with the kernel's optimisation and no
# sanitizers.  test-unit builds it so that it cannot rot; make bench runs it.
BENCH_HOST_SRCS := tests/bench/bench_host.c cap/cspace.c mm/buddy.c mm/slab.c mm/memory.c \
	mm/pmem.c mm/memmap.c hyp/dtb.c
$(UNIT_BUILD)/bench_host: $(BENCH_HOST_SRCS) $(wildcard hyp/*.h mm/*.h cap/*.h include/cairn/*.h)
	@mkdir -p $(@D)
	$(Q)$(HOST_CC) -std=gnu11 -O2 -I. -Iinclude -Itests/unit/include -Wall -Wextra -Werror \
		-o $@ $(BENCH_HOST_SRCS) -lfdt

test-unit: $(UNIT_TESTS:%=$(UNIT_BUILD)/test_%) $(UNIT_BUILD)/bench_host
	@for t in $(UNIT_TESTS:%=$(UNIT_BUILD)/test_%); do \
		out=$$($$t 2>&1); rc=$$?; echo "$$out"; \
		echo "$$out" | grep -q '[0-9] passed, [0-9]* failed' || \
			echo "$$(basename $$t): 0 passed, 1 failed (exit status $$rc, no result line)"; \
	done

# Test-only payload: hands the kernel an arbitrary DTB blob in x0.
$(BUILD)/tests/dtb-shim.bin: tests/qemu/dtb-shim-$(ARCH).S
	@mkdir -p $(@D)
	$(Q)$(CC) -c -o $(@:.bin=.o) $<
	$(Q)$(LD) -Ttext=0 -o $(@:.bin=.elf) $(@:.bin=.o)
	$(Q)$(OBJCOPY) -O binary $(@:.bin=.elf) $@

# An initrd whose byte i is (i * 7 + i / 4096) mod 256, 3 pages and a bit,
# for the root task's boot-info test.
$(BUILD)/tests/initrd.bin:
	@mkdir -p $(@D)
	$(Q)python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 7 + (i >> 12)) & 255 for i in range(3 * 4096 + 1000)))' > $@

# A description the root task must refuse, alone in its bundle.
$(BUILD)/tests/bad-system.bin: tests/qemu/bad-system.dts tools/mkbootmod.py
	@mkdir -p $(@D)
	$(Q)dtc -q -I dts -O dtb -o $(@:.bin=.dtb) $<
	$(Q)python3 tools/mkbootmod.py $@ system=$(@:.bin=.dtb)

# Descriptions only the tests boot, bundled with the Linux guest.
$(BUILD)/tests/%.bin: tests/qemu/%.dts tools/mkbootmod.py tools/linux-guest.sh guests/linux/init
	@mkdir -p $(@D)
	$(Q)dtc -q -I dts -O dtb -o $(@:.bin=.dtb) $<
	$(Q)d=$$(tools/linux-guest.sh) && python3 tools/mkbootmod.py $@ linux=$$d/Image \
		initramfs=$$d/initramfs.cpio system=$(@:.bin=.dtb)

test-qemu: kernel $(QEMU_TEST_DEPS)
	@python3 tests/qemu/run.py --arch $(ARCH) --build $(BUILD)

# `make test` boots every architecture, whatever ARCH says.
TEST_ARCHES := aarch64 riscv64 x86_64
test-qemu-%:
	@$(MAKE) --no-print-directory ARCH=$* test-qemu

# Each tier's exit status is logged too, so a tier that breaks before its
# runner prints a result line (a build error, say) still counts as failed.
TEST_TIERS := test-unit $(TEST_ARCHES:%=test-qemu-%)
_test:
	@mkdir -p build && rm -f build/test-results.log
	@for tier in $(TEST_TIERS); do \
		($(MAKE) --no-print-directory $$tier 2>&1; echo "tier-exit $$tier $$?") | \
			tee -a build/test-results.log; \
	done
	@tools/sum-results build/test-results.log

# Benchmarks: the root task's, in QEMU with -icount shift=0 (the cycle
# counter counts instructions), on one CPU; a second boot with the IPC fast
# path off measures the general path, a third on 2 CPUs a call across
# them (ipc_cross_cpu; riscv64's with the idle poll off, which -icount's
# round robin would count: docs/PERF.md); the disk test times a driver's
# restart, death to its first completed request (driver_restart_us);
# tools/busy-ratio times the SMP=4
# token ring quiet and beside a CPU hog; cairn.root=smpbench measures IPC
# pairs and a notified ring across 2 CPUs by the wall clock.  Prints BENCH
# lines.
# A boot's command line: -append, unless the arch.mk says otherwise (x86:
# GRUB passes it from an ISO made with it).
qemu_cmdline ?= -append "$(1)"
BENCH_QEMU = timeout 300 $(QEMU) $(QEMU_MACHINE) -smp 1 -m $(MEM) -nographic -icount shift=0 \
	$(QEMU_BOOT_kernel)
BENCH_CROSS_CPU = cairn.root=bench bench.only=ipc_cross_cpu$(if $(filter riscv64,$(ARCH)), cairn.idle_poll=off)
# The wall-clock ones on 2 CPUs (no -icount: MTTCG, a host thread per CPU).
BENCH_QEMU_SMP = timeout 300 $(QEMU) $(QEMU_MACHINE) -smp 2 -m $(MEM) -nographic $(QEMU_BOOT_kernel)
bench: kernel $(UNIT_BUILD)/bench_host $(if $(filter aarch64,$(ARCH)),$(LINUX_MODS))
	@$(UNIT_BUILD)/bench_host
	@$(BENCH_QEMU) $(call qemu_cmdline,cairn.root=bench) | grep --line-buffered '^BENCH'
	@$(BENCH_QEMU) $(call qemu_cmdline,cairn.root=bench cairn.fastpath=off) | grep --line-buffered '^BENCH'
	@$(subst -smp 1,-smp 2,$(BENCH_QEMU)) $(call qemu_cmdline,$(BENCH_CROSS_CPU)) | grep '^BENCH'
	@$(BENCH_QEMU_SMP) $(call qemu_cmdline,cairn.root=smpbench) | grep '^BENCH'
	@$(if $(filter aarch64,$(ARCH)),d=$$(mktemp) && truncate -s 16M $$d && \
		timeout 300 $(QEMU) $(QEMU_MACHINE) -smp 2 -m $(MEM) -nographic $(QEMU_BOOT_kernel) \
		-append cairn.root=disk -drive file=$$d,if=none,id=d,format=raw \
		-device virtio-blk-pci,drive=d,iommu_platform=on,disable-legacy=on | grep '^BENCH'; \
		rm -f $$d)
	@$(if $(filter aarch64,$(ARCH)),tools/busy-ratio $(BUILD)/Image)
	@$(if $(filter aarch64,$(ARCH)),tools/linux-boot-ratio $(BUILD) $$(tools/linux-guest.sh))
	@$(if $(filter aarch64,$(ARCH)),tools/virtio-blk-ratio $(BUILD) $$(tools/linux-guest.sh))
	@$(if $(filter aarch64,$(ARCH)),tools/virtio-net-ratio $(BUILD) $$(tools/linux-guest.sh))
	@$(if $(filter aarch64,$(ARCH)),tools/virtio-net-g2g-ratio $(BUILD) $$(tools/linux-guest.sh))
