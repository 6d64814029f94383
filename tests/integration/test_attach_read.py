"""wg_attach_read lists the running labelled containers from the real dockerd, and the allocation record.

Other tests may run labelled containers at the same time, so only this test's containers are looked at.
"""

import base64
import uuid

from wgtest import APP_IMAGE, remove_container, run_module, sh


def start_labelled(name, *labels, running=True):
    args = ["docker", "run", "-d", "--name", name, "--network", "none"]
    for label in labels:
        args += ["--label", label]
    sh(*args, APP_IMAGE, "sleep", "infinity")
    if not running:
        sh("docker", "stop", "-t", "0", name)


def test_lists_running_labelled_containers_and_reads_the_record(tmp_path):
    tag = uuid.uuid4().hex[:8]
    names = {kind: "wgt-read-%s-%s" % (kind, tag) for kind in ("addr", "plain", "off", "stopped", "other")}
    try:
        start_labelled(names["addr"], "wgnet.enable=true", "wgnet.address=10.9.8.7")
        start_labelled(names["plain"], "wgnet.enable=true")
        start_labelled(names["off"], "wgnet.enable=false", "wgnet.address=10.9.8.6")
        start_labelled(names["stopped"], "wgnet.enable=true", running=False)
        start_labelled(names["other"])
        record = tmp_path / "allocations.json"
        record.write_bytes(b'{"slice": "10.9.8.0/28"}')

        result = run_module("wg_attach_read", {"state_path": str(record)})

        assert result.get("failed") is not True, result["_raw"]
        mine = sorted(line for line in result["labelled"] if line.split()[0] in names.values())
        assert mine == sorted(["%s 10.9.8.7" % names["addr"], names["plain"]])
        assert base64.b64decode(result["content"]) == b'{"slice": "10.9.8.0/28"}'
        assert result["changed"] is False
    finally:
        for name in names.values():
            remove_container(name)


def test_no_record_and_no_docker_lookup():
    result = run_module("wg_attach_read", {"labels": False, "state_path": "/nonexistent/wgnet/allocations.json"})
    assert result.get("failed") is not True, result["_raw"]
    assert result["labelled"] == [] and "content" not in result


def test_a_remote_daemon_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    result = run_module("wg_attach_read", {"state_path": "/nonexistent/wgnet/allocations.json"})
    assert result["failed"] is True
    assert result["option"] == "labels" and "unix://" in result["msg"]


def test_says_whether_the_generation_record_holds_the_generation(tmp_path):
    """The record as wg_generation_record writes it, and only with its mode, counts as holding the generation."""
    path = tmp_path / "attach-generation.json"
    read = {"labels": False, "state_path": str(tmp_path / "allocations.json"), "generation": "0123456789abcdef",
            "generation_path": str(path)}
    assert run_module("wg_attach_read", read)["generation_recorded"] is False  # no record yet
    written = run_module("wg_generation_record", {"path": str(path), "generation": "0123456789abcdef"})
    assert written["changed"] is True, written["_raw"]
    assert run_module("wg_attach_read", read)["generation_recorded"] is True
    assert run_module("wg_attach_read", dict(read, generation="fedcba9876543210"))["generation_recorded"] is False
    path.chmod(0o644)
    assert run_module("wg_attach_read", read)["generation_recorded"] is False
    assert "generation_recorded" not in run_module("wg_attach_read", {"labels": False, "state_path": str(path)})
