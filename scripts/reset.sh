#!/usr/bin/env bash
# Puts this machine back to what a new one has, but for Debian's packages: removes
# every container in dockerd (Molecule's hosts, test containers), the wgnet/* images,
# the Molecule networks, the image and VM caches, .venv and .cache in this checkout,
# and what older versions of the scripts left in the home folder. .ci/run calls it
# before the tests, so that a green CI means that a new machine works.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
repo=$(cd "$here/.." && pwd)

if command -v dockerd >/dev/null; then
  "$here/dockerd-start.sh"
  containers=$(docker ps -aq)
  # shellcheck disable=SC2086 # one id a word
  [[ -z $containers ]] || docker rm -f $containers >/dev/null
  images=$(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep '^wgnet/' || true)
  # shellcheck disable=SC2086
  [[ -z $images ]] || docker image rm -f $images >/dev/null
  docker network prune -f >/dev/null
  docker volume prune -f >/dev/null
  # A new machine runs no dockerd: stop this one, so that the tests start their own, logging where
  # scripts/env.sh says.
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if alive "$pid" dockerd; then
    kill "$pid"
    for ((i = 0; i < 60; i++)); do alive "$pid" dockerd || break; sleep 1; done
    alive "$pid" dockerd && die "dockerd $pid did not stop within 60 s"
  fi
  log "dockerd: no containers, no wgnet images, no unused networks or volumes; stopped"
fi
rm -rf /var/cache/wgnet-images /var/cache/wgnet-vm "$repo/.venv" "$repo/.cache" "$repo/.ansible"
# Older versions wrote these; a new machine has none of them.
rm -rf "$HOME/.ansible/collections/ansible_collections/wgnet" "$HOME/.ansible/test" "$HOME/.ansible/tmp" \
  "$HOME/.cache/molecule" "$HOME/.cache/ansible-compat" "$HOME/.cache/wgnet" "$HOME/.cache/pip"
log "removed the image and VM caches, .venv and .cache"
