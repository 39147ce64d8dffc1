#!/usr/bin/env python3
"""Boot Cairn in QEMU once per scenario and judge the serial console.

A scenario passes when every expected pattern appears, in order, before the
timeout, none of the fatal patterns appears, and QEMU exits by itself when the
scenario says the kernel powers off.  Failed scenarios keep their serial log
in <build>/test-logs/.  The last line is "N passed, N failed".
"""
import argparse
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios  # noqa: E402

FATAL = [r"PANIC", r"unexpected exception"]
STATE = "\n==== QEMU at the timeout\n"  # what follows in a log is not the console's


def timeout_scale():
    """Timeouts grow with the host's load: a scenario that passes on an idle
    host must pass beside CPU hogs too, only slower.  CAIRN_TEST_TIMEOUT_SCALE
    multiplies on top."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return max(1.0, min(5.0, 1.0 + load)) * float(os.environ.get("CAIRN_TEST_TIMEOUT_SCALE", "1"))


def monitor_ask(path, cmd):
    """One command's answer from QEMU's monitor on a Unix socket."""
    out = b""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(path)
            while not out.endswith(b"(qemu) "):
                out += s.recv(65536) or b"(qemu) "
            s.sendall(cmd.encode() + b"\n")
            out = b""
            while not out.endswith(b"(qemu) "):
                out += s.recv(65536) or b"(qemu) "
    except OSError as e:
        return "(no answer: %s)\n" % e
    # the first line is the command, echoed with the terminal's escapes
    return out.decode("utf-8", "replace").replace("\r", "")[:-len("(qemu) ")].partition("\n")[2]


def kernel_symbols(build):
    """(address, name) of the kernel's functions, sorted, by whichever nm
    reads its ELF (llvm-nm reads every ISA's; binutils' only its own)."""
    elf = os.path.join(build, "cairn.elf")
    for nm in ["llvm-nm", "nm", "aarch64-linux-gnu-nm", "riscv64-linux-gnu-nm"]:
        try:
            out = subprocess.run([nm, "-n", elf], capture_output=True, text=True).stdout
        except OSError:
            continue
        syms = [(int(a, 16), n) for a, t, n in
                (l.split()[:3] for l in out.splitlines() if len(l.split()) >= 3) if t in "tT"]
        if syms:
            return syms
    return []


def qemu_state(path, build):
    """What each CPU was doing when a scenario timed out, from QEMU's
    monitor: halted or not, its registers, its program counter named by
    the kernel's symbol where it is the kernel's (else a user or guest
    address).  A hang that CI meets once in fifty runs says where it was."""
    cpus = monitor_ask(path, "info cpus")
    regs = monitor_ask(path, "info registers -a")
    syms = kernel_symbols(build)
    summary = []
    def name(a):
        below = [s for s in syms if s[0] <= a]
        return "%s+0x%x" % (below[-1][1], a - below[-1][0]) if below and a - below[-1][0] < 0x1000 else None
    for pc in re.findall(r"\b(?:RIP|PC|pc)\s*[=:]?\s*([0-9a-fA-F]{8,16})\b", regs):
        a = int(pc, 16)
        # AArch64's and riscv64's kernels are linked at 0 and run where
        # they were loaded, a 2 MiB boundary under QEMU's -kernel
        at = name(a) or (name(a & 0x1fffff) and "%s if the kernel is at 0x%x"
                         % (name(a & 0x1fffff), a & ~0x1fffff))
        summary.append("pc %s %s" % (pc, at or "(not the kernel's)"))
    return (["QEMU at the timeout: " + l.strip() for l in cpus.splitlines() if l.strip()] +
            ["QEMU at the timeout: cpu %d %s" % (i, s) for i, s in enumerate(summary)],
            "\n==== info cpus\n" + cpus + "==== info registers -a\n" + regs)


def run_one(sc, build, verbose):
    """Returns (ok, reason, log_text, seconds)."""
    argv = sc.argv(build)
    # QEMU answers on a monitor socket, asked only if the scenario times out
    mondir = tempfile.mkdtemp(prefix="cairn-mon-")
    monitor = os.path.join(mondir, "sock")
    if os.path.basename(argv[0]).startswith("qemu-system"):
        # a -monitor of its own takes -nographic's away from the serial's
        # stdio, where uefi-framebuffer types Ctrl-A c: it stays there
        mux = ["-serial", "mon:stdio"] if "-nographic" in argv and "-serial" not in argv else []
        argv = argv + mux + ["-monitor", "unix:%s,server,nowait" % monitor]
    if verbose:
        print("  $ " + " ".join(argv))
    start = time.monotonic()
    # Own process group, so that killing it takes any children (Bochs'
    # stdin feeder) too.  stdin stays open for emulators that read it.
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if sc.stdin or sc.send else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    if sc.stdin:
        proc.stdin.write(sc.stdin)
        proc.stdin.flush()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    log = b""
    expect = list(sc.expect)
    fatal = [p for p in FATAL if p not in sc.allow]
    pos = 0  # expected patterns are matched in order, each after the last
    reason = None
    exited = False
    limit = sc.timeout * timeout_scale()
    deadline = start + limit
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            reason = "timeout after %ds waiting for %r" % (limit, expect[0] if expect else "QEMU to exit")
            if os.path.exists(monitor) and proc.poll() is None:
                lines, full = qemu_state(monitor, build)
                log += (STATE + full + "\n".join(lines) + "\n").encode()
            break
        if not sel.select(timeout=min(left, 0.5)):
            # exited at the last look and nothing came since: what it
            # wrote just before exiting (between that select and poll) is
            # read first, by one more round (tools/debug-check writes
            # everything as it ends: its log was lost beside CPU hogs)
            if exited and (expect or not sc.poweroff):
                reason = "QEMU exited (status %s) before %r" % (proc.returncode, expect[0] if expect else "the end")
                break
            if proc.poll() is not None:
                exited = True
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            proc.wait()
            exited = True
            if expect:
                reason = "QEMU exited (status %s) before %r" % (proc.returncode, expect[0])
            elif sc.poweroff and proc.returncode != 0:
                reason = "QEMU exited with status %s" % proc.returncode
            break
        log += chunk
        text = log.decode("utf-8", "replace")
        bad = next((p for p in fatal if re.search(p, text)), None)
        if bad:
            reason = "fatal pattern %r on the console" % bad
            break
        while expect:
            m = re.compile(expect[0]).search(text, pos)
            if not m:
                break
            pos = m.end()
            typed = sc.send.get(expect.pop(0))
            if typed:  # typed on the console once that marker is seen
                proc.stdin.write(typed)
                proc.stdin.flush()
        if not expect and not sc.poweroff:
            break  # all seen; the kernel idles, so stop QEMU
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if proc.stdin:
        proc.stdin.close()
    shutil.rmtree(mondir, ignore_errors=True)
    return reason is None, reason, log.decode("utf-8", "replace"), time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("names", nargs="*", help="run only these scenarios")
    args = ap.parse_args()

    todo = [s for s in scenarios.for_arch(args.arch, args.build)
            if not args.names or s.name in args.names]
    logdir = os.path.join(args.build, "test-logs")
    os.makedirs(logdir, exist_ok=True)
    passed = failed = 0
    for sc in todo:
        ok, reason, log, secs = run_one(sc, args.build, args.verbose)
        if ok and sc.check:  # what the run left behind (a disk image, say)
            reason = sc.check(args.build, log)
            ok = reason is None
        path = os.path.join(logdir, sc.name + ".log")
        if ok:
            passed += 1
            if os.path.exists(path):
                os.remove(path)
            print("PASS %-22s %5.1fs" % (sc.name, secs))
            # A user-level suite's own tally counts in the total too.
            for m in re.finditer(r"^root: (\d+ passed, \d+ failed)", log, re.M):
                print("     %s (user-level tests in %s)" % (m.group(1), sc.name))
        else:
            failed += 1
            with open(path, "w") as f:
                f.write(log)
            print("FAIL %-22s %5.1fs  %s (log: %s)" % (sc.name, secs, reason, path))
            # The tail, and every failed user-level test wherever it is.
            console, _, state = log.partition(STATE)
            lines = console.splitlines()
            for line in [l for l in lines[:-15] if "root: FAIL" in l] + lines[-15:]:
                print("     | " + line)
            for line in [l for l in state.splitlines() if l.startswith("QEMU at the timeout")]:
                print("     | " + line)
    print("qemu-%s: %d passed, %d failed" % (args.arch, passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
