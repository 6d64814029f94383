"""The install role's record: a host matches it only while the inputs are the same and what the role made is there."""

import json

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.common import installstate

LIBS = [{"name": "pyroute2", "min_version": "0.9"}, {"name": "pycryptodome", "min_version": "3.21"}]
INPUTS = {"record_version": 1, "backend": "auto", "libraries": LIBS, "pip_args": ["--index-url", "https://u:p@example"]}


def live(**changes):
    state = {"versions": {"pyroute2": "0.9.7", "pycryptodome": "3.21.0"},
             "commands": {"wg": True, "ip": True, "wireguard-go": True}, "inotify": 4096, "kernel_module": False}
    state.update(changes)
    return state


def recorded(backend="userspace", inotify=4096):
    text = json.dumps(installstate.make_record("/opt/wgnet/venv/bin/python", backend, INPUTS, inotify))
    return installstate.parse_record(text)


def test_a_host_as_recorded_matches_and_the_record_holds_no_input():
    record = recorded()
    assert installstate.mismatch(record, INPUTS, LIBS, live()) == ""
    assert "u:p@example" not in json.dumps(record)
    assert record["python"] == "/opt/wgnet/venv/bin/python"


@pytest.mark.parametrize("record, inputs, state, reason", [
    (None, INPUTS, live(), "no record"),
    (recorded(), dict(INPUTS, backend="kernel"), live(), "inputs changed"),
    (recorded(), INPUTS, live(versions={"pyroute2": "0.7.2", "pycryptodome": "3.21.0"}), "lacks pyroute2"),
    (recorded(), INPUTS, live(versions={"pyroute2": "0.9.7", "pycryptodome": None}), "lacks pycryptodome"),
    (recorded(), INPUTS, live(commands={"wg": True, "ip": True}), "wireguard-go"),
    (recorded(), INPUTS, live(inotify=128), "inotify"),
    (recorded(backend="kernel"), INPUTS, live(commands={"wg": True, "ip": True}), "kernel module"),
])
def test_a_host_that_differs_from_its_record_does_not_match(record, inputs, state, reason):
    assert reason in installstate.mismatch(record, inputs, LIBS, state)


def test_the_kernel_backend_needs_neither_wireguard_go_nor_the_inotify_limit():
    record = recorded(backend="kernel")
    assert record["inotify"] is None
    state = live(commands={"wg": True, "ip": True}, inotify=128, kernel_module=True)
    assert installstate.mismatch(record, INPUTS, LIBS, state) == ""


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"python": "/usr/bin/python3", "backend": "kernel"}'])
def test_a_record_the_role_did_not_write_is_none(text):
    # The last is the record of the role's earlier versions: no inputs, so every step runs once more.
    assert installstate.parse_record(text) is None


@pytest.mark.parametrize("found, minimum, old", [
    ("3.21.0", "3.21", False), ("3.21.0rc1", "3.21", False), ("3.20.1", "3.21", True), ("0.10.1", "0.9", False),
    ("7.1.0", "7.0", False), (None, "0.9", True), ("", "0.9", True), ("unknown", "0.9", True),
])
def test_too_old_compares_numeric_releases(found, minimum, old):
    assert installstate.too_old(found, minimum) is old
