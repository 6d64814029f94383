#!/usr/bin/env bash
# Creates .venv at the repo root and installs requirements-dev.txt into it.
# Re-installs only when the requirement files change, so a ready venv costs nothing.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=env.sh source-path=SCRIPTDIR
. "$repo/scripts/env.sh" # pip's cache under .cache, not ~/.cache
venv="$repo/.venv"
stamp="$venv/.requirements.sha256"
wanted="$(cat "$repo"/requirements*.txt | sha256sum | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if [[ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
    echo "venv: installing Python requirements into $venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$repo/requirements-dev.txt"
    echo "$wanted" > "$stamp"
fi
