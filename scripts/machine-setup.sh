#!/usr/bin/env bash
# Make a fresh Debian bookworm machine ready for the tests: packages, a
# running dockerd and the base images. Safe to re-run; fast when all is done.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"

# Package lists, by purpose; extend them here.
# The kernel here has no wireguard module, so the userspace wireguard-go is needed.
WG_PKGS=(wireguard-tools wireguard-go)
# docker-compose: Debian's Compose 1.29 (no compose plugin for docker.io 20.10), for the network driver's test.
CONTAINER_PKGS=(docker.io debootstrap docker-compose)
NET_PKGS=(iproute2 iputils-ping kmod)
VM_PKGS=(qemu-system-x86 zstd) # for the VM test tier; zstd unpacks its kernel (scripts/vm-build.sh)
QA_PKGS=(shellcheck shfmt) # tests/integration/test_scripts.py: lint and parse scripts/
PKGS=("${WG_PKGS[@]}" "${CONTAINER_PKGS[@]}" "${NET_PKGS[@]}" "${VM_PKGS[@]}" "${QA_PKGS[@]}")

missing=()
for p in "${PKGS[@]}"; do
  [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) == ii* ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes
  # Update only now: a fresh machine has empty or stale lists, a ready one needs none.
  apt-get -qq update
  # No recommends: wireguard-tools would otherwise pull in a whole kernel.
  apt-get -qq install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

"$here/dockerd-start.sh"
"$here/build-images.sh"
