#!/bin/sh
# Make a GRUB rescue ISO (BIOS and EFI) that boots a multiboot2 kernel on
# the serial console, with an optional boot module (the root task's
# initrd).  usage: mkiso.sh ISO KERNEL_ELF [BOOTARGS [MODULE]]
set -eu
iso=$1 elf=$2 args=${3:-} module=${4:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/boot/grub"
cp "$elf" "$dir/boot/cairn.elf"
load_module=
if [ -n "$module" ]; then
	cp "$module" "$dir/boot/initrd"
	load_module="module2 /boot/initrd initrd"
fi
cat > "$dir/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry "Cairn" {
	multiboot2 /boot/cairn.elf $args
	$load_module
	boot
}
CFG
grub-mkrescue -o "$iso" "$dir" >/dev/null 2>&1
