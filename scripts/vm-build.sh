#!/usr/bin/env bash
# Build the test VM's image, or find it in the cache, and print its folder.
#
# The VM runs Debian's own kernel (which has WireGuard, unlike this machine's),
# so the kernel backend runs against real WireGuard. The image is made of
# Debian packages (debootstrap minbase + linux-image-amd64 + what the tests
# use) and the Python packages of tests/vm/requirements.txt, without network
# configuration and without the collection: scripts/vm-run.sh shares the
# checkout with the VM at each run.
#
# The folder holds rootfs.ext4 (used read-only: qemu's snapshot=on), kernel
# (an ELF vmlinux) and initrd.img. It is keyed by a hash of every build input
# (this script, the package list, the Python requirements), so a second run
# only prints it. Cold, it takes about 2 minutes (debootstrap most of it).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
repo=$(cd "$here/.." && pwd)

# Debian 13: its 6.12 kernel is the newest WireGuard the tests can reach (bookworm's 6.1 is older,
# and CI's time allows one VM tier: README, "Tested platforms").
SUITE=trixie
PYTHON_VERSION=3.13 # Debian's python3 in $SUITE
MIRROR=${WGNET_MIRROR:-http://deb.debian.org/debian} # the mirror apt uses
CACHE=${WGNET_VM_CACHE:-/var/cache/wgnet-vm}
REQUIREMENTS=$repo/tests/vm/requirements.txt
# initramfs-tools: the kernel has virtio and ext4 as modules, loaded from the initrd.
# kmod for modprobe; iproute2, iputils-ping and wireguard-tools for the tests'
# own view of the network; wireguard-go to compare both backends on one kernel.
PACKAGES=linux-image-amd64,initramfs-tools,kmod,iproute2,iputils-ping,python3,wireguard-tools,wireguard-go,procps
PYTHON_SITE=usr/local/lib/python$PYTHON_VERSION/dist-packages # on Debian's python3's path
# Kernel modules that a VM without NIC, USB or display never loads.
PRUNE_MODULES=(drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging sound
  drivers/bluetooth net/bluetooth drivers/iio drivers/usb drivers/hid drivers/scsi drivers/net/ethernet)

python=$repo/.venv/bin/python # made by scripts/venv.sh
[[ -x $python ]] || die "$python is missing: run scripts/venv.sh first"

key=$({ printf '%s\n' "$SUITE" "$PACKAGES"; cat "$REQUIREMENTS" "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
image=$CACHE/$key
if [[ -s $image/rootfs.ext4 && -f $image/complete ]]; then
  echo "$image"
  exit 0
fi

mkdir -p "$CACHE/debs"
# One build at a time; a second caller waits for it and takes its result.
exec 9>"$CACHE/.lock"
flock 9
if [[ -f $image/complete ]]; then
  echo "$image"
  exit 0
fi

rootfs= # the debootstrap folder being built, removed on any exit
trap remove_rootfs EXIT
trap 'exit 130' INT TERM # so that the EXIT trap runs on these too

start=$SECONDS
rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
log "debootstrap $SUITE (+$PACKAGES)"
debootstrap --variant=minbase --include="$PACKAGES" --cache-dir="$CACHE/debs" \
  "$SUITE" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 ||
  { tail -n 30 "$rootfs.log" >&2; die "debootstrap failed"; }
log "debootstrap done in $((SECONDS - start))s"

# Python packages: with this machine's pip, as wheels for the VM's python3.
"$python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version "$PYTHON_VERSION" --target "$rootfs/$PYTHON_SITE" -r "$REQUIREMENTS"
rm -rf "${rootfs:?}/$PYTHON_SITE/bin" # console scripts with this machine's interpreter in their shebang

# The kernel and initrd are handed to qemu directly (-kernel, -initrd).
kver=$(basename "$(ls -d "$rootfs"/lib/modules/*)")
[[ -s $rootfs/boot/vmlinuz-$kver && -s $rootfs/boot/initrd.img-$kver ]] || die "no kernel or initrd for $kver"
for dir in "${PRUNE_MODULES[@]}"; do
  rm -rf "${rootfs:?}/lib/modules/$kver/kernel/$dir"
done
chroot "$rootfs" depmod "$kver"
# The initrd only has to find the root disk: a few modules instead of most of
# them (35 MB), which take seconds to unpack and load under TCG.
printf '%s\n' MODULES=list COMPRESS=gzip >"$rootfs/etc/initramfs-tools/conf.d/wgnet-vm"
printf '%s\n' virtio_pci virtio_blk ext4 >>"$rootfs/etc/initramfs-tools/modules"
chroot "$rootfs" update-initramfs -u -k "$kver" >&2

# PID 1 of the VM: mounts what a test needs, then runs the run-in-vm.sh that
# vm-run.sh shares (tests/vm/run-in-vm.sh), so that the run logic is not baked in.
cat >"$rootfs/usr/local/sbin/wgnet-vm-init" <<'EOF'
#!/bin/sh
# PID 1 of the wgnet test VM (made by scripts/vm-build.sh).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run/lock /run/netns /mnt/wgnet
modprobe virtio_rng 2>/dev/null
modprobe 9pnet_virtio && modprobe 9p &&
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 wgnet /mnt/wgnet &&
  [ -f /mnt/wgnet/run-in-vm.sh ] && exec /bin/bash /mnt/wgnet/run-in-vm.sh
echo "wgnet-vm-init: nothing to run at /mnt/wgnet/run-in-vm.sh; powering off" >&2
echo o >/proc/sysrq-trigger
sleep 30
EOF
chmod 0755 "$rootfs/usr/local/sbin/wgnet-vm-init"
echo wgnet-vm >"$rootfs/etc/hostname"
# No network configuration at all: the VM has no NIC (vm-run.sh passes -nic none).

tmp=$CACHE/$key.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
# The kernel uncompressed, as an ELF that qemu boots through its PVH entry:
# the bzImage's own decompressor takes about 8 s under TCG. Debian's bzImage
# holds it as an xz (bookworm) or zstd (trixie) stream; if it cannot be had, the bzImage it is.
if ! "$python" - "$rootfs/boot/vmlinuz-$kver" "$tmp/kernel" <<'PY'; then
import lzma, subprocess, sys
data = open(sys.argv[1], "rb").read()
xz, zstd = data.find(b"\xfd7zXZ\x00"), data.find(b"\x28\xb5\x2f\xfd")
if xz >= 0:  # bookworm's kernels
    kernel = lzma.LZMADecompressor().decompress(data[xz:])
elif zstd >= 0:  # trixie's; zstd exits 1 on the bytes after the frame, so look at what it wrote
    kernel = subprocess.run(["zstd", "-dcq"], input=data[zstd:], capture_output=True, check=False).stdout
else:
    kernel = b""
if kernel[:4] != b"\x7fELF":
    sys.exit("no xz- or zstd-compressed ELF kernel in %s" % sys.argv[1])
with open(sys.argv[2], "wb") as handle:
    handle.write(kernel)
PY
  log "booting the bzImage (slower under TCG)"
  cp "$rootfs/boot/vmlinuz-$kver" "$tmp/kernel"
fi
cp "$rootfs/boot/initrd.img-$kver" "$tmp/initrd.img"
rm -f "$rootfs"/boot/vmlinuz-* "$rootfs"/boot/initrd.img-*
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
# The root file system: its content plus room for a test run's files (writes go
# to qemu's temporary overlay, never to this file).
size_mb=$(($(du -sm "$rootfs" | cut -f1) + 512))
mkfs.ext4 -q -F -L wgnet-vm -E root_owner=0:0 -d "$rootfs" "$tmp/rootfs.ext4" "${size_mb}M" >&2
printf '%s\n' "kernel $kver" "packages $PACKAGES" "built $(date -Is) in $((SECONDS - start))s" >"$tmp/complete"
rm -rf "$image"
mv "$tmp" "$image"
# Older images (other keys): the newest other one stays, for a checkout of another branch.
find "$CACHE" -mindepth 1 -maxdepth 1 -type d ! -name debs ! -name 'rootfs.*' ! -name "$key" -printf '%T@ %p\n' |
  sort -rn | tail -n +2 | cut -d' ' -f2- | xargs -r rm -rf
log "image $image built in $((SECONDS - start))s ($(du -sh "$image" | cut -f1))"
echo "$image"
