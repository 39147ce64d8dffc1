#!/bin/sh
# Print the directory holding the riscv64 Linux guest: a Linux 6.1 Image
# built from Debian's linux-source-6.1 (the same package libfdt comes from;
# bookworm has no riscv64 kernel image) and an initramfs of the tiny static
# init in guests/linux-riscv64 (bookworm has no riscv64 busybox either).
# Built once into the cache, outside the work tree; the source tree is
# removed after the build, the Image kept.
#
# The configuration is allnoconfig and guests/linux-riscv64/config, not
# defconfig: defconfig builds some 3,000 objects (drivers for boards the
# guest never sees), which on a 2-core CI machine is longer than the whole
# suite; this one is what a Cairn guest uses: SMP, SBI (timer, IPIs, HSM,
# SRST, its console), the PLIC, the 8250, virtio-mmio with blk and console.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn}
frag="$here/guests/linux-riscv64/config"
out="$cache/linux-riscv64-$(cat "$frag" | sha256sum | cut -c1-16)"
CROSS=riscv64-linux-gnu-

if [ ! -f "$out/Image" ]; then
	"$here/tools/libfdt.sh" >/dev/null # fetches linux-source-6.1 into the cache
	deb=$(ls "$cache"/linux-source-6.1_*_all.deb | head -n 1)
	mkdir -p "$out"
	tmp=$(mktemp -d "$cache/tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	src="$cache/linux-source-6.1" # kept until an Image is built from it
	if [ ! -f "$src/.whole" ]; then
		echo "cairn: extracting $(basename "$deb") to build the riscv64 Linux guest (once)" >&2
		rm -rf "$src"
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ./usr/src/linux-source-6.1.tar.xz
		# Kconfig reads files of every architecture: the whole tree but
		# the device trees (xz, not the disk, is what takes the time).
		tar -xJf "$tmp/usr/src/linux-source-6.1.tar.xz" -C "$cache" \
			--exclude='linux-source-6.1/arch/*/boot/dts/*'
		rm "$tmp/usr/src/linux-source-6.1.tar.xz"
		touch "$src/.whole"
	fi
	echo "cairn: building the riscv64 Linux guest (once)" >&2
	kmake() { make -s -C "$src" ARCH=riscv CROSS_COMPILE=$CROSS O="$tmp/b" "$@" >&2; }
	KCONFIG_ALLCONFIG="$frag" kmake allnoconfig
	# Every option the fragment asks for must have survived allnoconfig.
	grep '^CONFIG_' "$frag" | while read -r line; do
		grep -qx "$line" "$tmp/b/.config" ||
			{ echo "cairn: riscv64 Linux config lost $line" >&2; exit 1; }
	done
	kmake -j"$(nproc)" Image
	cp "$tmp/b/.config" "$out/config"
	cp "$tmp/b/arch/riscv/boot/Image" "$out/Image.$$"
	mv "$out/Image.$$" "$out/Image" # whole, or not there
	rm -rf "$src"
fi

# The init, and its initramfs, built each time they change (they are small).
init="$here/guests/linux-riscv64/init.c"
dir="$out/init-$(cat "$init" "$0" | sha256sum | cut -c1-16)"
if [ ! -f "$dir/initramfs.cpio" ]; then
	mkdir -p "$dir"
	ln -sf ../Image "$dir/Image"
	root=$(mktemp -d "$cache/root.XXXXXX")
	mkdir -p "$root/proc" "$root/sys" "$root/dev"
	${CROSS}gcc -Os -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie \
		-Wall -Wextra -Werror -o "$root/init" "$init" -lgcc
	(cd "$root" && find . | cpio -o -H newc --quiet) > "$dir/initramfs.cpio.$$"
	mv "$dir/initramfs.cpio.$$" "$dir/initramfs.cpio"
	rm -rf "$root"
fi
echo "$dir"
