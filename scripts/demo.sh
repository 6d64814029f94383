#!/usr/bin/env bash
# The local demo: sets this machine up, then runs the whole thing on it - a hub
# and two Docker hosts as containers (the Molecule scenario "default"), three
# app containers on each host, site.yml, then the status table.
# Re-running it changes nothing; `scripts/demo.sh clean` removes the hosts.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
"$here/machine-setup.sh"
"$here/venv.sh"
"$here/molecule-deps.sh"
export PATH="$here/../.venv/bin:$PATH" HOME=$WGNET_MOLECULE_HOME
mkdir -p "$HOME"
cd "$here/.."

if [[ "${1:-}" == clean ]]; then
  exec molecule destroy -s default
fi
# create + prepare (hosts, their dockerd, app containers) + converge (site.yml)
molecule converge -s default
# the status table (playbooks/status.yml)
molecule side-effect -s default
