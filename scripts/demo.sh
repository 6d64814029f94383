#!/usr/bin/env bash
# The local demo: sets this machine up, then wires three containers to a hub
# through WireGuard with keys derived from a seed, and prints their status.
# Re-running it changes nothing; `scripts/demo.sh clean` removes what it made.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
demo="$repo/.cache/demo"

if [[ "${1:-}" == clean ]]; then
    for name in wgnet-demo-web wgnet-demo-api wgnet-demo-db; do docker rm -f "$name" >/dev/null 2>&1 || true; done
    ip netns del wgnet-demo-hub 2>/dev/null || true
    exit 0
fi

"$repo/scripts/machine-setup.sh"
"$repo/scripts/venv.sh"
# shellcheck source=collection-path.sh
. "$repo/scripts/collection-path.sh"

# A throwaway seed for this machine's demo, made once and kept 0600. Real
# deployments keep theirs in Ansible Vault (see README).
mkdir -p "$demo"
if [[ ! -s "$demo/secrets.yml" ]]; then
    (umask 077; printf 'wgnet_seed: "%s"\n' "$(head -c 32 /dev/urandom | base64)" > "$demo/secrets.yml")
fi

"$repo/.venv/bin/ansible-playbook" -i localhost, -c local \
    -e ansible_python_interpreter="$repo/.venv/bin/python" \
    -e @"$demo/secrets.yml" -e wgnet_additional="$(printf 'demo-1' | base64)" \
    "$repo/scripts/demo.yml" "$@"
