"""QEMU scenarios per architecture: what to boot and what the console must say."""
import functools
import hashlib
import http.server
import threading
import os
import re
import shutil
import subprocess
import sys

UBOOT_ARM64 = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"
BOOT_OK = r"cairn: boot ok \((\d+) of \1 cpus"
ROOT_OK = r"root: \d+ passed, 0 failed"
SHIM_KERNEL_PA = 0x40400000  # tests/qemu/dtb-shim-aarch64.S
SHIM_DTB_PA = 0x4c000000


class Scenario:
    def __init__(self, name, argv, expect, poweroff=False, allow=(), timeout=60,
                 prepare=None, stdin=None, send=None, check=None):
        self.name = name
        self._argv = argv          # build dir -> argv list
        self.expect = expect       # regexes, in console order
        self.poweroff = poweroff   # QEMU must exit 0 by itself at the end
        self.allow = allow         # fatal patterns this scenario expects
        self.timeout = timeout
        self.prepare = prepare     # build dir -> None, run first
        self.stdin = stdin         # bytes fed to the emulator's stdin
        self.send = send or {}     # expected pattern -> bytes typed once it is seen
        self.check = check         # build dir -> None, or why it failed, after the run

    def argv(self, build):
        if self.prepare:
            self.prepare(build)
        return self._argv(build)


def sh(*argv, **kw):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kw)


# ---- aarch64 -------------------------------------------------------------

SMMU = "virt,virtualization=on,gic-version=3,iommu=smmuv3"


def arm(machine="virt,virtualization=on,gic-version=3", smp=1, mem="512M",
        cpu="max,pauth-impdef=on"):
    return ["qemu-system-aarch64", "-machine", machine,
            "-cpu", cpu, "-nographic", "-smp", str(smp), "-m", mem]


def numa(*nodes, dist=()):
    """QEMU -numa options: node i gets nodes[i] = (MiB, "cpus"); dist holds
    (src, dst, distance) triplets (the DTB's distance-map, the ACPI SLIT)."""
    argv = []
    for i, (mib, cpus) in enumerate(nodes):
        argv += ["-object", "memory-backend-ram,id=m%d,size=%dM" % (i, mib),
                 "-numa", "node,nodeid=%d,cpus=%s,memdev=m%d" % (i, cpus, i)]
    for d in dist:
        argv += ["-numa", "dist,src=%d,dst=%d,val=%d" % d]
    return argv


# Three nodes, node 2 nearest node 1 (20) and far from node 0 (40): the
# root test fills node 2 and an untied frame made on CPU 2 must come from
# node 1 (numa.next=1), where falling back by id would give node 0.
NUMA3 = numa((256, "0"), (256, "1"), (256, "2"), dist=((0, 1, 40), (0, 2, 40), (1, 2, 20)))
NUMA3_ARGS = "cairn.root=test root.only=numa numa.nodes=3 numa.next=1"
NUMA3_EXPECT = [r"numa: node 0: 25\d MiB RAM, \d+ pages free, cpus 0x1, nearest 0 1 2",
                r"numa: node 1: 256 MiB RAM, \d+ pages free, cpus 0x2, nearest 1 2 0",
                r"numa: node 2: 25\d MiB RAM, \d+ pages free, cpus 0x4, nearest 2 1 0",
                r"root: numa: node 2 full, its CPU 2 got node 1", r"root: ok   numa", ROOT_OK]


def edited_dtb(build, machine_argv, name, edit):
    """QEMU's own DTB for `machine_argv`, edited as DTS text by `edit`."""
    d = os.path.join(build, "tests")
    os.makedirs(d, exist_ok=True)
    base = os.path.join(d, "qemu-%s.dtb" % name)
    sh(*machine_argv, "-machine", "dumpdtb=" + base, stderr=subprocess.DEVNULL)
    dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", base], check=True,
                         capture_output=True, text=True).stdout
    src = os.path.join(d, name + ".dts")
    with open(src, "w") as f:
        f.write(edit(dts))
    out = os.path.join(d, name + ".dtb")
    sh("dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out, src)
    return out


def scratch_disk(build, name, mib=16):
    """A sparse raw disk image under build/tests, made fresh."""
    path = os.path.join(build, "tests", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(mib << 20)
    return path


def disk_written(build, log, name="pci-disk.img"):
    """What the root task wrote through the disk driver is in the host's
    image file: its mark in sector 1, and the last generation of its 2 MiB
    pattern from 1 MiB (servers/root/disk_test.c, pattern())."""
    with open(os.path.join(build, "tests", name), "rb") as f:
        image = f.read(3 << 20)
    mark = b"cairn disk driver wrote this sector"
    if not image[512:1024].startswith(mark * 2):
        return "sector 1 of the image is not the driver's"
    for gen in range(2, 12):
        want = bytes(((o >> 9) * 131 + (o & 511) + gen * 17) & 0xff
                     for o in range(1 << 20, 1 << 20 | 4096))
        if image[1 << 20:(1 << 20) + 4096] == want:
            break
    else:
        return "the pattern is not at 1 MiB in the image"
    full = bytes(((o >> 9) * 131 + (o & 511) + gen * 17) & 0xff
                 for o in range(1 << 20, 3 << 20))
    return None if image[1 << 20:3 << 20] == full else "the image's 2 MiB differ from the pattern"


def linux_disk_written(build, log, name="linux-disk.img"):
    """The guest's 64 MiB are the first 64 MiB of the host's image file."""
    m = re.search(r"cairn-guest: disk checksum equal: ([0-9a-f]{32})", log)
    with open(os.path.join(build, "tests", name), "rb") as f:
        image = f.read(64 << 20)
    if not m or hashlib.md5(image).hexdigest() != m.group(1):
        return "the image's first 64 MiB are not what the guest wrote"
    return None


def shell_file_written(build, log):
    """The shell's file on the guest's ext2 is in the host's image file."""
    with open(os.path.join(build, "tests", "shell-disk.img"), "rb") as f:
        image = f.read()
    return None if b"cairn-file-42\n" in image else "the shell's file is not on the host's image"


_www = {}


def www_server(build):
    """An HTTP server on the host for the guests to fetch from (a thread of
    this runner, on 127.0.0.1 and a free port), serving a 1 MiB file made
    here; returns its port."""
    if "port" not in _www:
        d = os.path.join(build, "tests", "www")
        os.makedirs(d, exist_ok=True)
        data = bytes((i * 7 + (i >> 10)) & 0xff for i in range(1 << 20))
        with open(os.path.join(d, "page"), "wb") as f:
            f.write(data)
        _www["md5"] = hashlib.md5(data).hexdigest()

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                              functools.partial(Quiet, directory=d))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        _www["port"] = srv.server_address[1]
    return _www["port"]


def page_fetched(build, log, dma=r"confined to its I/O space"):
    """The guest's copy of the host's page has the page's checksum; the
    servers said what they are (in any order: each runs on its own)."""
    for line in (r"vnet: a driver of its own: virtio-net-pci, MAC 52:54:00:12:34:56, DMA " + dma,
                 r"net: a switch of its own: up to 4 guests and an uplink"):
        if not re.search(line, log):
            return "no line %r" % line
    m = re.search(r"cairn-guest: fetched (\d+) bytes from the host, md5 ([0-9a-f]{32})", log)
    if not m or int(m.group(1)) != 1 << 20 or m.group(2) != _www.get("md5"):
        return "the guest's page is not the host's"
    return None


def switch_restarted(build, log):
    """page_fetched, and the VMM reconnected the port: the new switch and
    the VMM print from their own threads, on either CPU, in either order."""
    if not re.search(r"vmm: virtio slot 1 reconnected to its backend", log):
        return "the VMM did not reconnect the switch's port"
    return page_fetched(build, log)


def hvc_lines_whole(build, log):
    """Every one of the guest's 300 hvc0 lines came out whole, through a
    console server restart (one the old server had taken may come twice).
    Another server's line may follow on the shared console before the
    guest's newline does ("hvc line 48vmm: ...", beside two CPU hogs)."""
    got = set(int(n) for n in re.findall(r"cairn-guest: hvc line (\d+)(?!\d)", log))
    missing = sorted(set(range(1, 301)) - got)
    return "hvc lines missing: %s" % missing[:10] if missing else None


def rtc_is_today(build, log):
    """The passed-through RTC told the guest the host's date (UTC), give or
    take the midnight the run may cross."""
    import datetime
    dates = re.findall(r"rtc0 is rtc-pl031 9010000.pl031, the date (\S+); the clock says (\S+)", log)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    near = {str(today), str(today - datetime.timedelta(days=1))}
    if len(dates) != 2 or any(rtc not in near or clock != rtc for rtc, clock in dates):
        return "the guest's RTC dates %r are not today's %s" % (dates, today)
    return None


def monitor_adds_up(build, log):
    """In every report, each CPU's busy and idle time add up to the time
    since the last report (within 1 %, and the 0.15 ms the three figures'
    rounding to 0.1 ms can make: a report 9.1 ms after the last printed
    8.8 + 0.2), and the threads' charges to the
    CPUs' busy time (within 1 %, a millisecond, and per CPU the time the
    reading took, this report's and the last's: a thread running meanwhile
    gains that much in one report and the next has it less).  A report
    after which threads were deleted (the guest powered off) cannot add up:
    their time went with them; the monitor says so, and it is skipped."""
    cpus = re.findall(r"monitor: cpu \d+: .*: busy ([\d.]+) \+ idle ([\d.]+) ms, "
                      r"elapsed ([\d.]+) ms", log)
    sums = re.findall(r"monitor: threads charged ([\d.]+) ms, CPUs busy ([\d.]+) ms "
                      r"\(read in ([\d.]+) ms\)", log)
    ncpu = len(set(re.findall(r"monitor: cpu (\d+):", log))) or 1
    if len(cpus) < 4 or len(sums) < 2:
        return "too few reports (%d CPU lines, %d sums)" % (len(cpus), len(sums))
    for b, i, e in cpus:
        if abs(float(b) + float(i) - float(e)) > 0.01 * float(e) + 0.15:
            return "busy %s + idle %s ms is not the elapsed %s ms" % (b, i, e)
    gone = [bool(re.search(r"monitor: \d+ threads gone since the last report", report))
            for report in re.split(r"monitor: report \d+", log)[1:]]
    if len(gone) != len(sums):
        return "%d reports, %d sums" % (len(gone), len(sums))
    if gone.count(False) < 2:
        return "too few reports without threads gone"
    last = 0.0
    for (t, b, r), skip in zip(sums, gone):  # a thread running during a reading gains up to its length
        if not skip and abs(float(t) - float(b)) > 0.01 * float(b) + 1 + 2 * ncpu * (float(r) + last):
            return "threads charged %s ms, but the CPUs were busy %s ms (read in %s ms)" % (t, b, r)
        last = float(r)
    return None


def nothing_started(build, log):
    for what in ("VMM started", "block server /", "switch /", "driver started"):
        if what in log:
            return "a refused description started something: %r" % what
    return None


def halves_written(build, log):
    """Each guest saw its half of the disk and guest 2 its address; guest 1's
    write is in its half."""
    # guest 1's line, unmarked: it may follow guest 2's prompt, which ends
    # without a newline, on the same console line
    for line in (r"(?<!\[guest 2\] )cairn-guest: vda, 131072 sectors of my own",
                 r"\[guest 2\] cairn-guest: virtio disk vda, 131072 sectors",
                 # guest 2's address, which guest 1's ping may get an
                 # answer from before guest 2's console line is out
                 r"\[guest 2\] cairn-guest: eth0 52:54:00:ca:1e:02 is 10.0.2.16"):
        if not re.search(line, log):
            return "no line %r" % line
    with open(os.path.join(build, "tests", "two-disk.img"), "rb") as f:
        head = f.read(32)
    return None if head.startswith(b"cairn-guest-1-wrote-this") else "guest 1's write is not there"


def arm_dtb(build, name, edit):
    return edited_dtb(build, arm(), name, edit)


def add_to_root(dts, text):
    """Insert `text` as the last children of the root node."""
    end = dts.rindex("};")
    return dts[:end] + text + dts[end:]


def drop_memory(dts):
    return re.sub(r"\n\tmemory@[0-9a-f]+ \{.*?\n\t\};", "", dts, flags=re.S)


def reserved_node(addr):
    return """
\treserved-memory {
\t\t#address-cells = <0x02>;
\t\t#size-cells = <0x02>;
\t\tranges;
\t\ttest-carveout@%x {
\t\t\treg = <0x00 0x%x 0x00 0x100000>;
\t\t\tno-map;
\t\t};
\t};
""" % (addr, addr)


def carveout_expect(addr):
    return [r"reserved +0x%010x-0x%010x +1024 KiB +test-carveout@%x"
            % (addr, addr + 0xfffff, addr),
            r"mm: selftest passed: \d+ pages handed out, 0 outside RAM or reserved",
            BOOT_OK]

OVERLAP = """
\tmemory@50000000 {
\t\tdevice_type = "memory";
\t\treg = <0x00 0x50000000 0x00 0x1000000>;
\t};
"""


def shim(blob_of, machine=None):
    """Boot through the DTB shim: the kernel gets blob_of(build) in x0, as is."""
    def argv(build):
        return (machine or arm()) + [
            "-kernel", os.path.join(build, "tests", "dtb-shim.bin"),
            "-device", "loader,file=%s,addr=0x%x,force-raw=on"
            % (os.path.join(build, "Image"), SHIM_KERNEL_PA),
            "-device", "loader,file=%s,addr=0x%x,force-raw=on"
            % (blob_of(build), SHIM_DTB_PA)]
    return argv


def memory_reg(reg):
    """An edit that makes the memory node say `reg` (cells as DTS text) and
    /chosen carry bootargs, which the kernel reads after the MMU is on."""
    def edit(dts):
        dts = re.sub(r"(memory@40000000 \{\s*reg = <)[^>]*>", r"\g<1>%s>" % reg, dts)
        return re.sub(r"(\n\tchosen \{)", r'\1\n\t\tbootargs = "cairn.test=mm";', dts)
    return edit


def not_a_dtb(build):
    path = os.path.join(build, "tests", "not-a-dtb.bin")
    with open(path, "wb") as f:
        f.write(b"this is not a flattened device tree\n" * 64)
    return path


AAVMF_CODE = "/usr/share/AAVMF/AAVMF_CODE.fd"
AAVMF_VARS = "/usr/share/AAVMF/AAVMF_VARS.fd"
# AAVMF hands the OS QEMU's DTB only without ACPI tables (acpi=off).
UEFI_VIRT = "virt,virtualization=on,gic-version=3,acpi=off"


def aavmf(build, args="", module=None):
    """AAVMF booting BOOTAA64.EFI, which loads the Image (tools/mkesp.sh).
    The ESP is a virtio-mmio disk, which Cairn's drivers leave alone (they
    take PCI ones); no NIC, so that the firmware tries no network boot first."""
    return uefi(build, args, module, "BOOTAA64.EFI", "Image", AAVMF_CODE, AAVMF_VARS,
                "virtio-blk-device") + ["-net", "none"]


# The loader's line, then the kernel's: what /chosen got, and the memory
# UEFI keeps (runtime services) reserved through /memreserve/ (QEMU's own
# DTB has none).
UEFI_LOADED = r"cairn-efi: kernel at 0x[0-9A-F]+, DTB at 0x[0-9A-F]+, initrd %d bytes"
UEFI_MEMRESERVE = r"reserved +0x[0-9a-f]+-0x[0-9a-f]+ +\d+ KiB +memreserve"


def aarch64(build):
    img = os.path.join(build, "Image")
    kernel = ["-kernel", img]
    mm_test = ["-append", "cairn.test=mm"]
    return [
        Scenario("boot-kernel", lambda b: arm() + kernel,
                 [r"aarch64 at EL2", r"gic: GICv3", r"timer: \d+ Hz", BOOT_OK]),
        Scenario("boot-uboot", lambda b: arm() + ["-bios", UBOOT_ARM64] + kernel,
                 [r"U-Boot 20", r"Starting kernel", r"aarch64 at EL2", BOOT_OK]),
        # AAVMF at EL2 with its MMU on runs Cairn's loader (arch/aarch64/efi),
        # which enters the kernel with it off and the DTB from UEFI's tables.
        Scenario("boot-uefi", lambda b: arm(UEFI_VIRT, smp=2) + aavmf(b),
                 [UEFI_LOADED % 0, r"aarch64 at EL2", r"cairn: bootargs \"\"",
                  UEFI_MEMRESERVE, r"cairn: boot ok \(2 of 2 cpus"], timeout=240),
        # The command line and the boot module through /chosen: the root
        # task's boot-info test checks both (and reads the initrd's bytes).
        Scenario("root-tests-uefi", lambda b: arm(UEFI_VIRT, smp=2) + aavmf(
                     b, "cairn.root=test root.only=boot-info root.initrd=yes", "tests/initrd.bin"),
                 [UEFI_LOADED % (3 * 4096 + 1000),
                  r"cairn: bootargs \"cairn.root=test root.only=boot-info root.initrd=yes\"",
                  r"reserved +0x[0-9a-f]+000-0x[0-9a-f]+ +\d+ KiB +initrd",
                  r"root: up, 2 cpus", r"root: ok   boot-info", ROOT_OK],
                 poweroff=True, timeout=300),
        # AAVMF at EL1 (no virtualization): the loader turns off EL1's MMU
        # instead, and the kernel says why it cannot run.
        Scenario("uefi-at-el1", lambda b: arm("virt,virtualization=off,gic-version=3,acpi=off")
                 + aavmf(b),
                 [UEFI_LOADED % 0, r"entered at EL1, but Cairn is a hypervisor",
                  r"powering off"], poweroff=True, timeout=240),
        # With ACPI tables AAVMF gives no DTB: the loader says so and
        # returns to the firmware instead of entering a kernel that has none.
        Scenario("uefi-acpi-no-dtb",
                 lambda b: arm("virt,virtualization=on,gic-version=3") + aavmf(b),
                 [r"cairn-efi: the firmware gives no device tree",
                  r"cairn-efi: preparing the device tree: Not Found"], timeout=240),
        Scenario("smp4", lambda b: arm(smp=4) + kernel,
                 [r"cpu1 online", r"cpu2 online", r"cpu3 online",
                  r"cairn: boot ok \(4 of 4 cpus"]),
        Scenario("cortex-a57-no-vhe", lambda b: arm(cpu="cortex-a57", smp=2) + kernel,
                 [r"VHE absent", r"cairn: boot ok \(2 of 2 cpus"]),
        Scenario("mem-128m", lambda b: arm(mem="128M") + kernel + mm_test,
                 [r"ram +0x0040000000-0x0047ffffff", r"mm: selftest passed", BOOT_OK]),
        Scenario("mem-2g", lambda b: arm(mem="2G", smp=2) + kernel + mm_test,
                 [r"ram +0x0040000000-0x00bfffffff", r"mm: selftest passed",
                  r"cairn: boot ok \(2 of 2 cpus"]),
        # NUMA from the DTB's numa-node-id: a buddy pool per node (each
        # hands out only its own RAM), every CPU's node, and the root test
        # numa (servers/root/tests_numa.c): Memory objects placed on each
        # node, one node filled, untied memory from each CPU's node.  (The
        # whole suite passes on two nodes too, but its timing tests are
        # for the quiet runs; this one must not fail with them.)
        Scenario("numa-2-nodes",
                 lambda b: arm(smp=2, mem="1G") + numa((512, "0"), (512, "1")) + kernel +
                 ["-append", "cairn.test=mm cairn.root=test root.only=numa numa.nodes=2"],
                 [r"mm: buddy \d+ of \d+ pages free \(\d+ MiB\) on node 0",
                  r"mm: buddy \d+ of \d+ pages free \(\d+ MiB\) on node 1",
                  r"mm: selftest passed: \d+ pages handed out, 0 outside RAM or reserved",
                  r"mm: selftest passed: \d+ pages handed out, 0 outside RAM or reserved",
                  r"numa: node 0: 512 MiB RAM, \d+ pages free, cpus 0x1\b",
                  r"numa: node 1: 512 MiB RAM, \d+ pages free, cpus 0x2\b",
                  r"cairn: boot ok \(2 of 2 cpus",
                  r"root: numa node 1: 512 MiB RAM, \d+ pages, cpus 0x2\b",
                  r"root: ok   numa", ROOT_OK], poweroff=True, timeout=120),
        # Uneven nodes, the boot CPU on the second: each CPU's untied
        # memory still comes from its own node.
        Scenario("numa-uneven",
                 lambda b: arm(smp=4, mem="1G") + numa((768, "1-3"), (256, "0")) + kernel +
                 ["-append", "cairn.root=test root.only=numa numa.nodes=2"],
                 [r"mm: buddy \d+ of \d+ pages free \(\d+ MiB\) on node 1",
                  r"numa: node 0: 768 MiB RAM, \d+ pages free, cpus 0xe\b",
                  r"numa: node 1: 256 MiB RAM, \d+ pages free, cpus 0x1\b",
                  r"root: ok   numa", ROOT_OK], poweroff=True, timeout=120),
        Scenario("numa-3-nodes-distance",
                 lambda b: arm(smp=3, mem="768M") + NUMA3 + kernel + ["-append", NUMA3_ARGS],
                 NUMA3_EXPECT, poweroff=True, timeout=120),
        Scenario("reserved-memory",
                 lambda b: arm() + kernel + mm_test + ["-dtb", arm_dtb(
                     b, "reserved", lambda s: add_to_root(s, reserved_node(0x50000000)))],
                 carveout_expect(0x50000000)),
        Scenario("no-memory-node",
                 shim(lambda b: arm_dtb(b, "nomem", drop_memory)),
                 [r"cairn: boot error: DTB at 0x4c000000: no memory node",
                  r"powering off"], poweroff=True),
        Scenario("overlapping-memory",
                 shim(lambda b: arm_dtb(b, "overlap", lambda s: add_to_root(s, OVERLAP))),
                 [r"cairn: boot error: .*memory ranges overlap", r"powering off"],
                 poweroff=True),
        # Firmware may leave the DTB outside the RAM it describes: 192 MiB
        # of RAM with the blob at 0x4c000000 just past it; and RAM only above
        # 4 GiB, with the kernel and the blob below it.  Both boot.
        Scenario("dtb-outside-ram",
                 shim(lambda b: arm_dtb(b, "ram192m", memory_reg("0x00 0x40000000 0x00 0xc000000"))),
                 [r"dtb: at 0x4c000000, outside RAM: copied to", r"mm: selftest passed",
                  BOOT_OK, r"root: up, 1 cpus, bootargs \"cairn.test=mm\""]),
        Scenario("ram-only-above-4g",
                 shim(lambda b: edited_dtb(b, arm(mem="5G"), "ram4g",
                                           memory_reg("0x01 0x00 0x00 0x40000000")),
                      machine=arm(mem="5G")),
                 [r"ram +0x0100000000-0x013fffffff",
                  r"dtb: at 0x4c000000, outside RAM: copied to 0x1[0-9a-f]{8}\b",
                  r"mm: selftest passed", BOOT_OK]),
        Scenario("bad-dtb-header", shim(not_a_dtb),
                 [r"cairn: boot error: DTB at 0x4c000000: bad DTB header",
                  r"powering off"], poweroff=True),
        Scenario("entered-at-el1",
                 lambda b: arm(machine="virt,virtualization=off,gic-version=3") + kernel,
                 [r"entered at EL1, but Cairn is a hypervisor and must start at EL2",
                  r"no virtualization", r"powering off"], poweroff=True),
        Scenario("entered-at-el3",
                 lambda b: arm(machine="virt,virtualization=on,secure=on,gic-version=3")
                 + kernel,
                 [r"aarch64 at EL2", BOOT_OK]),
        # The root task's user-level suite, on one CPU (behind an SMMU:
        # io-spaces tests streams there, the others that they are refused),
        # on four, and on a CPU without VHE (native threads never need it).
        Scenario("root-tests", lambda b: arm(SMMU) + kernel + [
                     "-initrd", os.path.join(b, "tests", "initrd.bin"),
                     "-append", "cairn.root=test root.initrd=yes"],
                 [r"root: up, 1 cpus", r"root: I/O spaces and streams behind the IOMMU",
                  ROOT_OK], poweroff=True),
        # Lying drivers and VMMs against the backends without a guest
        # (servers/root/tests_vdev.c): over 100,000 random chains each for
        # the block server and the switch, a sixty-fourth of that for the
        # console server (it writes out what it is given).
        Scenario("vdev-fuzz", lambda b: arm(smp=2) + kernel + [
                     "-append", "cairn.root=test root.only=vdev-fuzz vdev.rounds=13000"],
                 [r"vdev fuzz: con: \d+ random chains offered",
                  r"vdev fuzz: blk: (\d{6,}) random chains offered, [1-9]\d* used entries, the device "
                  r"broken [1-9]\d* times; 13000 good requests after them all completed",
                  r"vdev fuzz: net: (\d{6,}) random chains offered, [1-9]\d* used entries",
                  r"root: 2 passed, 0 failed"], poweroff=True, timeout=300),
        # A lying virtio driver against the block server: 100,000
        # requests, half of them lies (guests/test/vfuzz.c); the other root
        # suites run 2,000.
        Scenario("vm-virtio-fuzz", lambda b: arm() + kernel + [
                     "-append", "cairn.root=test root.only=vm-virtio-fuzz vfuzz.requests=100000"],
                 [r"root: virtio fuzz: 50000 good requests checked; of the lies [1-9]\d* "
                  r"answered .*, [1-9]\d* refused", r"root: ok   vm-virtio-fuzz",
                  r"root: 2 passed, 0 failed"], poweroff=True, timeout=600),
        # The same against the switch, a guest on two of its ports: 100,000
        # rounds, half of them lies (guests/test/vnetfuzz.c).
        Scenario("vm-virtio-net-fuzz", lambda b: arm() + kernel + [
                     "-append", "cairn.root=test root.only=vm-virtio-net-fuzz vnetfuzz.rounds=100000"],
                 [r"root: virtio-net fuzz: 50000 good frames checked; of the lies [1-9]\d* "
                  r"answered, [1-9]\d* refused", r"root: ok   vm-virtio-net-fuzz",
                  r"root: 2 passed, 0 failed"], poweroff=True, timeout=600),
        # The SMP benchmarks (make bench) run to the end: the notified ring
        # across CPUs loses no wake-up (servers/lib/ring.c), and the IPC
        # pairs run on both CPUs.  Their figures are not judged here.
        Scenario("smp-bench-runs", lambda b: arm(smp=2) + kernel + [
                     "-append", "cairn.root=smpbench"],
                 [r"BENCH ipc_pairs_2cpus [1-9]\d* round trips/s",
                  r"BENCH notify_throughput [1-9]\d* items/s",
                  r"BENCH vm_virq_cross_cpu_ns [1-9]\d* ns"], poweroff=True, timeout=120),
        Scenario("root-tests-smp4",
                 lambda b: arm(smp=4) + kernel + ["-append", "cairn.root=test"],
                 [r"root: up, 4 cpus", r"root: no IOMMU on this machine", ROOT_OK],
                 poweroff=True),
        Scenario("root-tests-no-vhe",
                 lambda b: arm(cpu="cortex-a57") + kernel + ["-append", "cairn.root=test"],
                 [r"VHE absent", ROOT_OK], poweroff=True),
        # The same suite with the IPC fast path off: the general path must
        # give the same answers on its own.
        Scenario("root-tests-general-ipc",
                 lambda b: arm() + kernel + ["-append", "cairn.root=test cairn.fastpath=off"],
                 [r"root: up, 1 cpus", ROOT_OK], poweroff=True),
        # make bench's programme runs to the end (its numbers are not judged).
        Scenario("root-bench", lambda b: arm() + kernel + ["-icount", "shift=0", "-append",
                                                           "cairn.root=bench"],
                 [r"BENCH null_syscall \d+", r"BENCH ipc_call_reply \d+",
                  r"BENCH notify_wake \d+", r"BENCH yield_switch \d+",
                  r"BENCH yield_switch_same_space \d+", r"BENCH vm_hvc_roundtrip \d+",
                  r"BENCH vm_mmio_read_roundtrip \d+", r"BENCH vm_hypercall_ipc \d+",
                  r"BENCH vm_inject_roundtrip \d+", r"BENCH vcpu_switch \d+",
                  r"BENCH vm_virq_roundtrip \d+",
                  r"powered off by the root task"], poweroff=True),
        # 1,000 address spaces pass a token round a ring 100 times, then go;
        # memory must come back exactly.  On four CPUs, and on a CPU with
        # 8-bit VMIDs, where 1,000 live spaces force VMID rollovers.
        # Across CPUs every hop waits for a sleeping CPU to wake, which a
        # busy host makes slow: those rings go round 20 times.
        *[Scenario(name, lambda b, a=a, r=r: a + kernel + [
                       "-append", "cairn.root=stress stress.rounds=%d" % r],
                   [r"stress: the token went round %d times" % r,
                    r"stress: the kernel's invariants hold",
                    r"stress: torn down, memory back exactly", ROOT_OK],
                   poweroff=True)
          for name, a, r in [("root-stress", arm(), 100), ("root-stress-smp4", arm(smp=4), 20),
                             ("root-stress-vmid8", arm(smp=4, cpu="cortex-a57"), 20)]],
        # 100,000 random system calls from an untrusted task (a new seed
        # each run, printed; fuzz.seed=N repeats one); on one CPU behind an
        # SMMU, so that streams and I/O spaces are fuzzed too.
        *[Scenario(name, lambda b, a=a: a + kernel + ["-append", "cairn.root=fuzz"],
                   [r"fuzz: 1\d{5} calls",
                    r"fuzz: kernel alive; root capabilities intact; memory back exactly",
                    ROOT_OK], poweroff=True)
          for name, a in [("root-fuzz", arm(SMMU)), ("root-fuzz-smp4", arm(smp=4))]],
        # Untrusted tasks on every other CPU make random calls on shared
        # objects (each other's threads among them) while the root destroys
        # running ones; the kernel checks its invariants after every round
        # (on 2 CPUs behind an SMMU: streams and I/O spaces too).
        *[Scenario(name, lambda b, a=a, r=r: a + kernel + [
                       "-append", "cairn.root=fuzzsmp fuzzsmp.rounds=%d" % r],
                   [r"fuzzsmp: seed \d+, %d rounds" % r,
                    r"fuzzsmp: \d+ calls by \d+ tasks in %d rounds; the kernel's invariants held" % r,
                    r"fuzzsmp: root capabilities intact; memory back exactly", ROOT_OK],
                   poweroff=True, timeout=120)
          for name, a, r in [("root-fuzz-smp2", arm(SMMU, smp=2), 40),
                             ("root-fuzz-smp4-shared", arm(smp=4), 15)]],
        # A guest making random exits of every kind, answered at random by
        # its VMM, beside a timekeeping guest and two native tasks; destroyed
        # while it runs (on another CPU where there is one).  100,000 exits
        # on 1 CPU; 10,000 on 2, where every exit crosses CPUs (beside two
        # CPU hogs each crossing waits for the host to run the other
        # virtual CPU: 100,000 took 6 minutes there, 20,000 85 s).  A new seed each run,
        # printed; vmhostile.seed=N repeats one.  Alone, the hostile guest
        # is the only thread on its VMM's CPU, so that its MMIO exits and
        # their answers (message infos random too) take the fast paths.
        *[Scenario(name, lambda b, a=a, n=n, x=x: a + kernel + [
                       "-append", "cairn.root=vmhostile vmhostile.exits=%d%s" % (n, x)],
                   [r"vmhostile: %d exits from the hostile guest, the timer guest ticked \d+ "
                    r"times, the native pair made \d+ calls" % n,
                    r"vmhostile: kernel invariants held; memory back exactly", ROOT_OK],
                   poweroff=True, timeout=180)
          for name, a, n, x in [("vm-hostile", arm(), 100000, ""),
                                ("vm-hostile-smp2", arm(smp=2), 10000, ""),
                                ("vm-hostile-alone", arm(smp=2), 100000, " vmhostile.alone=1")]],
        # Debian's own Linux (tools/linux-guest.sh) under the VMM: to its
        # init with every VCPU online, timer interrupts on each, its virtio
        # disk (served by the block server) written and read back through
        # the device (a request queue per VCPU: multiqueue), powered off
        # through PSCI.  2 VCPUs on 2 CPUs, and 4 VCPUs overcommitted on 2.
        *[Scenario(name, lambda b, n=n: arm(smp=2, mem="1G") + kernel + [
                       "-initrd", os.path.join(b, "guests", "linux-mods.bin"), "-append",
                       "cairn.root=linux linux.test linux.quiet linux.vcpus=%d" % n],
                   [r"blk: a server of its own, a 16 MiB disk",
                    r"vmm: a server of its own", r"vmm: linux guest: 256 MiB RAM",
                    r"vmm: virtio-blk at 0xa000000 \(interrupt 48\), 16 MiB, served by the "
                    r"block server; queue notifications by kernel doorbell",
                    r"cairn-guest: init up, %d cpus online" % n,
                    r"cairn-guest: timer +11:" + r" +[1-9]\d*" * n + r" +GICv3 +27",
                    r"cairn-guest: virtio disk vda, 32768 sectors, %d queues" % n,
                    r"cairn-guest: virtio0's interrupt moved to cpu%d" % (n - 1),
                    r"cairn-guest: vda read back what was written",
                    # its completions interrupt the last VCPU now: the VMM
                    # moved the block server's binding with GICD_IROUTER
                    r"cairn-guest: irq after the disk test +\d+:" + r" +\d+" * (n - 1) +
                    r" +[1-9]\d* +GICv3 +48 ",
                    r"vmm: guest powered off after \d+ exits",
                    # both the notify register and the interrupt status are
                    # the kernel's: neither reaches the VMM
                    r"vmm: virtio-blk served [1-9]\d* requests; 0 queue notifications reached "
                    r"this VMM, and 0 interrupt status accesses",
                    r"powered off by the root task"], poweroff=True, timeout=120)
          for name, n in [("linux-2vcpu", 2), ("linux-4vcpu-on-2cpus", 4)]],
        # The PCI server: the host bridge's ECAM and window as device frames,
        # bus 0 enumerated, BARs placed, a virtio-blk-pci disk's capacity
        # read through the BAR it placed (QEMU virt adds a virtio-net too),
        # and its polled driver's write found in the host's image file.
        Scenario("disk-driver", lambda b: arm(smp=2) + kernel + [
                     "-append", "cairn.root=disk", "-drive",
                     "file=%s,if=none,id=d,format=raw" % scratch_disk(b, "pci-disk.img"),
                     "-device", "virtio-blk-pci,drive=d"],
                 [r"pci: a server of its own",
                  r"pci: 00:00\.0 1b36:0008 class 060000",
                  r"pci: 00:0\d\.0 1af4:1001 class 010000, memory at 0x1\d+, INTID 3[5-8]",
                  r"pci: 3 devices on bus 0",
                  r"vblk: a driver of its own: virtio-blk-pci, 32768 sectors, flush on",
                  r"BENCH driver_restart_us [1-9]\d* us",
                  r"disk: the device's DMA is not confined \(no IOMMU\): not tested here",
                  r"disk: \d+ requests, [3-9] driver restarts, [1-9]\d* replayed, DMA unconfined: "
                  r"data intact"],
                 check=disk_written),
        # The same behind QEMU's SMMUv3, which the kernel owns: the driver's
        # device reaches only its I/O space.  A driver that programs it to
        # read into a frame it was never given, and a frame revoked under
        # it, both fault, and neither frame changes.
        Scenario("disk-driver-smmu", lambda b: arm(SMMU, smp=2) + kernel + [
                     "-append", "cairn.root=disk", "-drive",
                     "file=%s,if=none,id=d,format=raw" % scratch_disk(b, "smmu-disk.img"),
                     "-device", "virtio-blk-pci,drive=d,iommu_platform=on,disable-legacy=on"],
                 [r"smmu: SMMUv3 at 0x9050000, 256 streams",
                  r"pci: 00:0\d\.0 1af4:1042 class 010000",
                  r"vblk: a driver of its own: virtio-blk-pci, 32768 sectors, flush on, DMA "
                  r"confined to its I/O space",
                  r"BENCH driver_restart_us [1-9]\d* us",
                  r"vblk: test: the device read into 0x[0-9a-f]+ outside its I/O space: [1-9]\d* "
                  r"IOMMU faults",
                  r"smmu: stream 0x10: [1-9]\d* faults, the last at 0x2000",
                  r"disk: \d+ requests, ([3-9]|1[01]) driver restarts, [1-9]\d* replayed, DMA confined, "
                  r"2 strays faulted: data intact"],
                 check=lambda b, log: disk_written(b, log, "smmu-disk.img")),
        # make debug's pieces (tools/debug-check): gdb-multiarch attached to
        # QEMU's stub, the kernel's symbols relocated, a breakpoint hit in
        # the kernel, and cairn-threads showing each CPU's thread.
        Scenario("gdb-debug", lambda b: ["python3", "tools/debug-check", b],
                 [r"demo: client made 1000 calls", r"Breakpoint 1, sys_debug_poweroff",
                  r"cpu0: thread \S+ 0x[0-9a-f]+ runnable prio 100 cpu 0 native pc 0x2[0-9a-f]+",
                  r"cpu1: ", r"threads stopping: 0"], timeout=240),
        # The guest's disk outlives the guest: an ext2 file system and a file
        # made on it, a PSCI reset (the VMM boots the guest again; the block
        # server keeps its disk), the file found by the next boot.
        Scenario("linux-reboot", lambda b: arm(smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "guests", "linux-mods.bin"), "-append",
                     "cairn.root=linux linux.quiet linux.reboot"],
                 [r"cairn-guest: wrote a file on vda's ext2, resetting",
                  r"vmm: guest reset after \d+ exits: booting it again",
                  r"cairn-guest: init up, 2 cpus online",
                  r"cairn-guest: the file the boot before wrote survived the reset",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 poweroff=True, timeout=180),
        # A real disk under the guest: QEMU's virtio-blk-pci behind the SMMU,
        # driven by a driver server that the root task kills about every 128 requests
        # while the guest writes 64 MiB, syncs and reads them back; the new
        # driver replays what the old one held.  The run's 500-600 requests
        # hold at least three kills before the read-back ends (every 192, the
        # third sometimes came only with the power-off's flush, after it).  The checksum must match,
        # the guest's log must show no I/O error, and the host's image file
        # must hold the same 64 MiB.
        Scenario("linux-disk-restart", lambda b: arm(SMMU, smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "guests", "linux-mods.bin"), "-append",
                     "cairn.root=linux linux.quiet linux.disk blk.kill_every=128", "-drive",
                     "file=%s,if=none,id=d,format=raw" % scratch_disk(b, "linux-disk.img", 128),
                     "-device", "virtio-blk-pci,drive=d,iommu_platform=on,disable-legacy=on"],
                 [r"vblk: a driver of its own: virtio-blk-pci, 262144 sectors, flush on, DMA "
                  r"confined to its I/O space",
                  r"blk: a server of its own, on a driver's disk of 128 MiB",
                  r"cairn-guest: init up, 2 cpus online",
                  r"root: disk driver killed \(kill_every\); a new one started \(restart 3; "
                  r"[1-9]\d* requests replayed before it\)",
                  r"cairn-guest: disk checksum equal: [0-9a-f]{32}",
                  r"cairn-guest: no I/O error in the kernel log",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 poweroff=True, timeout=300, check=linux_disk_written),
        # The guest's console is interactive: commands typed on the serial
        # console reach its shell through the VMM's PL011, output comes back.
        # The network: the guest's virtio-net, the net server (a switch),
        # the NIC driver and QEMU's virtio-net-pci behind the SMMU, user
        # networking to the host, where this runner serves a 1 MiB page
        # (QEMU forwards 10.0.2.100:80 to it); the guest fetches it whole,
        # on a queue pair per VCPU (multiqueue, set through the control queue).
        Scenario("linux-net", lambda b: arm(SMMU, smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "guests", "linux-mods.bin"), "-append",
                     "cairn.root=linux linux.quiet linux.nettest", "-netdev",
                     "user,id=n,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:%d" % www_server(b),
                     "-device", "virtio-net-pci,netdev=n,iommu_platform=on,disable-legacy=on"],
                 [r"vmm: virtio-net at 0xa000200 \(interrupt 49\), MAC 52:54:00:ca:1e:01",
                  r"cairn-guest: eth0 52:54:00:ca:1e:01 is 10.0.2.15, the host 10.0.2.2, "
                  r"2 queue pairs",
                  r"cairn-guest: fetched 1048576 bytes from the host",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 poweroff=True, timeout=180, check=page_fetched),
        # The same fetch while the root task kills the NIC driver about
        # every 192 frames: each new driver takes the channel's rings over
        # and resets the device, frames in flight are lost, TCP sends them
        # again, and the page arrives whole.
        Scenario("linux-net-restart", lambda b: arm(SMMU, smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "guests", "linux-mods.bin"), "-append",
                     "cairn.root=linux linux.quiet linux.nettest net.kill_every=192", "-netdev",
                     "user,id=n,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:%d" % www_server(b),
                     "-device", "virtio-net-pci,netdev=n,iommu_platform=on,disable-legacy=on"],
                 [r"cairn-guest: eth0 52:54:00:ca:1e:01 is 10.0.2.15",
                  r"root: NIC driver killed \(kill_every\); a new one started \(restart 2\)",
                  r"cairn-guest: fetched 1048576 bytes from the host",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 poweroff=True, timeout=240, check=page_fetched),
        # Two guests (systems/two-guests.dts), each with a VMM of its own, a
        # port on the switch and half of the disk: guest 1 writes on its
        # half and pings guest 2 through the net server; the host finds
        # guest 1's write at the start of the image, and each guest saw
        # 64 MiB.  Guest 1 powers off; guest 2 goes on (its shell), so the
        # run ends at the root task's word on guest 1.
        Scenario("linux-two-guests", lambda b: arm(SMMU, smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "systems", "two-guests.bin"), "-append",
                     "cairn.root=linux linux.quiet linux.pingtest", "-netdev",
                     "user,id=n", "-device",
                     "virtio-net-pci,netdev=n,iommu_platform=on,disable-legacy=on", "-drive",
                     "file=%s,if=none,id=d,format=raw" % scratch_disk(b, "two-disk.img", 128),
                     "-device", "virtio-blk-pci,drive=d,iommu_platform=on,disable-legacy=on"],
                 [r"root: system \"two Linux guests on a switch\" \(the \"system\" boot module\): "
                  r"2 guests, 1 block servers, 1 switches, 2 drivers",
                  r"root: guest 2 \(/guest2\): VMM started, 192 MiB RAM, 1 VCPUs",
                  r"vmm: virtio-net at 0xa000200 \(interrupt 49\), MAC 52:54:00:ca:1e:0[12]",
                  r"vmm: virtio-net at 0xa000200 \(interrupt 49\), MAC 52:54:00:ca:1e:0[12]",
                  r"\[guest 2\] cairn-guest: hvc0 is up \(virtio-console\)", # the console server's mark
                  r"cairn-guest: 10.0.2.16, the other guest, answered through the switch",
                  r"vmm: guest powered off",
                  r"root: guest 1 \(/guest1\) stopped; its VMM gave back all its memory",
                  r"root: guest /guest1 not restarted \(restart = \"never\"\)"],
                 timeout=240, check=halves_written),
        # systems/passthrough.dts: the guest owns QEMU's PL031, so its
        # clock starts at the host's date; its disk is the block server's
        # RAM disk.  Its restart policy boots it again once when it powers
        # off (a new VMM: the block server takes the new connection), and
        # its memory comes back each time; then the machine powers off.
        Scenario("system-passthrough", lambda b: arm(SMMU, smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "systems", "passthrough.bin"), "-append",
                     "cairn.root=linux linux.quiet linux.test"],
                 [r"root: system \"a Linux guest with a passed-through RTC\"",
                  r"vmm: pl031@9010000 passed through: 0x9010000, 4 KiB, interrupt 34",
                  r"cairn-guest: rtc0 is rtc-pl031 9010000.pl031, the date \d{4}-\d\d-\d\d",
                  r"cairn-guest: vda read back what was written",
                  r"blk: client 1 let go \(its VMM is ending\)",
                  r"root: guest 1 \(/linux\) stopped; its VMM gave back all its memory",
                  r"root: guest 1 restarting \(restart 1 of 1\)",
                  r"cairn-guest: rtc0 is rtc-pl031",
                  r"cairn-guest: vda read back what was written",
                  r"root: guest 1 \(/linux\) stopped; its VMM gave back all its memory",
                  r"root: guest /linux not restarted \(restart-limit reached\)",
                  r"root: no guest is left", r"powered off by the root task"],
                 poweroff=True, timeout=180, check=rtc_is_today),
        # The live monitor: a report every 500 ms (monitor.every) and one on
        # Ctrl-T typed on the console while the guest boots; every report's
        # figures add up (monitor_adds_up).
        Scenario("linux-monitor", lambda b: arm(smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "guests", "linux-mods.bin"), "-append",
                     "cairn.root=linux linux.quiet linux.test monitor.every=500"],
                 [r"monitor: report 1 \(monitor.every\), over the last",
                  r"cairn-guest: init up", r"monitor: report \d+ \(Ctrl-T\)",
                  r"monitor: guest 1 exits in all: mmio [1-9]",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 send={r"cairn-guest: init up": b"\x14"},
                 poweroff=True, timeout=120, check=monitor_adds_up),
        # A driver's restart limit (tests/qemu/driver-limit.dts): the disk
        # driver is killed while the guest writes; restarted twice, then
        # left dead, as the description says.
        Scenario("system-restart-limit", lambda b: arm(SMMU, smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "tests", "driver-limit.bin"), "-append",
                     "cairn.root=linux linux.quiet linux.disk blk.kill_every=96", "-drive",
                     "file=%s,if=none,id=d,format=raw" % scratch_disk(b, "limit-disk.img", 128),
                     "-device", "virtio-blk-pci,drive=d,iommu_platform=on,disable-legacy=on"],
                 [r"root: system \"a disk driver with a restart limit\"",
                  r"root: disk driver killed \(kill_every\); a new one started \(restart 1",
                  r"root: disk driver killed \(kill_every\); a new one started \(restart 2",
                  r"root: driver /disk-driver not restarted \(restart-limit reached\)"],
                 timeout=180, check=lambda b, log: "a third restart" if "(restart 3" in log else None),
        # A block server that faults (blk.crash_after: the root task makes
        # it): its policy can only be "never", and the root task says so
        # and goes on; the guest's disk stops answering.
        Scenario("system-backend-fault", lambda b: arm(SMMU, smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "guests", "linux-mods.bin"), "-append",
                     "cairn.root=linux linux.quiet linux.disk blk.crash_after=192", "-drive",
                     "file=%s,if=none,id=d,format=raw" % scratch_disk(b, "crash-disk.img", 128),
                     "-device", "virtio-blk-pci,drive=d,iommu_platform=on,disable-legacy=on"],
                 [r"root: block server /block-server started \(on the disk driver\)",
                  r"root: the block server is made to fault \(crash_after\)",
                  r"root: /block-server faulted",
                  r"root: block server /block-server not restarted \(restart = \"never\"\)"],
                 timeout=120),
        # The same with a restart policy (tests/qemu/blk-restart.dts): a new
        # block server takes the old one's place, its driver restarted with
        # it, and the guest's VMM reconnects; the guest's 64 MiB write and
        # read-back goes on without an I/O error, and the host image holds it.
        Scenario("system-backend-restart", lambda b: arm(SMMU, smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "tests", "blk-restart.bin"), "-append",
                     "cairn.root=linux linux.quiet linux.disk blk.crash_after=192", "-drive",
                     "file=%s,if=none,id=d,format=raw" % scratch_disk(b, "restart-disk.img", 128),
                     "-device", "virtio-blk-pci,drive=d,iommu_platform=on,disable-legacy=on"],
                 [r"root: the block server is made to fault \(crash_after\)",
                  r"root: /block-server faulted",
                  r"root: /block-server restarted \(restart 1 of 2\)",
                  r"vmm: virtio slot 0 reconnected to its backend",
                  r"cairn-guest: disk checksum equal: [0-9a-f]{32}",
                  r"cairn-guest: no I/O error in the kernel log",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 poweroff=True, timeout=300,
                 check=lambda b, log: linux_disk_written(b, log, "restart-disk.img")),
        # The switch restarted (tests/qemu/net-restart.dts) during the
        # guest's 1 MiB fetch: the new one takes the NIC's rings over, the
        # guest's VMM reconnects, TCP resends what was lost.
        Scenario("system-switch-restart", lambda b: arm(SMMU, smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "tests", "net-restart.bin"), "-append",
                     "cairn.root=linux linux.quiet linux.nettest net.crash_after=192", "-netdev",
                     "user,id=n,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:%d" % www_server(b),
                     "-device", "virtio-net-pci,netdev=n,iommu_platform=on,disable-legacy=on"],
                 [r"root: the switch is made to fault \(crash_after\)",
                  r"root: /switch faulted",
                  r"root: /switch restarted \(restart 1 of 1\)",
                  # the guest set two pairs once, before: the new switch
                  # takes them up from the VMM's page (it may say so before
                  # the VMM says it reconnected: checked in any order)
                  r"net: port 1 goes on with its driver's 2 queue pairs",
                  r"cairn-guest: fetched 1048576 bytes from the host",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 poweroff=True, timeout=240, check=switch_restarted),
        # The console server restarted while the guest writes 300 lines to
        # hvc0: its VMM reconnects, and the new server goes on from the used
        # ring, so no line is lost.
        Scenario("system-console-restart", lambda b: arm(smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "tests", "con-restart.bin"), "-append",
                     "cairn.root=linux linux.quiet con.crash_after=96"],
                 [r"root: the console server is made to fault \(crash_after\)",
                  r"root: /console-server faulted",
                  r"root: /console-server restarted \(restart 1 of 1\)",
                  r"vmm: virtio slot 2 reconnected to its backend",
                  r"cairn-guest: hvc0 wrote 300 lines",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 poweroff=True, timeout=240, check=hvc_lines_whole),
        # A description the root task refuses (tests/qemu/bad-system.dts):
        # the error names the node, and nothing is started.  Every kind of
        # bad description is the host's test_sysdesc.
        Scenario("system-bad", lambda b: arm(smp=1) + kernel + [
                     "-initrd", os.path.join(b, "tests", "bad-system.bin"), "-append",
                     "cairn.root=linux"],
                 [r"root: system description \(the \"system\" boot module\) refused: "
                  r"/guest2: passthrough device pl031@9010000 overlaps memory already given "
                  r"to /guest1", r"root: nothing started", r"powered off by the root task"],
                 poweroff=True, timeout=60, check=nothing_started),
        # make run's machine: the disk is QEMU's virtio-blk-pci, a file on
        # the host, where the file the shell writes on /mnt must be found;
        # the network reaches the host, whose page the shell fetches.
        Scenario("linux-shell", lambda b: arm(SMMU, smp=2, mem="1G") + kernel + [
                     "-initrd", os.path.join(b, "guests", "linux-mods.bin"), "-append",
                     "cairn.root=linux linux.quiet", "-drive",
                     "file=%s,if=none,id=d,format=raw" % scratch_disk(b, "shell-disk.img", 128),
                     "-device", "virtio-blk-pci,drive=d,iommu_platform=on,disable-legacy=on",
                     "-netdev", "user,id=n,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:%d" %
                     www_server(b), "-device",
                     "virtio-net-pci,netdev=n,iommu_platform=on,disable-legacy=on"],
                 [r"vblk: a driver of its own: .* DMA confined to its I/O space",
                  r"vmm: virtio-console at 0xa000400 \(interrupt 50\), served by the console server",
                  r"cairn-guest: hvc0 is up \(virtio-console\)",
                  r"cairn-guest: eth0 52:54:00:ca:1e:01 is 10.0.2.15",
                  r"cairn-guest: vda \(ext2\) is mounted on /mnt",
                  r"cairn-guest: type commands on hvc0", r"/ # ", r"shell says 4[2]",
                  r"fetched 104857[6]",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 send={r"/ # ": b"echo shell says $((6*7)); echo cairn-file-$((6*7)) > /mnt/f; "
                       b"sync; wget -q -O /tmp/p http://10.0.2.100/page; "
                       b"echo fetched $(wc -c < /tmp/p); poweroff -f\r"},
                 poweroff=True, timeout=120, check=shell_file_written),
        Scenario("root-demo", lambda b: arm(smp=2) + kernel,
                 [r"demo: client made 1000 calls, 1000 answered correctly",
                  r"powered off by the root task"], poweroff=True),
        Scenario("unexpected-exception",
                 lambda b: arm() + kernel + ["-append", "cairn.test=fault"],
                 [r"unexpected exception: sync from EL2 on cpu0",
                  r"EC 0x25 data abort, same EL",
                  r"fault: translation fault at level \d, on write",
                  r"FAR 0x0000000000000010", r"x30 ",
                  r"PANIC on cpu0 at arch/aarch64/trap.c"],
                 allow=("PANIC", "unexpected exception")),
    ]


# ---- riscv64 -------------------------------------------------------------

OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/"
UBOOT_RISCV = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"


def rv(machine="virt", smp=1, mem="512M", cpu="rv64"):
    return ["qemu-system-riscv64", "-machine", machine, "-cpu", cpu,
            "-nographic", "-smp", str(smp), "-m", mem]


def riscv64(build):
    img = os.path.join(build, "Image")
    sbi = ["-bios", OPENSBI + "fw_dynamic.bin", "-kernel", img]
    mm_test = ["-append", "cairn.test=mm"]
    hs = r"riscv64 in HS-mode"
    return [
        Scenario("boot-opensbi", lambda b: rv() + sbi,
                 [r"OpenSBI v1", hs, r"H extension, G-stage Sv\d+x4",
                  r"mmu: satp Sv48", r"irq: PLIC at 0xc000000",
                  r"timer: \d+ Hz", BOOT_OK]),
        Scenario("boot-uboot", lambda b: rv(smp=2) + [
                     "-bios", OPENSBI + "fw_jump.bin", "-kernel", UBOOT_RISCV,
                     "-drive", "file=%s,format=raw,if=virtio"
                     % os.path.join(b, "boot-disk.img")],
                 [r"U-Boot 20", r"Found /extlinux/extlinux.conf", r"Starting kernel",
                  hs, r"cairn: boot ok \(2 of 2 cpus"], timeout=90),
        Scenario("smp4", lambda b: rv(smp=4) + sbi,
                 [r"cpu1 online", r"cpu2 online", r"cpu3 online",
                  r"cairn: boot ok \(4 of 4 cpus"]),
        # OpenSBI 1.1's race (head.S, lost_lottery), played: each hart is
        # started at _start, where the boot hart's lottery parked it before.
        Scenario("smp-stale-start", lambda b: rv(smp=2) + sbi + ["-append", "cairn.test=stale-start"],
                 [r"cpu1 online \(hwid 0x[01]\)", r"cairn: boot ok \(2 of 2 cpus"]),
        Scenario("mem-128m", lambda b: rv(mem="128M") + sbi + mm_test,
                 [r"ram +0x0080000000-0x0087ffffff", r"mm: selftest passed", BOOT_OK]),
        Scenario("mem-2g", lambda b: rv(mem="2G", smp=2) + sbi + mm_test,
                 [r"ram +0x0080000000-0x00ffffffff", r"mm: selftest passed",
                  r"cairn: boot ok \(2 of 2 cpus"]),
        # NUMA from the DTB, as on aarch64 (the parsing is shared).
        Scenario("numa-2-nodes", lambda b: rv(smp=2, mem="1G") + numa((512, "0"), (512, "1")) +
                 sbi + ["-append", "cairn.test=mm cairn.root=test root.only=numa numa.nodes=2"],
                 [r"mm: buddy \d+ of \d+ pages free \(\d+ MiB\) on node 1",
                  r"mm: selftest passed: \d+ pages handed out, 0 outside RAM or reserved",
                  r"mm: selftest passed: \d+ pages handed out, 0 outside RAM or reserved",
                  # OpenSBI boots whichever hart wins its lottery: that one is
                  # CPU 0, so node 0's hart is CPU 0 or CPU 1
                  r"numa: node 0: 512 MiB RAM, \d+ pages free, cpus 0x[12]\b",
                  r"numa: node 1: 512 MiB RAM, \d+ pages free, cpus 0x[12]\b",
                  r"root: ok   numa", ROOT_OK], poweroff=True, timeout=240),
        Scenario("reserved-memory",
                 lambda b: rv() + sbi + mm_test + ["-dtb", edited_dtb(
                     b, rv(), "reserved", lambda s: add_to_root(s, reserved_node(0x90000000)))],
                 carveout_expect(0x90000000)),
        Scenario("sv39", lambda b: rv() + sbi + ["-append", "cairn.mmu=sv39 cairn.test=mm"],
                 [r"mmu: satp Sv39", r"mm: selftest passed", BOOT_OK]),
        Scenario("sbi-timer", lambda b: rv(cpu="rv64,sstc=false", smp=2) + sbi,
                 [r"Sstc no \(SBI timer\)", r"cpu0 interrupt after \d+ us",
                  r"cpu1 online", r"cairn: boot ok \(2 of 2 cpus"]),
        Scenario("aia-no-plic", lambda b: rv(machine="virt,aia=aplic-imsic", smp=2) + sbi,
                 [r"irq: no PLIC; AIA: APLIC present, IMSIC present",
                  r"cairn: boot ok \(2 of 2 cpus"]),
        Scenario("no-h-extension", lambda b: rv(cpu="rv64,h=false") + sbi,
                 [r"this hart has no H extension", r"powering off"], poweroff=True),
        Scenario("unexpected-exception", lambda b: rv() + sbi + ["-append", "cairn.test=fault"],
                 [r"unexpected exception: store page fault \(scause 15\) on cpu0",
                  r"stval 0x0000000000000010", r"t6 ",
                  r"PANIC on cpu0 at arch/riscv64/trap.c"],
                 allow=("PANIC", "unexpected exception")),
        # The root task's user-level suite on native threads in VU-mode
        # (arch/riscv64/uspace.c) and VCPUs in VS-mode (arch/riscv64/vcpu.c,
        # guests/test/riscv64), on one hart and on four: what riscv64 lacks
        # (an IOMMU, AArch64 encodings) is skipped by name and counted.  Its
        # user timer is a soft timer line (hyp/irq_timer.c).
        Scenario("root-tests", lambda b: rv() + sbi + ["-append", "cairn.root=test"],
                 [r"root: up, 1 cpus", r"root: ok   user-irq", r"root: ok   fp-state",
                  r"root: ok   budget-caps-spinner", r"root: ok   fair-weights-1-2-4",
                  r"root: ok   soft-timer-level", r"root: ok   vm-hypercall-ipc",
                  r"root: ok   vm-abort-outside-ram", r"root: ok   vm-inject-beyond-lrs",
                  r"root: ok   vm-timer-wfi", r"root: ok   vm-mmio",
                  r"root: \d+ skipped, this machine lacks: ", ROOT_OK],
                 poweroff=True, timeout=240),
        # Linux 6.1 built from Debian's linux-source-6.1 (tools/linux-riscv64.sh)
        # under the VMM: its harts started by SBI HSM, its timer the SBI's
        # (answered in the kernel), the PLIC modelled by the VMM, its
        # virtio disk served by the block server (64 KiB written and read
        # back past the page cache), its virtio-console by the console
        # server; to its init with both VCPUs online, then powered off
        # through SBI SRST.
        Scenario("linux-2vcpu", lambda b: rv(smp=2, mem="1G") + sbi + [
                     "-initrd", os.path.join(b, "guests", "linux-mods.bin"), "-append",
                     "cairn.root=linux linux.test"],
                 [r"vmm: a server of its own", r"vmm: linux guest: 256 MiB RAM",
                  r"vmm: virtio-blk at 0xa000000 \(interrupt 48\), 16 MiB, served by the "
                  r"block server; queue notifications by kernel doorbell",
                  r"Linux version 6\.1\.", r"SBI specification v0\.\d detected",
                  r"smp: Brought up 1 node, 2 CPUs",
                  r"cairn-guest: init up, 2 cpus online",
                  r"cairn-guest: timer +\d+: +[1-9]\d* +[1-9]\d* +RISC-V INTC +5",
                  r"cairn-guest: irq +\d+: +[1-9]\d* +\d+ +SiFive PLIC +48 +Edge +virtio0",
                  r"cairn-guest: virtio0's interrupt moved to cpu1",
                  r"cairn-guest: virtio disk vda, 32768 sectors",
                  r"cairn-guest: vda read back what was written",
                  # the disk's completions now interrupt hart 1: the PLIC's
                  # enables moved, and the VMM moved the server's binding
                  r"cairn-guest: irq after the disk test +\d+: +\d+ +[1-9]\d* +SiFive PLIC +48 ",
                  r"cairn-guest: hvc1 is up \(virtio-console\)",
                  r"cairn-guest: powering off",
                  r"vmm: guest powered off after \d+ exits",
                  r"powered off by the root task"], poweroff=True, timeout=240),
        Scenario("root-tests-smp4", lambda b: rv(smp=4) + sbi + ["-append", "cairn.root=test"],
                 [r"root: up, 4 cpus", r"root: ok   cpu-hotplug-timers",
                  r"root: ok   destroy-running-elsewhere", r"root: ok   balance-floating",
                  r"root: ok   soft-timer-delete-race", r"root: ok   vm-virq-cross-cpu", ROOT_OK],
                 poweroff=True, timeout=300),
        # The SMP benchmarks (make bench) run to the end, as on AArch64.
        Scenario("smp-bench-runs", lambda b: rv(smp=2) + sbi + ["-append", "cairn.root=smpbench"],
                 [r"BENCH ipc_pairs_2cpus [1-9]\d* round trips/s",
                  r"BENCH notify_throughput [1-9]\d* items/s",
                  r"BENCH vm_virq_cross_cpu_ns [1-9]\d* ns"], poweroff=True, timeout=120),
        Scenario("root-tests-general-ipc",
                 lambda b: rv() + sbi + ["-append", "cairn.root=test cairn.fastpath=off"],
                 [r"root: up, 1 cpus", ROOT_OK], poweroff=True, timeout=120),
        # The same on two harts without Sstc (the kernel's timer through
        # SBI, its interrupt raised by M-mode; the guests' SBI set_timer a
        # kernel timer and hvip.VSTIP) and with the kernel in Sv39: native
        # threads see neither.
        Scenario("root-tests-sbi-timer-sv39",
                 lambda b: rv(cpu="rv64,sstc=false", smp=2) + sbi + [
                     "-append", "cairn.root=test cairn.mmu=sv39"],
                 [r"Sstc no \(SBI timer\)", r"mmu: satp Sv39", r"root: up, 2 cpus",
                  r"root: ok   vm-timer-across-switches", ROOT_OK],
                 poweroff=True, timeout=300),
        # make bench's programme (docs/PERF.md: under -icount shift=0
        # rdinstret counts instructions).
        Scenario("root-bench", lambda b: rv() + sbi + ["-icount", "shift=0", "-append",
                                                       "cairn.root=bench"],
                 [r"BENCH null_syscall \d+", r"BENCH ipc_call_reply \d+",
                  r"BENCH notify_wake \d+", r"BENCH yield_switch \d+",
                  r"BENCH yield_switch_same_space \d+", r"BENCH vm_hvc_roundtrip \d+",
                  r"BENCH vm_mmio_read_roundtrip \d+", r"BENCH vm_hypercall_ipc \d+",
                  r"BENCH vm_inject_roundtrip \d+", r"BENCH vcpu_switch \d+",
                  r"BENCH vm_virq_roundtrip \d+",
                  r"powered off by the root task"], poweroff=True),
        # The hostile guest (servers/root/vm_hostile.c) in VS-mode: random
        # loads and stores, AMOs, SBI and Cairn calls, CSRs it may not
        # touch, illegal instructions and WFI storms, answered at random,
        # beside a timer guest and two native tasks; on 2 harts each exit
        # crosses them.
        *[Scenario(name, lambda b, a=a, n=n: a + sbi + [
                       "-append", "cairn.root=vmhostile vmhostile.exits=%d" % n],
                   [r"vmhostile: %d exits from the hostile guest, the timer guest ticked \d+ "
                    r"times, the native pair made \d+ calls" % n,
                    r"vmhostile: kernel invariants held; memory back exactly", ROOT_OK],
                   poweroff=True, timeout=300)
          for name, a, n in [("vm-hostile", rv(), 100000), ("vm-hostile-smp2", rv(smp=2), 10000)]],
        # The stress ring (1,000 address spaces, 16 KiB G-stage roots each),
        # the fuzzer and the multi-CPU fuzzer, as on AArch64.
        *[Scenario(name, lambda b, a=a, r=r: a + sbi + [
                       "-append", "cairn.root=stress stress.rounds=%d" % r],
                   [r"stress: the token went round %d times" % r,
                    r"stress: the kernel's invariants hold",
                    r"stress: torn down, memory back exactly", ROOT_OK],
                   poweroff=True, timeout=300)
          for name, a, r in [("root-stress", rv(), 100), ("root-stress-smp4", rv(smp=4), 20)]],
        *[Scenario(name, lambda b, a=a: a + sbi + ["-append", "cairn.root=fuzz"],
                   [r"fuzz: 1\d{5} calls",
                    r"fuzz: kernel alive; root capabilities intact; memory back exactly",
                    ROOT_OK], poweroff=True, timeout=300)
          for name, a in [("root-fuzz", rv()), ("root-fuzz-smp4", rv(smp=4))]],
        *[Scenario(name, lambda b, a=a, r=r: a + sbi + [
                       "-append", "cairn.root=fuzzsmp fuzzsmp.rounds=%d" % r],
                   [r"fuzzsmp: seed \d+, %d rounds" % r,
                    r"fuzzsmp: \d+ calls by \d+ tasks in %d rounds; the kernel's invariants held" % r,
                    r"fuzzsmp: root capabilities intact; memory back exactly", ROOT_OK],
                   poweroff=True, timeout=300)
          for name, a, r in [("root-fuzz-smp2", rv(smp=2), 40),
                             ("root-fuzz-smp4-shared", rv(smp=4), 15)]],
    ]


# ---- x86_64 --------------------------------------------------------------

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
# More lines than a 1280x800 screen's 50: the framebuffer console scrolls.
FB_ARGS = "cairn.test=mm cairn.root=test root.only=vm*"
# The newline too: the console draws a byte (here: scrolls) before it
# sends it to the UART, so the screen is complete once it is on the serial.
FB_OFF = r"cairn: powered off by the root task\r?\n"
X86_OK = [r"x86_64 in long mode", r"Cairn uses SVM", r"virt: SVM enabled",
          r"irq: local APIC", r"timer: \d+ Hz", BOOT_OK]


def pc(machine="q35", smp=1, mem="512M", cpu="qemu64,+svm,+npt"):
    return ["qemu-system-x86_64", "-machine", machine, "-cpu", cpu,
            "-nographic", "-smp", str(smp), "-m", mem]


def iso(build, args="", module=None):
    """A GRUB ISO whose multiboot2 command line is `args`, with `module`
    (a file under build/) as its boot module."""
    if not args:
        return os.path.join(build, "cairn.iso")
    name = re.sub(r"\W", "_", args + (" " + module if module else ""))
    path = os.path.join(build, "tests", "cairn-%s.iso" % name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sh("tools/mkiso.sh", path, os.path.join(build, "cairn.elf"), args,
       *([os.path.join(build, module)] if module else []))
    return path


def uefi(build, args="", module=None, loader="BOOTX64.EFI", kernel="cairn.elf",
         code=OVMF_CODE, variables=OVMF_VARS, device=None):
    """UEFI firmware (OVMF by default) booting Cairn's loader from an ESP
    whose cairn.cmdline is `args` (and cairn.initrd `module`, a file under
    build/), on `device` (without one, IDE: q35's AHCI, which no Cairn
    driver takes, where a virtio-blk-pci ESP would become the Linux guest's
    disk through the disk driver); the firmware's variables are a fresh
    copy each time."""
    d = os.path.join(build, "tests")
    os.makedirs(d, exist_ok=True)
    name = re.sub(r"\W", "_", (args or "plain") + (" " + module if module else ""))
    esp = os.path.join(d, "esp-%s.img" % name)
    sh("tools/mkesp.sh", esp, os.path.join(build, "efi", loader),
       os.path.join(build, kernel), args,
       *([os.path.join(build, module)] if module else []))
    copy = os.path.join(d, os.path.basename(variables).lower())
    shutil.copyfile(variables, copy)
    return ["-drive", "if=pflash,format=raw,readonly=on,file=" + code,
            "-drive", "if=pflash,format=raw,file=" + copy,
            "-drive", "file=%s,format=raw,if=%s" % (esp, "none,id=esp" if device else "ide")] + \
        (["-device", device + ",drive=esp"] if device else [])


BOCHSRC = """megs: %d
cpu: model=corei7_skylake_x, count=%d, ips=50000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=%s, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=/dev/stdout
display_library: rfb, options="timeout=0"
log: /dev/null
"""


def bochs(build, args="", cpus=1, module=None, megs=256):
    """Bochs 2.7 emulates VMX with EPT (QEMU's TCG does not)."""
    name = re.sub(r"\W", "_", (args or "plain") + (" " + module if module else ""))
    rc = os.path.join(build, "tests", "bochsrc-%d-%s" % (cpus, name))
    os.makedirs(os.path.dirname(rc), exist_ok=True)
    with open(rc, "w") as f:
        f.write(BOCHSRC % (megs, cpus, os.path.abspath(iso(build, args, module))))
    return ["bochs", "-q", "-f", rc]


# ---- the framebuffer console (hyp/fbcon.c) -------------------------------

def _font(build):
    """The build's font, as tools/psf2c.py made the kernel's from it (its
    generated header names the file): (width, height, {code: rows})."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
    import psf2c
    with open(os.path.join(build, "gen", "fbcon_font.h")) as f:
        path = re.search(r"from (\S+): do not edit", f.readline()).group(1)
    return psf2c.load(path)


def _terminal(text, cols, rows):
    """The screen a terminal of cols x rows shows after `text`, drawn as
    hyp/fbcon.c draws: wrap at the right edge, scroll at the bottom."""
    lines, col = [[]], 0
    for ch in text:
        if ch == "\n":
            lines.append([])
            col = 0
        elif ch == "\r":
            col = 0
        elif ch == "\t":
            col = (col + 8) & ~7
        else:
            if col >= cols:
                lines.append([])
                col = 0
            line = lines[-1]
            line += [" "] * (col + 1 - len(line))
            line[col] = ch
            col += 1
    return ["".join(l) for l in lines[-rows:]]


def screen_shows_console(shot):
    """QEMU's screendump of the framebuffer console is, pixel for pixel, the
    last screenful of what the serial console said from fbcon's first line
    to the power-off, in the kernel's font (light grey on black)."""
    def check(build, log):
        m = re.search(r"fbcon: (\d+)x(\d+)x32 framebuffer at 0x[0-9a-f]+ mirrors the console "
                      r"\((\d+)x(\d+) characters\)", log)
        end = log.find("cairn: powered off by the root task")
        if not m or end < 0 or not os.path.exists(shot):
            return "no fbcon line, power-off or screendump"
        with open(shot, "rb") as f:
            magic, size, depth, pixels = f.read().split(b"\n", 3)
        w, h = map(int, size.split())
        fw, fh, glyphs = _font(build)
        cols, rows = int(m.group(3)), int(m.group(4))
        if (w, h) != (int(m.group(1)), int(m.group(2))) or (cols, rows) != (w // fw, h // fh):
            return "screen %dx%d, but fbcon said %s" % (w, h, m.group(0))
        text = log[m.start():log.index("\n", end) + 1]
        want = _terminal(text, cols, rows)
        grey, cells = bytes([0xaa] * 3), {}
        for ch in range(32, 128):  # each character's cell, pixels as the screen has them
            g = glyphs.get(ch if ch < 127 else ord("?"), [0] * fh)
            cells[ch] = b"".join(grey if g[y] >> (fw - 1 - x) & 1 else bytes(3)
                                 for y in range(fh) for x in range(fw))

        def shown(r, c):
            return b"".join(pixels[((r * fh + y) * w + c * fw) * 3:][:fw * 3] for y in range(fh))
        for r in range(rows):
            line = (want[r] if r < len(want) else "").ljust(cols)
            if any(shown(r, c) != cells[min(ord(line[c]), 127)] for c in range(cols)):
                seen = "".join(next((chr(k) for k, v in cells.items() if v == shown(r, c)), "#")
                               for c in range(cols))
                return "screen row %d shows %r, not %r" % (r, seen.rstrip(), line.rstrip())
        return None if pixels[rows * fh * w * 3:].strip(b"\0") == b"" else "pixels below the text"
    return check


def x86_64(build):
    mm = "cairn.test=mm"
    fb_shot = os.path.join(os.path.abspath(build), "tests", "fbcon-screen.ppm")
    return [
        Scenario("boot-multiboot2", lambda b: pc() + ["-cdrom", iso(b)],
                 [r"loaded by GRUB 2"] + X86_OK),
        Scenario("boot-uefi", lambda b: pc() + uefi(b),
                 [r"cairn-efi: kernel loaded", r"loaded by Cairn UEFI loader"] + X86_OK,
                 timeout=90),
        # The framebuffer console (hyp/fbcon.c) on OVMF's GOP with QEMU's
        # standard VGA: once the root task powers the machine off (QEMU
        # stays, -no-shutdown), the monitor (Ctrl-A c on the serial's
        # stdio) takes a screendump, which must show the console's text.
        Scenario("uefi-framebuffer", lambda b: pc() + ["-vga", "std", "-no-shutdown"] + uefi(b, FB_ARGS),
                 [r"fbcon: 1280x800x32 framebuffer at 0x[0-9a-f]+ mirrors the console", BOOT_OK,
                  FB_OFF, r"QEMU [\d.]+ monitor", r"\.ppm(\x1b\[K)?\r?\n\(qemu\) "],
                 send={FB_OFF: b"\x01c",
                       r"QEMU [\d.]+ monitor": b"screendump %s\n" % fb_shot.encode()},
                 prepare=lambda b: os.path.exists(fb_shot) and os.remove(fb_shot),
                 check=screen_shows_console(fb_shot), timeout=150),
        Scenario("pc-i440fx", lambda b: pc(machine="pc", smp=2) + ["-cdrom", iso(b)],
                 [r"IOAPIC at 0xfec00000", r"cairn: boot ok \(2 of 2 cpus"]),
        Scenario("smp4", lambda b: pc(smp=4) + ["-cdrom", iso(b)],
                 [r"cpu1 online", r"cpu2 online", r"cpu3 online",
                  r"cairn: boot ok \(4 of 4 cpus"]),
        Scenario("mem-128m", lambda b: pc(mem="128M") + ["-cdrom", iso(b, mm)],
                 [r"ram +0x0000100000-0x0007fdefff",
                  r"reserved +0x0000000000-0x00000fffff +1024 KiB +low memory",
                  r"mm: selftest passed: \d+ pages handed out, 0 outside RAM or reserved",
                  BOOT_OK]),
        Scenario("mem-2g", lambda b: pc(mem="2G", smp=2) + ["-cdrom", iso(b, mm)],
                 [r"ram +0x0000100000-0x007ffdefff", r"mm: selftest passed",
                  r"cairn: boot ok \(2 of 2 cpus"]),
        Scenario("mem-6g-1g-pages", lambda b: pc(mem="6G", smp=2, cpu="qemu64,+svm,+npt,+pdpe1gb")
                 + ["-cdrom", iso(b)],
                 [r"ram +0x0100000000-0x01ffffffff", r"mm: buddy \d+ of \d+ pages free \(61\d\d MiB\)",
                  r"cairn: boot ok \(2 of 2 cpus"]),
        Scenario("mem-6g-no-1g-pages", lambda b: pc(mem="6G") + ["-cdrom", iso(b)],
                 [r"RAM above 4 GiB left unused: no 1 GiB pages",
                  r"mm: buddy \d+ of \d+ pages free \(20\d\d MiB\)", BOOT_OK]),
        Scenario("uefi-memory-map", lambda b: pc(smp=2) + uefi(b, mm),
                 [r"cairn: bootargs \"cairn.test=mm\"", r"mem: \d+ range",
                  r"mm: selftest passed: \d+ pages handed out, 0 outside RAM or reserved",
                  r"cairn: boot ok \(2 of 2 cpus"], timeout=90),
        Scenario("no-svm-no-vmx", lambda b: pc(cpu="qemu64,-svm") + ["-cdrom", iso(b)],
                 [r"VMX absent; Cairn uses none",
                  r"neither SVM with nested paging nor VMX with EPT", r"powering off"],
                 poweroff=True),
        Scenario("unexpected-exception", lambda b: pc() + ["-cdrom", iso(b, "cairn.test=fault")],
                 [r"unexpected exception: #PF page fault \(vector 14\) on cpu0",
                  r"page not present on write, kernel mode, CR2 0x0000000000000010",
                  r"r15 ", r"PANIC on cpu0 at arch/x86_64/trap.c"],
                 allow=("PANIC", "unexpected exception")),
        # The root task's user-level suite on native threads in ring 3
        # (arch/x86_64/uspace.c) and guests under SVM (arch/x86_64/svm.c,
        # guests/test/x86_64), on one CPU and on four: what x86_64 lacks (an
        # IOMMU, a guest timer, AArch64 encodings and devices) is skipped by
        # name and counted.  Its user timer is a soft timer line.  One CPU
        # boots with a multiboot2 module: the root task's initrd (boot-info
        # reads it back).
        # QEMU's edu device (hw/misc/edu.c) is the MSI test's (msi-edu).
        Scenario("root-tests", lambda b: pc() + ["-device", "edu",
                     "-cdrom", iso(b, "cairn.root=test root.initrd=yes", "tests/initrd.bin")],
                 [r"cairn: boot module initrd at 0x[0-9a-f]+000, 12 KiB",
                  r"svm: \d+ ASIDs", r"root: up, 1 cpus", r"root: ok   boot-info",
                  r"root: ok   fault-and-resume",
                  r"root: ok   user-irq", r"root: ok   fp-state", r"root: ok   msi-refusals",
                  r"root: edu BAR0 at 0x[0-9a-f]+, MSI capability at 0x[0-9a-f]+",
                  r"root: ok   msi-edu",
                  r"root: ok   budget-caps-spinner", r"root: ok   fair-weights-1-2-4",
                  r"root: ok   soft-timer-level", r"root: ok   vm-wfi-sleeps-until-injected",
                  r"root: ok   vm-hypercall-ipc", r"root: skip vm-timer-wfi \(needs a guest timer\)",
                  r"root: ok   vm-mmio", r"root: ok   vm-x86-bad-state",
                  r"root: ok   vm-x86-int3-cut-short", r"root: ok   vm-x86-page-faults", r"root: ok   vm-x86-ports-cpuid-msr", ROOT_OK],
                 poweroff=True, timeout=300),
        # A real disk through a driver server, as AArch64's disk-driver: the
        # PCI server places a modern virtio-blk-pci's BARs in the window of
        # the kernel's DTB (ACPI's MCFG); with no INTx line here, the root
        # task lends the driver an MSI line, whose message the driver puts
        # in MSI-X table entry 0 and gives the queue (vector 0).  The root
        # task's disk test (servers/root/disk_test.c) writes and reads back
        # 2 MiB, killing drivers with requests in flight (each successor
        # programs MSI-X again), and its data is found in the host's image.
        Scenario("disk-driver-msix", lambda b: pc(smp=2) + [
                     "-drive", "file=%s,if=none,id=d,format=raw" % scratch_disk(b, "msix-disk.img"),
                     "-device", "virtio-blk-pci,drive=d,disable-legacy=on",
                     "-cdrom", iso(b, "cairn.root=disk")],
                 [r"pci: a server of its own: ECAM at 0x[0-9a-f]+",
                  r"pci: 00:0\d\.0 1af4:1042 class 010000, memory at 0x[0-9a-f]+, INTID 0",
                  r"root: disk driver started \(MSI line \d+\)",
                  r"vblk: a driver of its own: virtio-blk-pci, 32768 sectors, flush on, DMA "
                  r"unconfined \(no IOMMU\)",
                  r"BENCH driver_restart_us [1-9]\d* us",
                  r"disk: \d+ requests, [3-9] driver restarts, [1-9]\d* replayed, DMA unconfined: "
                  r"data intact"],
                 poweroff=True, timeout=180,
                 check=lambda b, log: disk_written(b, log, "msix-disk.img")),
        # NUMA from the ACPI SRAT (arch/x86_64/acpi.c): two nodes of 512 MiB
        # (less the PC's holes), a CPU each, and the root test numa.
        Scenario("numa-2-nodes", lambda b: pc(smp=2, mem="1G") + numa((512, "0"), (512, "1")) +
                 ["-cdrom", iso(b, "cairn.test=mm cairn.root=test root.only=numa numa.nodes=2")],
                 [r"mm: buddy \d+ of \d+ pages free \(\d+ MiB\) on node 1",
                  r"mm: selftest passed: \d+ pages handed out, 0 outside RAM or reserved",
                  r"mm: selftest passed: \d+ pages handed out, 0 outside RAM or reserved",
                  r"numa: node 0: 5[01]\d MiB RAM, \d+ pages free, cpus 0x1\b",
                  r"numa: node 1: 5[01]\d MiB RAM, \d+ pages free, cpus 0x2\b",
                  r"root: ok   numa", ROOT_OK], poweroff=True, timeout=240),
        Scenario("numa-3-nodes-slit", lambda b: pc(smp=3, mem="768M") + NUMA3 +
                 ["-cdrom", iso(b, NUMA3_ARGS)], NUMA3_EXPECT, poweroff=True, timeout=240),
        Scenario("root-tests-smp4", lambda b: pc(smp=4) + ["-cdrom", iso(b, "cairn.root=test")],
                 [r"root: up, 4 cpus", r"root: ok   cpu-hotplug-timers",
                  r"root: ok   destroy-running-elsewhere", r"root: ok   balance-floating",
                  r"root: ok   soft-timer-delete-race", r"root: ok   vm-virq-cross-cpu", ROOT_OK],
                 poweroff=True, timeout=400),
        Scenario("smp-bench-runs", lambda b: pc(smp=2) + ["-cdrom", iso(b, "cairn.root=smpbench")],
                 [r"BENCH ipc_pairs_2cpus [1-9]\d* round trips/s",
                  r"BENCH notify_throughput [1-9]\d* items/s",
                  r"BENCH vm_virq_cross_cpu_ns [1-9]\d* ns"], poweroff=True, timeout=120),
        Scenario("root-tests-uefi", lambda b: pc(smp=2) + ["-device", "edu"] +
                 uefi(b, "cairn.root=test root.initrd=yes", "tests/initrd.bin"),
                 [r"loaded by Cairn UEFI loader",
                  r"cairn: boot module initrd at 0x[0-9a-f]+000, 12 KiB",
                  r"root: up, 2 cpus", r"root: ok   boot-info", r"root: edu BAR0 at 0x[0-9a-f]+, MSI",
                  r"root: ok   msi-edu", ROOT_OK],
                 poweroff=True, timeout=300),
        # On QEMU's -cpu max: AVX, and its state switched by XSAVE.
        Scenario("root-tests-avx", lambda b: pc(cpu="max", smp=2) + [
                     "-cdrom", iso(b, "cairn.root=test")],
                 [r"x86: user FP state by XSAVE \(x87, SSE, AVX\)", r"root: ok   fp-state", ROOT_OK],
                 poweroff=True, timeout=300),
        Scenario("root-tests-general-ipc",
                 lambda b: pc() + ["-cdrom", iso(b, "cairn.root=test cairn.fastpath=off")],
                 [r"root: up, 1 cpus", ROOT_OK], poweroff=True, timeout=240),
        # make bench's programme (docs/PERF.md: under -icount shift=0 the
        # TSC counts instructions), the vm_* lines under SVM.
        Scenario("root-bench", lambda b: pc() + ["-icount", "shift=0", "-cdrom",
                                                 iso(b, "cairn.root=bench")],
                 [r"BENCH null_syscall \d+", r"BENCH ipc_call_reply \d+",
                  r"BENCH notify_wake \d+", r"BENCH yield_switch \d+",
                  r"BENCH yield_switch_same_space \d+", r"BENCH vm_hvc_roundtrip \d+",
                  r"BENCH vm_mmio_read_roundtrip \d+", r"BENCH vm_hypercall_ipc \d+",
                  r"BENCH vm_inject_roundtrip \d+", r"BENCH vcpu_switch \d+",
                  r"BENCH vm_virq_roundtrip \d+",
                  r"powered off by the root task"], poweroff=True, timeout=240),
        # The stress ring and the fuzzers, as on AArch64.
        *[Scenario(name, lambda b, n=n, r=r: pc(smp=n) + [
                       "-cdrom", iso(b, "cairn.root=stress stress.rounds=%d" % r)],
                   [r"stress: the token went round %d times" % r,
                    r"stress: the kernel's invariants hold",
                    r"stress: torn down, memory back exactly", ROOT_OK],
                   poweroff=True, timeout=300)
          for name, n, r in [("root-stress", 1, 100), ("root-stress-smp4", 4, 20)]],
        *[Scenario(name, lambda b, n=n: pc(smp=n) + ["-cdrom", iso(b, "cairn.root=fuzz")],
                   [r"fuzz: 1\d{5} calls",
                    r"fuzz: kernel alive; root capabilities intact; memory back exactly",
                    ROOT_OK], poweroff=True, timeout=300)
          for name, n in [("root-fuzz", 1), ("root-fuzz-smp4", 4)]],
        *[Scenario(name, lambda b, n=n, r=r: pc(smp=n) + [
                       "-cdrom", iso(b, "cairn.root=fuzzsmp fuzzsmp.rounds=%d" % r)],
                   [r"fuzzsmp: seed \d+, %d rounds" % r,
                    r"fuzzsmp: \d+ calls by \d+ tasks in %d rounds; the kernel's invariants held" % r,
                    r"fuzzsmp: root capabilities intact; memory back exactly", ROOT_OK],
                   poweroff=True, timeout=300)
          for name, n, r in [("root-fuzz-smp2", 2, 40), ("root-fuzz-smp4-shared", 4, 15)]],
        # The hostile guest under SVM, as on AArch64 (servers/root/vm_hostile.c;
        # its timekeeping partner paces itself by the TSC), and nonsense
        # VMCB state from a VMM in 1,000 guests (vm-x86-bad-state).
        *[Scenario(name, lambda b, n=n, x=x: pc(smp=n) + [
                       "-cdrom", iso(b, "cairn.root=vmhostile vmhostile.exits=%d" % x)],
                   [r"vmhostile: %d exits from the hostile guest, the timer guest ticked \d+ "
                    r"times, the native pair made \d+ calls" % x,
                    r"vmhostile: kernel invariants held; memory back exactly", ROOT_OK],
                   poweroff=True, timeout=240)
          for name, n, x in [("vm-hostile", 1, 30000), ("vm-hostile-smp2", 2, 10000)]],
        # Debian's cloud Linux (tools/linux-guest.sh amd64) under the VMM,
        # as on AArch64: started by the 64-bit boot protocol with ACPI
        # tables, its secondary VCPUs by INIT-SIPI, its timer the LAPIC's
        # in TSC-deadline mode on soft timer lines, to its init with every
        # VCPU online; its virtio disk (the block server's RAM disk: no
        # virtio-blk-pci here) written and read back with its interrupt
        # moved to the last VCPU (the IOAPIC entry's new destination and
        # vector), powered off through ACPI S5.
        *[Scenario(name, lambda b, n=n: pc(smp=2, mem="1G") + [
                       "-cdrom", iso(b, "cairn.root=linux linux.test linux.quiet linux.vcpus=%d" % n,
                                     "guests/linux-mods.bin")],
                   [r"vmm: linux guest: 256 MiB RAM at 0x0",
                    r"vmm: virtio-blk at 0xd0000000 \(interrupt 16\), 16 MiB, served by the "
                    r"block server; queue notifications by kernel doorbell",
                    r"cairn-guest: init up, %d cpus online" % n,
                    r"cairn-guest: timer +LOC:" + r" +[1-9]\d*" * n + r" +Local timer interrupts",
                    r"cairn-guest: virtio disk vda, 32768 sectors, %d queues" % n,
                    r"cairn-guest: virtio0's interrupt moved to cpu%d" % (n - 1),
                    r"cairn-guest: vda read back what was written",
                    r"cairn-guest: irq after the disk test +\d+:" + r" +\d+" * (n - 1) +
                    r" +[1-9]\d* +IO-APIC +16-edge +virtio0",
                    r"vmm: guest powered off after \d+ exits",
                    # both the notify register and the interrupt status are
                    # the kernel's: neither reaches the VMM
                    r"vmm: virtio-blk served [1-9]\d* requests; 0 queue notifications reached "
                    r"this VMM, and 0 interrupt status accesses",
                    r"powered off by the root task"], poweroff=True, timeout=240,
                   check=lambda b, log: "the guest could not read its RTC (servers/vmm/x86_64/arch.c, "
                   "clock_port)" if "Unable to read current time from RTC" in log else None)
          for name, n in [("linux-2vcpu", 2), ("linux-4vcpu-on-2cpus", 4)]],
        # A real disk under the Linux guest: its virtio disk served by the
        # block server from QEMU's virtio-blk-pci through the driver server,
        # whose completions arrive by MSI-X on an MSI line (as in
        # disk-driver-msix); the guest writes 64 MiB, syncs and reads them
        # back, and the host's image file holds the same 64 MiB.
        Scenario("linux-disk-msix", lambda b: pc(smp=2, mem="1G") + [
                     "-drive", "file=%s,if=none,id=d,format=raw"
                     % scratch_disk(b, "msix-linux-disk.img", 128),
                     "-device", "virtio-blk-pci,drive=d,disable-legacy=on",
                     "-cdrom", iso(b, "cairn.root=linux linux.quiet linux.disk",
                                   "guests/linux-mods.bin")],
                 [r"root: disk driver started \(MSI line \d+\)",
                  r"vblk: a driver of its own: virtio-blk-pci, 262144 sectors, flush on, DMA "
                  r"unconfined \(no IOMMU\)",
                  r"blk: a server of its own, on a driver's disk of 128 MiB",
                  r"cairn-guest: init up, 2 cpus online",
                  r"cairn-guest: disk checksum equal: [0-9a-f]{32}",
                  r"cairn-guest: no I/O error in the kernel log",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 poweroff=True, timeout=240,
                 check=lambda b, log: linux_disk_written(b, log, "msix-linux-disk.img")),
        # The network, as AArch64's linux-net: the NIC driver (servers/vnet)
        # on QEMU's virtio-net-pci, its two queues' completions by MSI-X on
        # an MSI line; the guest fetches the host's page whole.
        Scenario("linux-net-msix", lambda b: pc(smp=2, mem="1G") + [
                     "-netdev", "user,id=n,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:%d"
                     % www_server(b), "-device", "virtio-net-pci,netdev=n,disable-legacy=on",
                     "-cdrom", iso(b, "cairn.root=linux linux.quiet linux.nettest",
                                   "guests/linux-mods.bin")],
                 [r"root: NIC driver started \(MSI line \d+\)",
                  r"cairn-guest: eth0 52:54:00:ca:1e:01 is 10.0.2.15, the host 10.0.2.2, "
                  r"2 queue pairs",
                  r"cairn-guest: fetched 1048576 bytes from the host",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 poweroff=True, timeout=240,
                 check=lambda b, log: page_fetched(b, log, r"unconfined \(no IOMMU\)")),
        # A file on the guest's ext2 outlives a reset: Linux reboots through
        # the reset vector (its BIOS reboot), whose code writes ACPI's reset
        # register; the VMM boots it again and the block server keeps its disk.
        Scenario("linux-reboot", lambda b: pc(smp=2, mem="1G") + [
                     "-cdrom", iso(b, "cairn.root=linux linux.quiet linux.reboot",
                                   "guests/linux-mods.bin")],
                 [r"cairn-guest: wrote a file on vda's ext2, resetting",
                  r"vmm: guest reset after \d+ exits: booting it again",
                  r"cairn-guest: init up, 2 cpus online",
                  r"cairn-guest: the file the boot before wrote survived the reset",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 poweroff=True, timeout=240),
        # The shell on hvc0, as AArch64's linux-shell: what is typed on
        # COM1 raises its IOAPIC line (edge-triggered), the VMM drains the
        # console and passes it to the console server.  No host disk or
        # network here: the file goes to the block server's RAM disk.
        Scenario("linux-shell", lambda b: pc(smp=2, mem="1G") + [
                     "-cdrom", iso(b, "cairn.root=linux linux.quiet", "guests/linux-mods.bin")],
                 [r"vmm: virtio-console at 0xd0000400 \(interrupt 18\), served by the console server",
                  r"cairn-guest: hvc0 is up \(virtio-console\)",
                  r"cairn-guest: type commands on hvc0", r"/ # ", r"shell says 4[2]",
                  r"file says cairn-file-4[2]",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 send={r"/ # ": b"echo shell says $((6*7)); echo cairn-file-$((6*7)) > /mnt/f; "
                       b"sync; echo file says $(cat /mnt/f); poweroff -f\r"},
                 poweroff=True, timeout=240),
        # No virtio-console (tests/qemu/uart-shell.dts): the shell is on
        # ttyS0, the VMM's 16550A (servers/vmm/x86_64/uart.c), whose
        # received data and interrupt (IOAPIC pin 4) carry what is typed.
        Scenario("linux-uart-shell", lambda b: pc(smp=2, mem="1G") + [
                     "-cdrom", iso(b, "cairn.root=linux linux.quiet", "tests/uart-shell.bin")],
                 [r"cairn-guest: type commands; poweroff -f ends the guest", r"/ # ",
                  r"uart says 4[2]", r"\d+: +\d+ +\d+ +IO-APIC +4-edge +ttyS0",
                  r"vmm: guest powered off", r"powered off by the root task"],
                 send={r"/ # ": b"echo uart says $((6*7)); grep ttyS0 /proc/interrupts; "
                       b"poweroff -f\r"},
                 poweroff=True, timeout=240),
        Scenario("vm-x86-bad-state", lambda b: pc(smp=2) + [
                     "-cdrom", iso(b, "cairn.root=test root.only=vm-x86-bad-state vmbad.rounds=1000")],
                 [r"root: vm-x86-bad-state: seed \d+, 1000 rounds, \d+ exits answered at random",
                  r"root: ok   vm-x86-bad-state", ROOT_OK], poweroff=True, timeout=300),
        Scenario("bochs-vmx", bochs,
                 [r"Cairn uses VMX", r"virt: VMX with EPT, VMXON ok",
                  r"x2APIC mode", r"TSC-deadline mode", BOOT_OK],
                 stdin=b"c\n", timeout=120),
        # The root suite on an Intel CPU model: SYSRET's and SWAPGS's Intel
        # behaviour (TCG follows AMD's where they differ), and every guest
        # test on VMX with EPT (TCG has none), on two CPUs (hotplug leaves VMX
        # operation first: it blocks the INIT that restarts a CPU).
        # Debian's Linux guest on VMX (EPT, VPIDs, unrestricted guest), two
        # VCPUs, to its init with its virtio disk: its boot code's Intel
        # paths (IA32_MISC_ENABLE), real mode at the second VCPU's SIPI, and
        # a whole OS's exits.  About 4 minutes of Bochs on a quiet host.
        Scenario("bochs-linux", lambda b: bochs(b, "cairn.root=linux linux.quiet", cpus=2,
                                                module="guests/linux-mods.bin", megs=1024),
                 [r"Cairn uses VMX", r"vmx: EPT, VPIDs, unrestricted guest",
                  r"vmm: vcpu 1 runs on cpu 1", r"cairn-guest: init up, 2 cpus online",
                  r"cairn-guest: virtio disk vda, \d+ sectors"],
                 stdin=b"c\n", timeout=600),
        Scenario("bochs-root-tests", lambda b: bochs(b, "cairn.root=test", cpus=2),
                 [r"x86: user FP state by XSAVE \(x87, SSE, AVX\)",
                  r"x86: address spaces tagged by PCID",
                  r"vmx: EPT, VPIDs, unrestricted guest; a VMCS per CPU",
                  r"root: up, 2 cpus", r"root: ok   fault-and-resume", r"root: ok   fp-state",
                  r"root: ok   cpu-hotplug",
                  r"root: ok   vm-hypercall-ipc", r"root: ok   vm-virtio-fuzz",
                  r"root: ok   vm-mmio", r"root: ok   vm-x86-bad-state",
                  r"root: ok   vm-x86-int3-cut-short", r"root: ok   vm-x86-page-faults", r"root: ok   vm-x86-ports-cpuid-msr", ROOT_OK],
                 stdin=b"c\n", timeout=300),
        # Random guest state against VMX's entry checks (Bochs's), as
        # vm-x86-bad-state does against SVM's on QEMU.
        Scenario("bochs-vm-x86-bad-state",
                 lambda b: bochs(b, "cairn.root=test root.only=vm-x86-bad-state vmbad.rounds=1000"),
                 [r"root: vm-x86-bad-state: seed \d+, 1000 rounds, \d+ exits answered at random",
                  r"root: ok   vm-x86-bad-state", ROOT_OK],
                 stdin=b"c\n", timeout=300),
    ]


def for_arch(arch, build):
    return {"aarch64": aarch64, "riscv64": riscv64, "x86_64": x86_64}[arch](build)
