#!/usr/bin/env bash
# Runs every test of the collection on this machine, from nothing: sets the
# machine up (packages, dockerd, base images) while .venv is made, then runs
# pytest over tests/ (unit, integration against real dockerd and wireguard-go,
# Molecule, ansible-test sanity, ansible-lint, build and offline install).
#
# With no arguments the tests run in WGNET_TEST_JOBS streams at once (default 2:
# pytest-xdist; tests/conftest.py balances them by known durations), then
# tests/integration/test_footprint.py, which must see what all the others wrote,
# in a session of its own. WGNET_TEST_JOBS=1 runs them in one session, one after
# the other. Arguments go to one pytest session as they are, e.g.
# `scripts/test.sh tests/unit` or `scripts/test.sh -n 2 tests/integration`.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
jobs=${WGNET_TEST_JOBS:-2}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "WGNET_TEST_JOBS must be a positive number, not '$jobs'"

start=$SECONDS
# The venv needs nothing from the machine's setup: make it meanwhile.
"$here/venv.sh" &
venv_pid=$!
setup_status=0
"$here/machine-setup.sh" || setup_status=$?
venv_status=0
wait "$venv_pid" || venv_status=$?
((setup_status == 0)) || die "machine-setup.sh failed ($setup_status)"
((venv_status == 0)) || die "venv.sh failed ($venv_status)"
log "machine set up and .venv ready in $((SECONDS - start))s"

cd "$here/.."
if (($#)) || ((jobs == 1)); then
  exec .venv/bin/python -m pytest "$@"
fi

# test_footprint.py counts from this moment (tests/conftest.py).
WGNET_TEST_SESSION_START=$(date +%s.%N)
export WGNET_TEST_SESSION_START
status=0
.venv/bin/python -m pytest -n "$jobs" || status=$?
log "the tests but test_footprint.py: exit code $status after $((SECONDS - start))s"
footprint=0
.venv/bin/python -m pytest tests/integration/test_footprint.py || footprint=$?
log "test_footprint.py: exit code $footprint; $((SECONDS - start))s in all"
((status == 0)) || exit "$status"
exit "$footprint"
