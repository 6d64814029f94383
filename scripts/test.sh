#!/usr/bin/env bash
# Runs every test of the collection on this machine, from nothing: sets the
# machine up (packages, dockerd, base images), makes .venv, then runs pytest
# over tests/ (unit, integration against real dockerd and wireguard-go,
# Molecule, ansible-test sanity, ansible-lint, build and offline install).
# Arguments go to pytest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
"$here/machine-setup.sh"
"$here/venv.sh"
cd "$here/.."
exec .venv/bin/python -m pytest "$@"
