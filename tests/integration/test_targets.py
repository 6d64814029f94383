"""Run each integration target that needs only the controller through ansible-playbook.

Targets keep the ansible-test layout (targets/NAME/tasks/main.yml): they assert
their own results, so a failed assert fails the playbook and this test.
"""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(HERE, "targets")
LOCAL_TARGETS = ["wg_derived_key", "filter_wgkeys"]


def run_target(name, tmp_path, extra_args=()):
    playbook = tmp_path / "run.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: %s\n" % os.path.join(TARGETS, name))
    env = dict(os.environ, ANSIBLE_ROLES_PATH=TARGETS, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    bindir = os.path.dirname(sys.executable)
    return subprocess.run(
        [os.path.join(bindir, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), *extra_args],
        env=env, check=False, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("name", LOCAL_TARGETS)
def test_target(name, tmp_path):
    result = run_target(name, tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "failed=0" in result.stdout
