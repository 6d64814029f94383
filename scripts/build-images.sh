#!/usr/bin/env bash
# Build the base images from Debian packages alone (no image registry):
# debootstrap a minbase rootfs, tar it, docker import it. Rootfs tarballs are
# cached, so re-importing after dockerd's storage was wiped skips debootstrap.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"

MIRROR=${WGNET_MIRROR:-http://deb.debian.org/debian} # the mirror apt uses
CACHE=/var/cache/wgnet-images
# image name -> packages added to minbase (comma-separated, as --include wants).
# A Docker-in-Docker "host" is managed by Ansible over the docker connection:
# python3 for Ansible's modules, python3-apt for its apt module.
HOST_PKGS=python3,python3-apt,docker.io,iproute2,iputils-ping,procps
declare -A IMAGES=(
  ["wgnet/app:bookworm"]="iproute2,iputils-ping" # the app containers, on hosts of either release
  ["wgnet/host:bookworm"]=$HOST_PKGS              # Docker 20.10
  # Docker 26.1 and the Compose v2 plugin; trixie's docker.io only recommends docker-cli.
  ["wgnet/host:trixie"]="$HOST_PKGS,docker-cli,docker-compose"
)

# One image: debootstrap (unless its rootfs tarball is cached), then docker import.
# The images are built at the same time, each in a subshell of its own.
build() {
  local name=$1 include=${IMAGES[$1]} suite=${1##*:} key tarball start import_start
  rootfs= # the debootstrap folder being built, removed on any exit
  trap remove_rootfs EXIT
  trap 'exit 130' INT TERM # so that the EXIT trap runs on these too
  # The package list is in the file name: changing it invalidates the cache.
  key=$(printf '%s %s' "$suite" "$include" | sha256sum | cut -c1-12)
  tarball=$CACHE/${name//[\/:]/_}-$key.tar
  start=$SECONDS
  if [[ ! -s $tarball ]]; then
    # A deb cache of its own: debootstraps that share one download into the same files.
    local debs=$CACHE/debs/${name//[\/:]/_}
    mkdir -p "$debs"
    rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    log "$name: debootstrap $suite (+$include), log in $rootfs.log"
    debootstrap --variant=minbase --include="$include" --cache-dir="$debs" \
      "$suite" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 ||
      { tail -n 20 "$rootfs.log" >&2; die "debootstrap failed for $name"; }
    # Apt lists and caches only make the image bigger; `apt-get update` refills them.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    remove_rootfs
    log "$name: rootfs built in $((SECONDS - start))s"
  fi
  import_start=$SECONDS
  # Without a CMD the container would exit at once; these must keep running.
  docker import --change 'CMD ["sleep","infinity"]' "$tarball" "$name" >/dev/null
  log "$name: imported in $((SECONDS - import_start))s ($(du -h "$tarball" | cut -f1) rootfs)"
}

mkdir -p "$CACHE/debs"
start=$SECONDS
declare -A pids=()
for name in "${!IMAGES[@]}"; do
  docker image inspect "$name" >/dev/null 2>&1 && continue
  build "$name" &
  pids[$name]=$!
done
((${#pids[@]})) || exit 0
failed=()
for name in "${!pids[@]}"; do
  wait "${pids[$name]}" || failed+=("$name")
done
((${#failed[@]} == 0)) || die "not built: ${failed[*]}"
log "built ${!pids[*]} in $((SECONDS - start))s"
