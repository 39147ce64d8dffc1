# Cairn's commands for gdb-multiarch (make debug sources this file).
#
#   cairn-load BUILD OFFSET   the kernel's symbols (cairn.elf, linked at 0,
#                             relocated to where the boot loader put it), the
#                             root task's (root.elf, at its own address) and
#                             the test guest's (guests/test.elf, at its guest
#                             addresses: it runs with its MMU off)
#   cairn-guest ELF [OFFSET]  a guest's symbols besides (a Linux vmlinux from
#                             Debian's linux-image-*-dbg, say)
#   cairn-threads [all]       each CPU's current thread and run queue (all:
#                             every live thread too), and
#                             the threads waiting on a stop
#
# Threads are named by their names (SYS_THREAD_SET_NAME) and addresses,
# with their state, priority, CPU, and what they run (a guest when a VCPU is
# bound).
import gdb

STATES = ["inactive", "runnable", "blocked-send", "blocked-recv", "blocked-reply",
          "blocked-notify", "blocked-wfi"]


class Load(gdb.Command):
    """cairn-load BUILD OFFSET: the kernel's and the root task's symbols."""

    def __init__(self):
        super().__init__("cairn-load", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        build, offset = gdb.string_to_argv(arg)
        gdb.execute("add-symbol-file %s/cairn.elf -o %s" % (build, offset), to_string=True)
        gdb.execute("add-symbol-file %s/root/root.elf" % build, to_string=True)
        guest = "%s/guests/test.elf" % build
        try:
            gdb.execute("add-symbol-file %s" % guest, to_string=True)
            print("cairn: kernel symbols at +%s, the root task's and the test guest's at "
                  "their own addresses" % offset)
        except gdb.error:
            print("cairn: kernel symbols at +%s, the root task's at its own addresses" % offset)


class Guest(gdb.Command):
    """cairn-guest ELF [OFFSET]: a guest's symbols."""

    def __init__(self):
        super().__init__("cairn-guest", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        gdb.execute("add-symbol-file %s%s" % (argv[0], " -o " + argv[1] if len(argv) > 1 else ""),
                    to_string=True)
        print("cairn: %s's symbols loaded" % argv[0])


def name_of(t):
    try:
        raw = bytes(int(t["name"][i]) & 0xff for i in range(16))
        return raw.split(b"\0")[0].decode("ascii", "replace") or "-"
    except gdb.error:
        return "-"


def describe(t):
    state = int(t["state"])
    name = STATES[state] if state < len(STATES) else "state %d" % state
    what = "guest (vcpu %s)" % t["vcpu"] if int(t["vcpu"]) else "native"
    pc = int(t["regs"]["pc"])
    return "thread %s %s %s prio %d cpu %d %s pc 0x%x" % (name_of(t), t.address if t.address else "?", name,
                                                      int(t["prio"]), int(t["cpu"]), what, pc)


class Threads(gdb.Command):
    """cairn-threads [all]: each CPU's current thread and its run queue (all:
    and every live thread)."""

    def __init__(self):
        super().__init__("cairn-threads", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        ncpus = int(gdb.parse_and_eval("ncpus_online"))
        scheds = gdb.parse_and_eval("scheds")
        levels = int(scheds[0]["q"]["head"].type.range()[1]) + 1
        for c in range(ncpus):
            s = scheds[c]
            cur = s["cur"]
            print("cpu%d: %s" % (c, describe(cur.dereference()) if int(cur) else "idle"))
            for p in range(levels - 1, -1, -1):
                head = s["q"]["head"][p]
                t, n = head, 0
                while int(t) and n < 1000:
                    print("  ready: %s" % describe(t.dereference()))
                    t, n = t["next"], n + 1
                    if int(t) == int(head):
                        break
        # each CPU counts the stops it waits for (sched.stops)
        waits = [int(scheds[c]["stops"]) for c in range(ncpus)]
        print("threads stopping: %d%s" % (sum(waits), "".join(
            " (cpu%d waits for %d)" % (c, w) for c, w in enumerate(waits) if w)))
        if arg.strip() == "all":  # every live thread, oldest first
            head = gdb.parse_and_eval("threads_live")
            t, n = head, 0
            while int(t) and n < 10000:
                print("  live: %s" % describe(t.dereference()))
                t, n = t["live_next"], n + 1
                if int(t) == int(head):
                    break


Load()
Guest()
Threads()
