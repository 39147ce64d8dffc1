#!/bin/sh
# Print the directory holding a Linux guest: Debian's own cloud kernel
# (linux-image-cloud-arm64's Image, or linux-image-cloud-amd64's bzImage
# with `tools/linux-guest.sh amd64`; its version resolved through the
# metapackage: the archive moves) and an initramfs of Debian's
# busybox-static with guests/linux/init and the kernel's own virtio
# modules (the cloud kernels build them as modules).  Fetched and built once into
# the cache, outside the work tree.  The initramfs is built once for each
# init (a directory named by its hash, the kernel beside it): work trees with
# different inits share the cache, and one's build must not become another's.
set -eu

arch=${1:-arm64}
case $arch in
arm64) kernel=Image ;;
amd64) kernel=bzImage ;;
*) echo "cairn: no Linux guest for $arch" >&2; exit 1 ;;
esac
cache=${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn}
out="$cache/linux-$arch"
init="$(dirname "$0")/../guests/linux/init"
mkdir -p "$out"

# What the guest's init loads, in dependency order (modules.dep).
# virtio-pci too: tools/virtio-blk-ratio boots the same initramfs on bare
# QEMU with virtio-blk-pci, to compare.
MODULES="drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko drivers/virtio/virtio_mmio.ko
drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci_modern_dev.ko
drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko drivers/char/virtio_console.ko
net/core/failover.ko drivers/net/net_failover.ko drivers/net/virtio_net.ko"

if [ ! -f "$out/$kernel" ] || [ ! -f "$out/busybox" ] || [ ! -f "$out/modules/virtio_pci.ko" ]; then
	if [ "$(dpkg --print-architecture)" != "$arch" ] &&
	   ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		[ "$(id -u)" = 0 ] || { echo "cairn: run as root once: dpkg --add-architecture $arch && apt-get update" >&2; exit 1; }
		dpkg --add-architecture "$arch"
		apt-get update -qq >&2
	fi
	meta=linux-image-cloud-$arch:$arch
	pkg=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
	if [ -z "$pkg" ]; then
		apt-get update -qq >&2
		pkg=$(apt-cache depends "$meta" | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
	fi
	tmp=$(mktemp -d "$cache/tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download "$pkg" "busybox-static:$arch" >&2 2>/dev/null)
	for d in "$tmp"/*.deb; do dpkg -x "$d" "$tmp/x"; done
	cp "$tmp"/x/boot/vmlinuz-* "$out/$kernel"
	cp "$tmp/x/bin/busybox" "$out/busybox"
	rm -rf "$out/modules" && mkdir -p "$out/modules"
	for m in $MODULES; do cp "$tmp"/x/lib/modules/*/kernel/"$m" "$out/modules/"; done
	rm -rf "$out"/init-*
	echo "$pkg" > "$out/version"
fi

dir="$out/init-$(sha256sum "$init" | cut -c1-16)"
if [ ! -f "$dir/initramfs.cpio" ]; then
	mkdir -p "$dir"
	ln -sf "../$kernel" "$dir/$kernel"
	root=$(mktemp -d "$cache/root.XXXXXX")
	mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/lib/modules"
	cp "$out/busybox" "$root/bin/busybox"
	for m in $MODULES; do cp "$out/modules/$(basename "$m")" "$root/lib/modules/"; done
	echo "$MODULES" | tr ' ' '\n' | sed 's|.*/||' > "$root/lib/modules/order"
	cp "$init" "$root/init"
	chmod 755 "$root/init" "$root/bin/busybox"
	(cd "$root" && find . | cpio -o -H newc --quiet) > "$dir/initramfs.cpio.$$"
	mv "$dir/initramfs.cpio.$$" "$dir/initramfs.cpio" # whole, or not there
	rm -rf "$root"
fi
echo "$dir"
