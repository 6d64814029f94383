#!/usr/bin/env bash
# Runs `ansible-test sanity` on a copy of the checkout at
# ansible_collections/wgnet/containers, the layout ansible-test requires.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$repo/.venv"
work="$repo/.cache/sanity"
dest="$work/ansible_collections/wgnet/containers"

# ansible-test's pip bootstrap comes from a host that is not reachable here;
# it takes a script placed in its cache instead (see pip_bootstrap.py).
pip_version="$("$venv/bin/python" - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
print(get_venv_packages(NativePythonConfig(version="3"))["pip"])
PY
)"
# ansible-test keeps that cache at ~/.ansible/test/cache, a path it does not let us
# change: it runs with a home of its own under .cache, not the user's.
export HOME="$work/home"
mkdir -p "$HOME/.ansible/test/cache"
cp "$repo/tests/sanity/pip_bootstrap.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

rm -rf "$dest"
mkdir -p "$dest"
git -C "$repo" ls-files -co --exclude-standard -z | (cd "$repo" && xargs -0 tar -cf -) | tar -C "$dest" -xf -
git -C "$dest" init -q && git -C "$dest" add -A
cd "$dest"
"$venv/bin/ansible-test" sanity --local --requirements --python "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" "$@"
