"""Many interfaces in one run: creations started ahead, and the switch signal of wg_container_ifaces
(wait, then switch or abort, and consume the file)."""

import base64
import os
import threading

import pytest
from .fakes import FakeHost, FakeNamespace

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.engine.batch import reconcile_many, wait_for_signal
from ansible_collections.wgnet.containers.plugins.module_utils.engine.spec import Wanted, desired_state


def wanted(host, *names):
    return [Wanted(name, desired_state(base64.b64encode(os.urandom(32)).decode(), addresses=["10.0.0.2/32"]),
                   netns=host.ns.path, allow_other_interfaces=True) for name in names]


def test_every_creation_is_started_ahead_and_taken_by_its_create():
    host = FakeHost(FakeNamespace())
    interfaces = wanted(host, "wg0", "wg1")
    backend = host.backend(interfaces[0])
    assert reconcile_many(host, interfaces)["changed"]
    assert backend.starts == [("netns:1:2", "wg0"), ("netns:1:2", "wg1")]
    assert backend.ahead == [] and backend.discarded == []  # each create took its own
    assert not reconcile_many(host, interfaces)["changed"]
    assert len(backend.starts) == 2  # nothing to create: nothing started


def test_check_mode_starts_nothing():
    host = FakeHost(FakeNamespace(), check_mode=True)
    assert reconcile_many(host, wanted(host, "wg0"))["changed"]
    assert host.backend(wanted(host, "wg0")[0]).starts == [] and host.ns.links_by_name == {}


def test_what_a_failed_run_started_ahead_is_discarded(monkeypatch):
    host = FakeHost(FakeNamespace())
    backend = host.backend(wanted(host, "wg0")[0])

    def broken(*args):
        raise RuntimeError("the host ran out of something")
    monkeypatch.setattr(backend, "create", broken)
    with pytest.raises(RuntimeError):
        reconcile_many(host, wanted(host, "wg0", "wg1"))
    assert backend.discarded == [("netns:1:2", "wg0"), ("netns:1:2", "wg1")]


def write_later(path, text, delay=0.1):
    timer = threading.Timer(delay, lambda: path.write_text(text))
    timer.start()
    return timer


def test_switch_returns_and_consumes_the_file(tmp_path):
    signal = tmp_path / "switch-1"
    signal.write_text("switch\n")
    wait_for_signal(str(signal), timeout=5)
    assert not signal.exists()


def test_waits_for_the_file_to_appear(tmp_path):
    signal = tmp_path / "switch-2"
    timer = write_later(signal, "switch", delay=0.3)
    wait_for_signal(str(signal), timeout=5)
    timer.join()
    assert not signal.exists()


def test_abort_fails_with_the_reason_and_names_the_option(tmp_path):
    signal = tmp_path / "switch-3"
    signal.write_text("abort: the hub did not switch")
    with pytest.raises(WgnetError, match="says abort: the hub did not switch; nothing was changed") as info:
        wait_for_signal(str(signal), timeout=5)
    assert info.value.option == "switch_signal"
    assert not signal.exists()


def test_timeout_says_what_the_file_held(tmp_path):
    signal = tmp_path / "switch-4"
    signal.write_text("swi")
    with pytest.raises(WgnetError, match=r"did not say switch or abort within 1 s \(it holds 'swi'\)"):
        wait_for_signal(str(signal), timeout=1)
    assert signal.exists()
