#!/bin/sh
# Print the directory holding Debian's libfdt sources (from linux-source-6.1),
# fetching and extracting them into the cache once.  The kernel builds them
# freestanding with its own libfdt_env.h, so the packaged one is dropped here.
set -eu

cache=${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn}
mkdir -p "$cache"
if [ -f "$cache/libfdt/fdt.c" ]; then
	echo "$cache/libfdt"
	exit 0
fi

cd "$cache"
deb=$(ls linux-source-6.1_*_all.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	# Package lists may be missing on a fresh machine: update once and retry.
	apt-get download linux-source-6.1 >&2 2>/dev/null ||
		{ [ "$(id -u)" = 0 ] && apt-get update -qq >&2 &&
		  apt-get download linux-source-6.1 >&2; }
	deb=$(ls linux-source-6.1_*_all.deb | head -n 1)
fi
ver=$(echo "$deb" | sed 's/linux-source-6.1_\(.*\)_all.deb/\1/')
tmp=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ./usr/src/linux-source-6.1.tar.xz
tar -xJf "$tmp/usr/src/linux-source-6.1.tar.xz" -C "$tmp" \
	--wildcards 'linux-source-6.1/scripts/dtc/libfdt/*'
rm -f "$tmp/linux-source-6.1/scripts/dtc/libfdt/libfdt_env.h"
rm -rf "$cache/libfdt-$ver"
mv "$tmp/linux-source-6.1/scripts/dtc/libfdt" "$cache/libfdt-$ver"
ln -sfn "libfdt-$ver" "$cache/libfdt"
echo "$cache/libfdt"
