# shellcheck shell=bash
# Source it: makes the checkout visible to ansible-core as wgnet.containers,
# through a symlink at .cache/collections/ansible_collections/wgnet/containers.
_wgnet_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$_wgnet_repo/.cache/collections/ansible_collections/wgnet"
ln -sfn "$_wgnet_repo" "$_wgnet_repo/.cache/collections/ansible_collections/wgnet/containers"
export ANSIBLE_COLLECTIONS_PATH="$_wgnet_repo/.cache/collections"
export ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
unset _wgnet_repo
