"""The engine's plan and apply, against a fake namespace and backend: every attribute added, changed
and removed, check mode, removal, a backend switch, and a change undone when it fails halfway."""

import base64
import os

import pytest
from .fakes import FakeHost, FakeNamespace

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.engine.interface import reconcile
from ansible_collections.wgnet.containers.plugins.module_utils.engine.spec import Wanted, desired_state
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import public_key


def key():
    return base64.b64encode(os.urandom(32)).decode()


PRIVATE, OTHER_PRIVATE, PEER, PEER2, PSK = key(), key(), key(), key(), key()


def peer(public=PEER, **extra):
    result = {"public_key": public, "endpoint": "192.0.2.1:51820", "allowed_ips": ["10.0.0.0/24"],
              "persistent_keepalive": 25, "preshared_key": None}
    result.update(extra)
    return result


def state(**changes):
    values = {"private_key": PRIVATE, "peers": [peer()], "listen_port": 51820, "fwmark": 0, "mtu": 1420,
              "addresses": ["10.0.0.2/32", "fd00::2/128"], "routes": ["10.9.0.0/16"], "default_route": True,
              "dns": ["10.0.0.1"]}
    values.update(changes)
    return desired_state(**values)


@pytest.fixture
def host(tmp_path):
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 192.0.2.53\n")
    return FakeHost(FakeNamespace(), resolv_conf=str(resolv))


def run(host, desired, **extra):
    return reconcile(host, Wanted("wg0", desired, netns=host.ns.path, **extra))


def test_create_from_nothing_then_nothing_to_change(host):
    result = run(host, state())
    assert result["changed"]
    assert result["changes"][0] == "create interface wg0 (backend kernel)"
    assert "add address 10.0.0.2/32" in result["changes"] and "add route ::/0" in result["changes"]
    link = host.ns.links_by_name["wg0"]
    assert link["up"] and link["mtu"] == 1420
    assert link["routes"] == {"0.0.0.0/0", "::/0", "10.9.0.0/16"}
    view = result["interface"]
    assert view["public_key"] == public_key(PRIVATE) and view["listen_port"] == 51820
    assert [p["public_key"] for p in view["peers"]] == [PEER]
    assert view["dns"] == "".join(open(host.target_.resolv_conf)) and "nameserver 10.0.0.1" in view["dns"]
    assert PRIVATE not in repr(result)
    again = run(host, state())
    assert not again["changed"] and again["changes"] == []
    assert again["diff"]["before"] == again["diff"]["after"]


CHANGES = [
    ("private_key", {"private_key": OTHER_PRIVATE}, "set private_key (new key)"),
    ("listen_port", {"listen_port": 51821}, "set listen_port 51821"),
    ("fwmark set", {"fwmark": 7}, "set fwmark 7"),
    ("mtu", {"mtu": 1380}, "set mtu 1380"),
    ("address added", {"addresses": ["10.0.0.2/32", "10.0.0.3/32", "fd00::2/128"]}, "add address 10.0.0.3/32"),
    ("address removed", {"addresses": ["10.0.0.2/32"]}, "remove address fd00::2/128"),
    ("route added", {"routes": ["10.9.0.0/16", "10.8.0.0/16"]}, "add route 10.8.0.0/16"),
    ("route removed", {"routes": []}, "remove route 10.9.0.0/16"),
    ("default route removed", {"default_route": False}, "remove route 0.0.0.0/0"),
    ("peer added", {"peers": [peer(), peer(PEER2, allowed_ips=["10.0.1.0/24"])]}, "add peer " + PEER2),
    ("peer removed", {"peers": []}, "remove peer " + PEER),
    ("peer endpoint", {"peers": [peer(endpoint="192.0.2.2:51820")]}, "update peer %s: endpoint" % PEER),
    ("peer allowed_ips", {"peers": [peer(allowed_ips=["10.0.0.0/25"])]}, "update peer %s: allowed_ips" % PEER),
    ("peer keepalive", {"peers": [peer(persistent_keepalive=0)]}, "update peer %s: persistent_keepalive" % PEER),
    ("peer psk added", {"peers": [peer(preshared_key=PSK)]}, "update peer %s: preshared_key" % PEER),
    ("dns", {"dns": ["10.0.0.53"]}, "write resolvers to "),
]


@pytest.mark.parametrize("what, change, line", CHANGES, ids=[c[0] for c in CHANGES])
def test_each_attribute_is_planned_applied_and_then_converged(host, what, change, line):
    run(host, state())
    check = FakeHost.__new__(FakeHost)
    check.__dict__.update(host.__dict__, check_mode=True)
    predicted = reconcile(check, Wanted("wg0", state(**change), netns=host.ns.path))
    assert predicted["changed"] and any(c.startswith(line) for c in predicted["changes"]), predicted["changes"]
    assert run(host, state())["changed"] is False, "check mode changed something"

    result = run(host, state(**change))
    assert any(c.startswith(line) for c in result["changes"]), result["changes"]
    assert not any(c.startswith("create interface") for c in result["changes"])
    assert result["diff"]["after"] == predicted["diff"]["after"]
    assert run(host, state(**change))["changed"] is False
    for secret in (PRIVATE, OTHER_PRIVATE, PSK):
        assert secret not in repr(result)


def test_a_preshared_key_is_removed(host):
    run(host, state(peers=[peer(preshared_key=PSK)]))
    result = run(host, state())
    assert result["changes"] == ["update peer %s: preshared_key" % PEER]
    assert FakeHost.devices[(host.ns.path, "wg0")].config["peers"][PEER]["preshared_key"] is None


def test_state_absent_removes_the_interface_and_then_has_nothing_to_do(host):
    run(host, state())
    result = run(host, None)
    assert result["changes"] == ["remove interface wg0"] and result["diff"]["after"] == {}
    assert "wg0" not in host.ns.links_by_name
    assert run(host, None)["changed"] is False


def test_asking_for_another_backend_makes_the_interface_again(host):
    run(host, state())
    result = run(host, state(), backend="userspace")
    assert result["changes"][:2] == ["remove interface wg0 (backend kernel)", "create interface wg0 (backend userspace)"]
    assert result["interface"]["backend"] == "userspace"
    assert run(host, state(), backend="auto")["changed"] is False  # auto keeps what is there


def test_a_change_that_fails_halfway_is_undone(host):
    run(host, state())
    host.ns.fail_on = "add_address"
    with pytest.raises(WgnetError, match="wg0 was put back as it was, nothing changed"):
        run(host, state(private_key=OTHER_PRIVATE, addresses=["10.0.0.2/32", "10.0.0.9/32"]))
    device = FakeHost.devices[(host.ns.path, "wg0")]
    assert device.config["private_key"] == PRIVATE
    assert run(host, state())["changed"] is False


def test_a_link_that_is_not_wireguard_is_refused_by_name(host):
    host.ns.add_link("wg0", "veth")
    with pytest.raises(WgnetError, match="name: wg0 exists in the namespace and is a veth link, not WireGuard"):
        run(host, state())


def test_many_peer_changes_are_summed_up_when_asked(host):
    peers = [peer(key(), allowed_ips=["10.1.%d.0/24" % i]) for i in range(5)]
    run(host, state(peers=[]))
    result = reconcile(host, Wanted("wg0", state(peers=peers), netns=host.ns.path), listed_peers=2)
    assert sum(1 for c in result["changes"] if c.startswith("add peer ")) == 2
    assert "add 3 more peers" in result["changes"]
