"""The switch signal of wg_container_ifaces: wait, then switch or abort, and consume the file."""

import threading

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.engine.batch import wait_for_signal


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
