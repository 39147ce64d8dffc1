#!/bin/sh
# Print the directory holding Debian's GNU-EFI for arm64 (usr/lib with
# crt0-efi-aarch64.o, its linker script and libraries; usr/include/efi),
# fetched and extracted into the cache once.  The BOOTAA64.EFI loader is
# built with it.  gnu-efi:arm64 cannot be installed beside the amd64 package
# the x86_64 loader uses (both own /usr/lib/libefi.a), so it is unpacked,
# not installed; the version is whatever the archive has.
set -eu

cache=${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn}
out="$cache/gnu-efi-arm64"
if [ -f "$out/usr/lib/crt0-efi-aarch64.o" ] && [ -f "$out/usr/include/efi/efi.h" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
if ! dpkg --print-foreign-architectures | grep -qx arm64 &&
   [ "$(dpkg --print-architecture)" != arm64 ]; then
	[ "$(id -u)" = 0 ] || { echo "cairn: run as root once: dpkg --add-architecture arm64 && apt-get update" >&2; exit 1; }
	dpkg --add-architecture arm64
	apt-get update -qq >&2
fi
tmp=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Package lists may lack arm64 on a machine that added it without updating.
(cd "$tmp" && apt-get download gnu-efi:arm64 >&2 2>/dev/null) ||
	{ [ "$(id -u)" = 0 ] && apt-get update -qq >&2 &&
	  (cd "$tmp" && apt-get download gnu-efi:arm64 >&2 2>/dev/null); }
dpkg -x "$tmp"/gnu-efi_*_arm64.deb "$tmp/x"
rm -rf "$out"
mv "$tmp/x" "$out" # whole, or not there
echo "$out"
