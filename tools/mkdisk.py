#!/usr/bin/env python3
"""Make a bootable disk for U-Boot's distro boot: an MBR with one bootable
FAT partition holding the kernel Image and extlinux/extlinux.conf.
Uses mtools (no root, no loop devices).

usage: mkdisk.py DISK IMAGE [BOOTARGS]
"""
import os
import struct
import subprocess
import sys

SECTOR = 512
PART_START = 2048          # 1 MiB, the usual alignment
PART_SECTORS = 32 * 2048   # 32 MiB: FAT16


def mbr(start, count):
    entry = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0x0e, b"\xfe\xff\xff",
                        start, count)
    return b"\0" * 446 + entry + b"\0" * 48 + b"\x55\xaa"


def main():
    disk, image = sys.argv[1], sys.argv[2]
    bootargs = sys.argv[3] if len(sys.argv) > 3 else ""
    tmp = disk + ".tmp"
    with open(tmp, "wb") as f:
        f.write(mbr(PART_START, PART_SECTORS))
        f.truncate((PART_START + PART_SECTORS) * SECTOR)
    part = "%s@@%d" % (tmp, PART_START * SECTOR)
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")

    def mtool(*argv):
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)

    mtool("mformat", "-i", part, "-T", str(PART_SECTORS), "-h", "64", "-s", "32",
          "-v", "CAIRN", "::")
    conf = disk + ".extlinux.conf"
    with open(conf, "w") as f:
        f.write("default cairn\nlabel cairn\n\tkernel /Image\n")
        if bootargs:  # U-Boot 2023.01 faults on an empty append line
            f.write("\tappend %s\n" % bootargs)
    mtool("mmd", "-i", part, "::/extlinux")
    mtool("mcopy", "-i", part, conf, "::/extlinux/extlinux.conf")
    mtool("mcopy", "-i", part, image, "::/Image")
    os.unlink(conf)
    os.replace(tmp, disk)


if __name__ == "__main__":
    main()
