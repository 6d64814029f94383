#!/usr/bin/env bash
# Runs every test of the collection on this machine, from nothing: sets the
# machine up (packages, dockerd, base images), makes .venv, then runs pytest
# over tests/ (unit, integration against real dockerd and wireguard-go,
# ansible-test sanity, ansible-lint, build and offline install).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/machine-setup.sh"
"$repo/scripts/venv.sh"
cd "$repo"
exec "$repo/.venv/bin/python" -m pytest "$@"
