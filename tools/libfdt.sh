#!/bin/sh
# Print the directory holding Debian's libfdt sources (from linux-source-6.1),
# fetching and extracting them into the cache once.  The kernel builds them
# freestanding with its own libfdt_env.h, so the packaged one is dropped here.
set -eu

cache=${XDG_CACHE_HOME:-$HOME/.cache}/cairn
mkdir -p "$cache"
dir=$(ls -d "$cache"/libfdt-* 2>/dev/null | head -n 1 || true)
if [ -n "$dir" ] && [ -f "$dir/fdt.c" ]; then
	echo "$dir"
	exit 0
fi

cd "$cache"
deb=$(ls linux-source-6.1_*_all.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	apt-get download linux-source-6.1 >&2 2>/dev/null || apt-get download linux-source-6.1 >&2
	deb=$(ls linux-source-6.1_*_all.deb | head -n 1)
fi
ver=$(echo "$deb" | sed 's/linux-source-6.1_\(.*\)_all.deb/\1/')
tmp=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ./usr/src/linux-source-6.1.tar.xz
tar -xJf "$tmp/usr/src/linux-source-6.1.tar.xz" -C "$tmp" \
	--wildcards 'linux-source-6.1/scripts/dtc/libfdt/*'
rm -f "$tmp/linux-source-6.1/scripts/dtc/libfdt/libfdt_env.h"
mv "$tmp/linux-source-6.1/scripts/dtc/libfdt" "$cache/libfdt-$ver"
echo "$cache/libfdt-$ver"
