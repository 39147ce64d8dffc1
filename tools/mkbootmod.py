#!/usr/bin/env python3
"""Bundle files as Cairn boot modules (servers/lib/bootmod.h).

usage: mkbootmod.py OUT NAME=FILE ...   (each module page-aligned)"""
import struct
import sys

MAGIC = 0x444f4d4e52494143
PAGE = 4096


def main():
    out, mods = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
    if not mods or len(mods) > 31 or any(len(m) != 2 for m in mods):
        sys.exit(__doc__)
    header = struct.pack("<QQ", MAGIC, len(mods))
    blobs, offset = [], PAGE
    for name, path in mods:
        data = open(path, "rb").read()
        header += struct.pack("<48sQQ", name.encode()[:47], offset, len(data))
        blobs.append(data + b"\0" * (-len(data) % PAGE))
        offset += len(blobs[-1])
    with open(out, "wb") as f:
        f.write(header + b"\0" * (PAGE - len(header)))
        for b in blobs:
            f.write(b)


if __name__ == "__main__":
    main()
