"""Run each integration target that needs only the controller through ansible-playbook.

Targets keep the ansible-test layout (targets/NAME/tasks/main.yml): they assert
their own results, so a failed assert fails the playbook and this test.
"""

import json
import os
import subprocess
import sys

import pytest
from wgtest import Hub, genkey, remove_container, start_container

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(HERE, "targets")
LOCAL_TARGETS = ["wg_derived_key", "filter_wgkeys", "wg_address_alloc"]


def run_target(name, tmp_path, extra_vars=None):
    playbook = tmp_path / "run.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: %s\n" % os.path.join(TARGETS, name))
    env = dict(os.environ, ANSIBLE_ROLES_PATH=TARGETS, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    bindir = os.path.dirname(sys.executable)
    extra_args = []
    if extra_vars:
        # Private keys go through a 0600 file, never the command line.
        vars_file = tmp_path / "vars.json"
        vars_file.touch(mode=0o600)
        vars_file.write_text(json.dumps(extra_vars))
        extra_args = ["-e", "@%s" % vars_file]
    return subprocess.run(
        [os.path.join(bindir, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), *extra_args],
        env=env, check=False, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("name", LOCAL_TARGETS)
def test_target(name, tmp_path):
    result = run_target(name, tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "failed=0" in result.stdout


@pytest.fixture(scope="module")
def hub():
    hub = Hub(subnet=3)
    yield hub
    hub.close()


@pytest.mark.parametrize("name, count", [("wg_container_iface", 1), ("wg_container_ifaces", 3)])
def test_container_target(name, count, hub, tmp_path):
    """The module targets run against real containers and the hub built by the test."""
    containers = [start_container() for index in range(count)]
    keys = [genkey() for container in containers]
    addresses = ["10.77.3.%d" % (10 * count + i) for i in range(count)]
    for (private, public), address in zip(keys, addresses):
        hub.add_peer(public, address)
    try:
        result = run_target(name, tmp_path, {
            "wgt_containers": containers, "wgt_addresses": addresses,
            "wgt_private_keys": [pair[0] for pair in keys],
            "wgt_hub": {"public_key": hub.public_key, "endpoint": hub.endpoint, "address": hub.address,
                        "allowed_ips": ["10.77.3.0/24"]}})
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        assert "failed=0" in result.stdout
        for private, public in keys:
            assert private not in result.stdout + result.stderr
    finally:
        for container, (private, public) in zip(containers, keys):
            remove_container(container)
            hub.remove_peer(public)
