"""Many interfaces in one run, read and changed in threads; and the switch signal of wg_container_ifaces
(wait, then switch or abort, and consume the file)."""

import base64
import os
import threading

import pytest
from .fakes import FakeHost, FakeNamespace

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.engine.batch import reconcile_many, wait_for_signal
from ansible_collections.wgnet.containers.plugins.module_utils.engine.spec import Wanted, desired_state
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import NetlinkError


def wanted(host, *names):
    return [Wanted(name, desired_state(base64.b64encode(os.urandom(32)).decode(), addresses=["10.0.0.%d/32" % (i + 2)]),
                   netns=host.ns.path, allow_other_interfaces=True) for i, name in enumerate(names)]


class RefusingNamespace(FakeNamespace):
    """Fails one address with ``error``, whichever thread asks: the kernel's refusal, or a system error."""

    def __init__(self, cidr, error):
        FakeNamespace.__init__(self)
        self.refused, self.error = cidr, error

    def add_address(self, index, cidr):
        if cidr == self.refused:
            raise self.error
        FakeNamespace.add_address(self, index, cidr)


def test_results_come_in_order_and_a_failure_names_its_element_without_holding_back_the_others():
    host = FakeHost(RefusingNamespace("10.0.0.9/32", NetlinkError(17, "File exists")))
    interfaces = wanted(host, *["wg%d" % i for i in range(20)])
    with pytest.raises(WgnetError, match=r"^interfaces\[7\] \(/var/run/netns/fake/wg7\): .*the other 19 interfaces "
                                         r"were changed as planned$") as info:
        reconcile_many(host, interfaces)
    assert info.value.option == "interfaces[7]"
    assert sorted(host.ns.links_by_name) == sorted("wg%d" % i for i in range(20) if i != 7)  # wg7 undone
    result = reconcile_many(host, interfaces[:7] + interfaces[8:])
    assert [r["name"] for r in result["results"]] == ["wg%d" % i for i in range(20) if i != 7]
    assert not result["changed"]


def test_a_system_error_while_changing_names_its_element_and_the_others_are_changed():
    host = FakeHost(RefusingNamespace("10.0.0.5/32", OSError(24, "Too many open files")))
    interfaces = wanted(host, *["wg%d" % i for i in range(6)])
    with pytest.raises(WgnetError, match=r"^interfaces\[3\] .*Too many open files.*the other 5 interfaces") as info:
        reconcile_many(host, interfaces)
    assert info.value.option == "interfaces[3]"
    assert sorted(host.ns.links_by_name) == ["wg0", "wg1", "wg2", "wg4", "wg5"]


def test_a_failure_while_reading_changes_nothing_and_names_the_first_element():
    host = FakeHost(FakeNamespace())  # no resolv.conf is known: an interface with resolvers cannot be planned
    interfaces = wanted(host, *["wg%d" % i for i in range(20)])
    interfaces[5].desired["dns"] = interfaces[12].desired["dns"] = "nameserver 10.0.0.1\n"
    with pytest.raises(WgnetError, match=r"^interfaces\[5\] \(/var/run/netns/fake/wg5\): .*no resolv.conf") as info:
        reconcile_many(host, interfaces)
    assert info.value.option == "interfaces[5].dns"
    assert host.ns.links_by_name == {}


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
