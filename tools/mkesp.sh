#!/bin/sh
# Make a FAT EFI system partition image (mtools, no root) with Cairn's
# loader as the removable-media boot file, the kernel, its command line and
# an optional boot module.  usage: mkesp.sh IMG LOADER.EFI KERNEL [BOOTARGS [MODULE]]
# LOADER.EFI's name is the ISA's boot file name (BOOTX64.EFI, BOOTAA64.EFI);
# KERNEL is cairn.elf (x86_64) or the arm64 Image, which BOOTAA64.EFI reads
# as \cairn.img.
set -eu
img=$1 loader=$2 kernel=$3 args=${4:-} module=${5:-}
case $(basename "$loader") in
BOOTX64.EFI) kname=cairn.elf ;;
BOOTAA64.EFI) kname=cairn.img ;;
*) echo "mkesp.sh: unknown loader $loader" >&2; exit 1 ;;
esac
export MTOOLS_SKIP_CHECK=1
rm -f "$img.tmp"
# 16 MiB, or what the files need and 8 MiB more (a Linux guest's bundle).
bytes=$(cat "$loader" "$kernel" ${module:+"$module"} | wc -c)
dd if=/dev/zero of="$img.tmp" bs=1M count=$((bytes / 1048576 < 8 ? 16 : bytes / 1048576 + 8)) status=none
mformat -i "$img.tmp" -v CAIRNESP ::
mmd -i "$img.tmp" ::/EFI ::/EFI/BOOT
mcopy -i "$img.tmp" "$loader" "::/EFI/BOOT/$(basename "$loader")"
mcopy -i "$img.tmp" "$kernel" "::/$kname"
printf '%s' "$args" > "$img.cmdline"
mcopy -i "$img.tmp" "$img.cmdline" ::/cairn.cmdline
rm -f "$img.cmdline"
if [ -n "$module" ]; then
	mcopy -i "$img.tmp" "$module" ::/cairn.initrd
fi
mv "$img.tmp" "$img"
