"""The Molecule scenario `default` passes end to end on Docker-in-Docker hosts.

`molecule test -s default` creates a hub and two Docker hosts from
wgnet/host:bookworm, prepares them (inner dockerd, three app containers each),
runs converge.yml in check mode on the fresh hosts, converges, checks
idempotence, verifies, and destroys them. About three minutes.

Run it alone:

    scripts/test.sh tests/integration/test_molecule.py
    .venv/bin/python -m pytest tests/integration/test_molecule.py   # machine already set up

The full Molecule output is kept in .cache/molecule/default-test.log.
"""

import os
import re
import subprocess
import sys

from collection_link import COLLECTIONS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
LOG = os.path.join(REPO, ".cache", "molecule", "default-test.log")


def molecule_env():
    env = dict(os.environ)
    env.update(
        PATH=BIN + os.pathsep + env.get("PATH", ""),
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        NO_COLOR="1",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PY_COLORS="0",
    )
    return env


def test_molecule_default_scenario():
    env = molecule_env()
    # community.docker and ansible.posix for the docker driver, without Galaxy.
    deps = subprocess.run(["bash", os.path.join(REPO, "scripts", "molecule-deps.sh")], env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    assert deps.returncode == 0, deps.stdout + deps.stderr

    molecule = os.path.join(BIN, "molecule")
    try:
        result = subprocess.run([molecule, "test", "-s", "default"], cwd=REPO, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, check=False, timeout=1500)
    except subprocess.TimeoutExpired:
        # Killed halfway: leave no hosts behind for the next run.
        subprocess.run([molecule, "destroy", "-s", "default"], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, check=False, timeout=300)
        raise
    os.makedirs(os.path.dirname(LOG), exist_ok=True)
    with open(LOG, "w") as log:
        log.write(result.stdout)
    out = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # some lines keep colours despite NO_COLOR
    assert result.returncode == 0, "molecule test failed (%d), full log in %s:\n%s" % (
        result.returncode, LOG, out[-12000:])
    # Each step logs "[default > <step>] Executed: Successful" as it ends (the final
    # recap is not to be trusted: it has shown a failed idempotence as successful).
    assert "Executed: Failed" not in out, "a step failed, see %s" % LOG
    for step in ("create", "prepare", "check", "converge", "idempotence", "verify", "destroy"):
        assert re.search(r"\[default\W+%s\] Executed: Successful" % step, out), "step %s did not pass, see %s" % (step, LOG)
    # The second converge itself: every host ran and changed nothing.
    second = re.search(r"idempotence\] Executing(.*?)idempotence\]", out, re.S)
    assert second, "no idempotence run in %s" % LOG
    recap = dict(re.findall(r"^\s*(\S+)\s+: ok=\d+\s+changed=(\d+)", second.group(1), re.M))
    assert set(recap) >= {"hub", "docker1", "docker2"}, recap
    assert set(recap.values()) == {"0"}, "not idempotent: %s" % recap
    assert "Idempotence test failed" not in out
