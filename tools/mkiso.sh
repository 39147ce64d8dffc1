#!/bin/sh
# Make a GRUB rescue ISO (BIOS and EFI) that boots a multiboot2 kernel on
# the serial console.  usage: mkiso.sh ISO KERNEL_ELF [BOOTARGS]
set -eu
iso=$1 elf=$2 args=${3:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/boot/grub"
cp "$elf" "$dir/boot/cairn.elf"
cat > "$dir/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry "Cairn" {
	multiboot2 /boot/cairn.elf $args
	boot
}
CFG
grub-mkrescue -o "$iso" "$dir" >/dev/null 2>&1
