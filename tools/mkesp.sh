#!/bin/sh
# Make a FAT EFI system partition image (mtools, no root) with Cairn's
# loader as the removable-media boot file, the kernel, its command line and
# an optional boot module.  usage: mkesp.sh IMG LOADER.EFI KERNEL_ELF [BOOTARGS [MODULE]]
set -eu
img=$1 loader=$2 elf=$3 args=${4:-} module=${5:-}
export MTOOLS_SKIP_CHECK=1
rm -f "$img.tmp"
dd if=/dev/zero of="$img.tmp" bs=1M count=16 status=none
mformat -i "$img.tmp" -v CAIRNESP ::
mmd -i "$img.tmp" ::/EFI ::/EFI/BOOT
mcopy -i "$img.tmp" "$loader" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$img.tmp" "$elf" ::/cairn.elf
printf '%s' "$args" > "$img.cmdline"
mcopy -i "$img.tmp" "$img.cmdline" ::/cairn.cmdline
rm -f "$img.cmdline"
if [ -n "$module" ]; then
	mcopy -i "$img.tmp" "$module" ::/cairn.initrd
fi
mv "$img.tmp" "$img"
