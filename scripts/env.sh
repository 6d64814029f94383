# shellcheck shell=bash
# Source it (tests/collection_link.py loads it too): the environment that the demo,
# the tests and the benchmarks run in.
# - The checkout is the collection wgnet.containers, through a link under
#   .cache/collections, and the only collection path: a release the user installed
#   in ~/.ansible can neither shadow it nor be replaced by it.
# - What ansible-core, Molecule, ansible-compat, ansible-lint and pip keep in the
#   home directory goes under .cache instead, so nothing is written to ~/.ansible
#   or ~/.cache (tests/integration/test_footprint.py checks it).
_wgnet_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$_wgnet_repo/.cache/collections/ansible_collections/wgnet"
# Only when missing or wrong: `ln -sfn` removes the link before it makes it again, and a test
# running meanwhile (scripts/test.sh runs two at once) would find no collection there.
[[ $(readlink "$_wgnet_repo/.cache/collections/ansible_collections/wgnet/containers") == "$_wgnet_repo" ]] ||
  ln -sfn "$_wgnet_repo" "$_wgnet_repo/.cache/collections/ansible_collections/wgnet/containers"
export ANSIBLE_COLLECTIONS_PATH="$_wgnet_repo/.cache/collections"
# ansible-core's local tmp and Galaxy cache; Molecule's instances and inventories.
export ANSIBLE_HOME="$_wgnet_repo/.cache/ansible"
# Async jobs' status files (Molecule's docker driver runs some on the controller): not ~/.ansible_async.
export ANSIBLE_ASYNC_DIR="$ANSIBLE_HOME/async"
# Ansible's temporary folder on the hosts it manages: on this machine (connection local) it would be
# ~root/.ansible/tmp, whatever HOME says; on the Docker-in-Docker hosts, this path inside them.
export ANSIBLE_REMOTE_TMP="$ANSIBLE_HOME/remote-tmp"
# pip's wheels, ansible-lint's and ansible-compat's caches.
export XDG_CACHE_HOME="$_wgnet_repo/.cache/xdg"
# A home folder for Molecule: its docker driver keeps async jobs in $HOME/.ansible_async, whatever
# ANSIBLE_ASYNC_DIR says (scripts/demo.sh and tests/integration/test_molecule.py run it with this HOME).
export WGNET_MOLECULE_HOME="$_wgnet_repo/.cache/home"
# dockerd's log (scripts/dockerd-start.sh); the secrets audit reads it.
export WGNET_DOCKERD_LOG=/run/wgnet/dockerd.log
export ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
unset _wgnet_repo
