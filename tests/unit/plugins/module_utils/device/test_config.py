"""Reconcile logic: normal form, device plans, link plans, secret-free views."""

import base64
import os
import socket

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.device import config as wgconfig
from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.device.config import (
    as_desired,
    describe_plan,
    normalize_peers,
    plan_device,
    public_view,
    resolve_endpoint,
    ZERO_KEY,
)
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import public_key
from ansible_collections.wgnet.containers.plugins.module_utils.engine.link import AddAddress, RemoveAddress, RemoveRoute, SetMtu, plan_link
from ansible_collections.wgnet.containers.plugins.module_utils.engine.spec import interface_options, wanted_from_params


def key():
    return base64.b64encode(os.urandom(32)).decode()


def peer(public, **extra):
    spec = {"public_key": public, "endpoint": None, "allowed_ips": [], "persistent_keepalive": 0, "preshared_key": None}
    spec.update(extra)
    return spec


def device(private, peers, listen_port=0, fwmark=0):
    return {"private_key": private, "listen_port": listen_port, "fwmark": fwmark, "peers": normalize_peers(peers)}


def test_same_config_plans_nothing():
    private, a, b = key(), key(), key()
    desired = device(private, [peer(a, allowed_ips=["10.0.0.0/24"], endpoint="127.0.0.1:5000"), peer(b)])
    assert plan_device(desired, desired) == ({}, [])


def test_peers_are_added_updated_and_removed_individually():
    private, kept, changed, gone, new = key(), key(), key(), key(), key()
    actual = device(private, [peer(kept, allowed_ips=["10.0.0.1/32"]), peer(changed, persistent_keepalive=25),
                              peer(gone)])
    desired = device(private, [peer(kept, allowed_ips=["10.0.0.1/32"]), peer(changed, persistent_keepalive=10),
                               peer(new)])
    fields, operations = plan_device(actual, desired)
    assert fields == {}
    assert ("add", new, desired["peers"][new]) in operations
    assert ("update", changed, {"persistent_keepalive": 10}) in operations
    assert ("remove", gone, None) in operations
    assert not [op for op in operations if op[1] == kept]


def test_allowed_ips_are_compared_as_sets_of_canonical_networks():
    private, a = key(), key()
    actual = device(private, [peer(a, allowed_ips=["10.0.0.0/24", "fd00::/64"])])
    desired = device(private, [peer(a, allowed_ips=["fd00::1/64", "10.0.0.7/24"])])
    assert plan_device(actual, desired) == ({}, [])
    desired = device(private, [peer(a, allowed_ips=["10.0.0.0/24"])])
    assert plan_device(actual, desired)[1] == [("update", a, {"allowed_ips": ["10.0.0.0/24"]})]


def test_unset_listen_port_and_learned_endpoint_are_not_changes():
    private, a = key(), key()
    actual = device(private, [peer(a, endpoint="127.0.0.1:5000")], listen_port=43210)
    assert plan_device(actual, device(private, [peer(a)])) == ({}, [])
    assert plan_device(actual, device(private, [peer(a)], listen_port=51820))[0] == {"listen_port": 51820}


def test_private_key_fwmark_and_preshared_key_changes():
    old, new, a, psk = key(), key(), key(), key()
    actual = device(old, [peer(a, preshared_key=psk)], fwmark=7)
    fields, operations = plan_device(actual, device(new, [peer(a)]))
    assert fields == {"private_key": new, "fwmark": 0}
    assert operations == [("update", a, {"preshared_key": ZERO_KEY})]  # zero key clears it
    lines = describe_plan(fields, operations)
    assert "set private_key (new key)" in lines and new not in " ".join(lines)


def test_as_desired_plans_the_way_back():
    """What undoes a half-applied change: from any state, back to the configuration read before."""
    old, new, a, b, psk = key(), key(), key(), key(), key()
    before = device(old, [peer(a, allowed_ips=["10.0.0.1/32"], preshared_key=psk, persistent_keepalive=25)],
                    listen_port=51820, fwmark=3)
    half = device(new, [peer(b, allowed_ips=["10.0.0.2/32"]), peer(a, allowed_ips=["10.0.0.1/32"])], listen_port=51820)
    fields, operations = plan_device(half, as_desired(before))
    assert fields == {"private_key": old, "fwmark": 3}
    assert sorted(operations, key=lambda op: op[0]) == [
        ("remove", b, None), ("update", a, {"persistent_keepalive": 25, "preshared_key": psk})]
    assert plan_device(before, as_desired(before)) == ({}, [])


def test_public_view_has_no_secrets():
    private, a, psk = key(), key(), key()
    view = public_view(device(private, [peer(a, preshared_key=psk)]))
    assert view["public_key"] == public_key(private)
    assert view["peers"][0]["preshared_key"] is True
    assert private not in str(view) and psk not in str(view)


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1:51820", "127.0.0.1:51820"),
    ("[fd00::1]:51820", "[fd00::1]:51820"),
    ("[FD00:0::1]:1", "[fd00::1]:1"),
])
def test_endpoints(text, expected):
    assert resolve_endpoint(text, "endpoint") == expected


def test_hostname_endpoint_is_resolved_on_the_host():
    def resolver(host, port, *_):
        assert host == "hub.example"
        return [(socket.AF_INET, socket.SOCK_DGRAM, 0, "", ("192.0.2.7", port))]
    assert resolve_endpoint("hub.example:51820", "endpoint", resolver) == "192.0.2.7:51820"


@pytest.mark.parametrize("text, fragment", [
    ("127.0.0.1", "must be host:port"),
    ("127.0.0.1:0", "invalid port"),
    ("127.0.0.1:70000", "invalid port"),
    ("fd00::1:51820", r"write an IPv6 endpoint as \[address\]:port"),
])
def test_bad_endpoints(text, fragment):
    with pytest.raises(WgnetError, match=fragment):
        resolve_endpoint(text, "peers[0].endpoint")


def test_duplicate_peer_is_an_error():
    a = key()
    with pytest.raises(WgnetError, match=r"^peers\[1\].public_key: .* is listed twice"):
        normalize_peers([peer(a), peer(a)])


def desired_state_of(params):
    return wanted_from_params(params).desired


def spec(**extra):
    options = interface_options()
    result = {name: option.get("default") for name, option in options.items()}
    result.update({"netns": "/var/run/netns/x", "private_key": key()})
    result.update(extra)
    return result


def test_desired_state_routes_follow_address_families():
    assert desired_state_of(spec(address=["10.0.0.2"]))["link"]["routes"] == ["0.0.0.0/0"]
    both = desired_state_of(spec(address=["10.0.0.2/32", "fd00::2/128"], routes=["192.0.2.0/24"]))["link"]
    assert both["routes"] == ["0.0.0.0/0", "192.0.2.0/24", "::/0"]
    assert both["addresses"] == ["10.0.0.2/32", "fd00::2/128"]
    assert desired_state_of(spec(address=["10.0.0.2/32"], default_route=False))["link"]["routes"] == []


@pytest.mark.parametrize("extra, fragment", [
    ({"name": "x" * 16}, "name: "),
    ({"name": "a/b"}, "name: "),
    ({"mtu": 70000}, "mtu: 70000 is out of range"),
    ({"listen_port": 70000}, "listen_port: 70000 is out of range"),
    ({"address": ["::ffff:10.0.0.1/128"]}, "address[0]: '::ffff:10.0.0.1/128' is an IPv4-mapped"),
    ({"routes": ["10.0.0.1/24"]}, "routes[0]: '10.0.0.1/24' is not a valid CIDR"),
    ({"dns": ["resolver"]}, "dns[0]: 'resolver' is not an IP address"),
    ({"private_key": "c2hvcnQ="}, "private_key: must be 32 bytes"),
])
def test_desired_state_rejects_bad_options(extra, fragment):
    with pytest.raises(WgnetError) as info:
        desired_state_of(spec(**extra))
    assert fragment in str(info.value)


def test_link_plan():
    current = {"mtu": 1420, "addresses": ["10.0.0.2/32", "10.0.0.9/32"], "routes": ["0.0.0.0/0", "10.9.0.0/16"],
               "up": True}
    desired = {"mtu": 1380, "addresses": ["10.0.0.2/32", "10.0.0.3/32"], "routes": ["0.0.0.0/0"], "up": True}
    assert plan_link(current, desired) == [SetMtu(1380), RemoveAddress("10.0.0.9/32"),
                                           AddAddress("10.0.0.3/32"), RemoveRoute("10.9.0.0/16")]
    assert plan_link(desired, desired) == []


def test_zero_key_constant():
    assert base64.b64decode(wgconfig.ZERO_KEY) == b"\0" * 32


def test_peers_that_would_change_something_on_every_run_are_refused():
    """The review's cases: a peer with the interface's own key; two peers sharing allowed IPs."""
    key_a, key_b = base64.b64encode(b"a" * 32).decode(), base64.b64encode(b"b" * 32).decode()
    with pytest.raises(WgnetError, match=r"^peers\[0\].public_key: .* is this interface's own public key$"):
        wgconfig.normalize_peers([{"public_key": key_a}], own_public_key=key_a)
    with pytest.raises(WgnetError, match=r"^peers\[1\].allowed_ips: 10.0.42.5/32 overlaps 10.0.42.0/24 of peers\[0\]"):
        wgconfig.normalize_peers([{"public_key": key_a, "allowed_ips": ["10.0.42.0/24"]},
                                  {"public_key": key_b, "allowed_ips": ["10.1.0.0/16", "10.0.42.5/32"]}])
    with pytest.raises(WgnetError, match=r"^peers\[1\].allowed_ips: ::/0 overlaps ::/0 of peers\[0\]"):
        wgconfig.normalize_peers([{"public_key": key_a, "allowed_ips": ["::/0"]},
                                  {"public_key": key_b, "allowed_ips": ["::/0"]}])
    disjoint = wgconfig.normalize_peers([{"public_key": key_a, "allowed_ips": ["10.0.42.0/25", "0.0.0.0/32"]},
                                         {"public_key": key_b, "allowed_ips": ["10.0.42.128/25", "::/0"]}])
    assert len(disjoint) == 2
