#!/bin/sh
# Print the directory holding the riscv64 Linux guest: a Linux 6.1 Image
# built from Debian's linux-source-6.1 (the same package libfdt comes from;
# bookworm has no riscv64 kernel image) and an initramfs of the tiny static
# init in guests/linux-riscv64 (bookworm has no riscv64 busybox either).
# Built once into the cache, outside the work tree; the source tree is
# removed after the build, the Image kept.
#
# The configuration is arch/riscv's defconfig changed by
# guests/linux-riscv64/config (merge_config.sh), which turns off what a
# guest never sees (boards' SoCs and drivers, PCI, USB, graphics, ...) and
# defconfig's debugging options, and turns on the SBI console; `make
# Image` builds what is built in, not defconfig's modules.  Some 1,200
# objects: about 10 minutes on 2 cores, once (the cache is keyed by the
# fragment and this script).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn}
frag="$here/guests/linux-riscv64/config"
out="$cache/linux-riscv64-$(cat "$frag" "$here/tools/linux-riscv64.sh" | sha256sum | cut -c1-16)"
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
	kmake defconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$tmp/b" "$tmp/b/.config" "$frag" >/dev/null
	kmake olddefconfig
	# Every option the fragment turns on must be on, every one it turns
	# off off (a select elsewhere would override it silently).
	grep '^CONFIG_' "$frag" | while read -r line; do
		grep -qx "$line" "$tmp/b/.config" ||
			{ echo "cairn: riscv64 Linux config lost $line" >&2; exit 1; }
	done
	sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' "$frag" | while read -r name; do
		! grep -q "^$name=[ym]" "$tmp/b/.config" ||
			{ echo "cairn: riscv64 Linux config kept $name" >&2; exit 1; }
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
