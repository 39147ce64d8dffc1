#!/bin/sh
# Check for every Debian package the build and the tests need; install what is
# missing when run as root, otherwise print the exact command.  Silent and fast
# (one dpkg-query call) when everything is present.  What cannot be installed
# beside these (arm64 packages: GNU-EFI, the Linux guest) the build unpacks
# into the cache itself (tools/gnu-efi-arm64.sh, tools/linux-guest.sh).
set -eu

PKGS="make gcc libc6-dev python3 gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu
gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu qemu-system-arm qemu-system-misc
qemu-system-x86 libfdt-dev device-tree-compiler libcmocka-dev u-boot-qemu opensbi
ovmf qemu-efi-aarch64 gnu-efi grub-efi-amd64-bin grub-pc-bin xorriso mtools
xz-utils ca-certificates cpio flex bison bc bochs bochs-term bochsbios vgabios gdb-multiarch
console-setup-linux"

installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $PKGS 2>/dev/null |
	awk '$2 == "installed" { print $1 }')
missing=$(for p in $PKGS; do echo "$installed" | grep -qx "$p" || echo "$p"; done)
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends $(echo $missing)"
if [ "$(id -u)" != 0 ]; then
	echo "cairn: missing packages; run as root:" >&2
	echo "  apt-get update && $cmd" >&2
	exit 1
fi
echo "cairn: installing: $(echo $missing)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
$cmd -qq >&2
