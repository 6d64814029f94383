"""WireGuard's generic-netlink messages: set requests packed here and decoded by pyroute2, get replies parsed.

The set requests are checked by decoding them with pyroute2's own message
class, and by playing them on a model of the kernel's WG_CMD_SET_DEVICE
(drivers/net/wireguard/netlink.c): flags, peer removal, allowed IPs
replaced by a peer's first piece and added by the pieces that continue it.
"""

import base64
import os
import random

import pytest
from pyroute2.netlink.generic.wireguard import wgmsg

from ansible_collections.wgnet.containers.plugins.module_utils.device import genl as wggenl
from ansible_collections.wgnet.containers.plugins.module_utils.device.config import (
    format_endpoint,
    plan_device,
    ZERO_KEY,
)
from ansible_collections.wgnet.containers.plugins.module_utils.device.genl import parse_device, set_device_messages

REMOVE_ME = wggenl.WGPEER_F_REMOVE_ME
REPLACE = wggenl.WGPEER_F_REPLACE_ALLOWEDIPS


def key():
    return base64.b64encode(os.urandom(32)).decode()


def decode(attr_chain):
    """A packed message as pyroute2 reads it off the wire."""
    msg = wggenl.SetDeviceMessage(attr_chain)
    msg.encode()
    out = wgmsg(msg.data)
    out.decode()
    assert out["header"]["length"] == len(msg.data) == 20 + len(attr_chain)
    assert (out["cmd"], out["version"]) == (1, 1)  # WG_CMD_SET_DEVICE, version 1
    return out


def peer_attrs(peer):
    """One decoded peer as a plain dict: its attributes by name, its allowed IPs as CIDR text."""
    attrs = dict(peer["attrs"])
    if "WGPEER_A_ALLOWEDIPS" in attrs:
        attrs["WGPEER_A_ALLOWEDIPS"] = [a["addr"] for a in peer.get_attr("WGPEER_A_ALLOWEDIPS")]
    return attrs


def config(**peers):
    return {"private_key": None, "listen_port": 0, "fwmark": 0, "peers": peers}


def peer(allowed_ips=(), endpoint=None, persistent_keepalive=0, preshared_key=None):
    return {"endpoint": endpoint, "allowed_ips": sorted(allowed_ips), "persistent_keepalive": persistent_keepalive,
            "preshared_key": preshared_key}


def play(device, messages):
    """Apply decoded WG_CMD_SET_DEVICE messages to ``device`` (normal form) as the kernel does."""
    for attr_chain in messages:
        msg = decode(attr_chain)
        for name, field in (("WGDEVICE_A_PRIVATE_KEY", "private_key"), ("WGDEVICE_A_LISTEN_PORT", "listen_port"),
                            ("WGDEVICE_A_FWMARK", "fwmark")):
            if msg.get_attr(name) is not None:
                value = msg.get_attr(name)
                device[field] = value.decode() if isinstance(value, bytes) else value
        for decoded in msg.get_attr("WGDEVICE_A_PEERS") or []:
            attrs = peer_attrs(decoded)
            public = attrs["WGPEER_A_PUBLIC_KEY"].decode()
            flags = attrs.get("WGPEER_A_FLAGS", 0)
            if flags & REMOVE_ME:
                device["peers"].pop(public, None)
                continue
            current = device["peers"].setdefault(public, peer())
            if "WGPEER_A_PRESHARED_KEY" in attrs:
                psk = attrs["WGPEER_A_PRESHARED_KEY"].decode()
                current["preshared_key"] = None if psk == ZERO_KEY else psk
            if "WGPEER_A_ENDPOINT" in attrs:
                endpoint = attrs["WGPEER_A_ENDPOINT"]
                current["endpoint"] = format_endpoint(endpoint["addr"], endpoint["port"])
            if "WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL" in attrs:
                current["persistent_keepalive"] = attrs["WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL"]
            if flags & REPLACE:
                current["allowed_ips"] = []
            current["allowed_ips"] = sorted(current["allowed_ips"] + attrs.get("WGPEER_A_ALLOWEDIPS", []))
    return device


def test_a_plan_in_one_message_read_back_by_pyroute2():
    private, added, updated, removed, psk = key(), key(), key(), key(), key()
    messages = set_device_messages("wg0", {"private_key": private, "listen_port": 51820, "fwmark": 7}, [
        ("add", added, peer(["10.0.0.2/32", "fd00::2/128"], "127.0.0.1:51821", 25, psk)),
        ("update", updated, {"endpoint": "[fd00::1]:5", "allowed_ips": [], "preshared_key": ZERO_KEY}),
        ("remove", removed, None),
    ])
    assert len(messages) == 1
    msg = decode(messages[0])
    assert msg.get_attr("WGDEVICE_A_IFNAME") == "wg0"
    assert msg.get_attr("WGDEVICE_A_PRIVATE_KEY").decode() == private
    assert (msg.get_attr("WGDEVICE_A_LISTEN_PORT"), msg.get_attr("WGDEVICE_A_FWMARK")) == (51820, 7)
    first, second, third = [peer_attrs(p) for p in msg.get_attr("WGDEVICE_A_PEERS")]
    assert first["WGPEER_A_PUBLIC_KEY"].decode() == added and first["WGPEER_A_FLAGS"] == REPLACE
    assert first["WGPEER_A_PRESHARED_KEY"].decode() == psk
    assert (first["WGPEER_A_ENDPOINT"]["addr"], first["WGPEER_A_ENDPOINT"]["port"]) == ("127.0.0.1", 51821)
    assert first["WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL"] == 25
    assert first["WGPEER_A_ALLOWEDIPS"] == ["10.0.0.2/32", "fd00::2/128"]
    # Only what changed: an endpoint, no allowed IPs at all (replaced by none), the preshared key cleared.
    assert sorted(second) == ["WGPEER_A_ENDPOINT", "WGPEER_A_FLAGS", "WGPEER_A_PRESHARED_KEY", "WGPEER_A_PUBLIC_KEY"]
    assert (second["WGPEER_A_ENDPOINT"]["addr"], second["WGPEER_A_ENDPOINT"]["port"]) == ("fd00::1", 5)
    assert second["WGPEER_A_FLAGS"] == REPLACE and second["WGPEER_A_PRESHARED_KEY"].decode() == ZERO_KEY
    assert third == {"WGPEER_A_PUBLIC_KEY": removed.encode(), "WGPEER_A_FLAGS": REMOVE_ME}


def test_nothing_to_change_is_no_message_and_fields_alone_are_one():
    assert set_device_messages("wg0", {}, []) == []
    only = set_device_messages("wg0", {"listen_port": 1}, [])
    assert len(only) == 1 and decode(only[0]).get_attr("WGDEVICE_A_PEERS") is None
    update = set_device_messages("wg0", {}, [("update", key(), {"persistent_keepalive": 0})])
    assert peer_attrs(decode(update[0]).get_attr("WGDEVICE_A_PEERS")[0])["WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL"] == 0


def test_a_hub_of_4093_peers_goes_in_a_few_full_messages():
    keys = sorted(key() for _index in range(4093))
    desired = config(**{k: peer(["10.90.%d.%d/32" % divmod(i, 256)]) for i, k in enumerate(keys)})
    desired["private_key"], desired["listen_port"] = key(), 51820
    messages = set_device_messages("wghub0", *plan_device(config(), desired))
    assert all(len(m) <= wggenl.MESSAGE_BUDGET for m in messages)
    # 88 bytes a peer (key, flags, keepalive, one IPv4 address): 372 in 32 KiB; one message a peer before.
    assert len(messages) == 12 and min(len(m) for m in messages[:-1]) > wggenl.MESSAGE_BUDGET - 88
    decoded = [decode(m) for m in messages]
    assert decoded[0].get_attr("WGDEVICE_A_LISTEN_PORT") == 51820
    assert all(m.get_attr("WGDEVICE_A_PRIVATE_KEY") is None for m in decoded[1:])  # the device's attributes once
    sent = [p.get_attr("WGPEER_A_PUBLIC_KEY").decode() for m in decoded for p in m.get_attr("WGDEVICE_A_PEERS")]
    assert sent == keys
    assert play(config(), messages) == desired


def test_a_peer_too_big_for_one_message_is_continued_without_replacing_again():
    many = ["10.100.%d.%d/32" % divmod(i, 250) for i in range(1000)] + ["fd00:100::%x/128" % (i + 1) for i in range(200)]
    wide, small, psk = key(), key(), key()
    old = config(**{wide: peer(["192.0.2.0/24"], "127.0.0.1:1", 5), small: peer(["10.1.0.0/16"])})
    desired = config(**{wide: peer(many, "127.0.0.1:2", 25, psk), small: peer(["10.1.0.0/16", "10.2.0.0/16"])})
    messages = set_device_messages("wg0", *plan_device(old, desired), budget=4096)
    assert all(len(m) <= 4096 for m in messages) and len(messages) == 9
    pieces = [peer_attrs(p) for m in messages for p in decode(m).get_attr("WGDEVICE_A_PEERS")]
    of_wide = [p for p in pieces if p["WGPEER_A_PUBLIC_KEY"].decode() == wide]
    assert of_wide[0]["WGPEER_A_FLAGS"] == REPLACE and "WGPEER_A_ENDPOINT" in of_wide[0]
    for piece in of_wide[1:]:  # its public key and more addresses, nothing else
        assert sorted(piece) == ["WGPEER_A_ALLOWEDIPS", "WGPEER_A_PUBLIC_KEY"]
    assert sorted(ip for p in of_wide for ip in p["WGPEER_A_ALLOWEDIPS"]) == sorted(many)
    assert play(old, messages) == desired


@pytest.mark.parametrize("budget", [512, 1000, 4096, wggenl.MESSAGE_BUDGET])
def test_any_plan_played_on_the_kernel_gives_the_desired_device(budget):
    """Random devices and plans between them: played message by message, the result is what was desired."""
    rng = random.Random(budget)
    keys = [key() for _index in range(60)]

    def device():
        peers = {}
        for public in rng.sample(keys, rng.randint(0, 40)):
            allowed = ["10.%d.%d.0/24" % (rng.randint(0, 255), rng.randint(0, 255)) for _i in range(rng.randint(0, 30))]
            peers[public] = peer(sorted(set(allowed)), rng.choice([None, "127.0.0.1:%d" % rng.randint(1, 65535)]),
                                 rng.choice([0, 25]), rng.choice([None, keys[0]]))
        made = config(**peers)
        made["listen_port"], made["fwmark"] = rng.choice([0, 51820]), rng.choice([0, 3])
        return made

    for _round in range(20):
        old, desired = device(), device()
        desired["private_key"] = key()
        fields, operations = plan_device(old, desired)
        messages = set_device_messages("wg0", fields, operations, budget=budget)
        assert all(len(m) <= budget for m in messages)
        played = play(old, messages)
        # A desired endpoint of None leaves the one the peer roamed to: not a change (wgconfig.peer_changes).
        for public, wanted in desired["peers"].items():
            if wanted["endpoint"] is None:
                wanted["endpoint"] = played["peers"][public]["endpoint"]
        if not desired["listen_port"]:
            desired["listen_port"] = played["listen_port"]
        assert played == desired


def test_a_budget_too_small_for_one_peer_is_refused():
    with pytest.raises(ValueError, match="cannot hold one peer"):
        set_device_messages("wg0", {}, [("add", key(), peer(["10.0.0.1/32"], "127.0.0.1:1", 25, key()))], budget=100)


def decoded_reply(attrs):
    """A WG_CMD_GET_DEVICE message encoded as the kernel would, then decoded by pyroute2."""
    msg = wgmsg()
    msg["cmd"], msg["version"], msg["attrs"] = 0, 1, attrs
    msg.encode()
    out = wgmsg(msg.data)
    out.decode()
    return out


def host_routes(*octets):
    return [{"attrs": [["WGALLOWEDIP_A_FAMILY", 2], ["WGALLOWEDIP_A_IPADDR", bytes([10, 0, 0, o])],
                       ["WGALLOWEDIP_A_CIDR_MASK", 32]]} for o in octets]


def test_parse_device_from_an_encoded_reply():
    private, peer_key, other, psk = key(), key(), key(), key()
    decoded = decoded_reply([
        ["WGDEVICE_A_IFNAME", "wg0"], ["WGDEVICE_A_PRIVATE_KEY", private], ["WGDEVICE_A_LISTEN_PORT", 51820],
        ["WGDEVICE_A_FWMARK", 3],
        ["WGDEVICE_A_PEERS", [{"attrs": [
            ["WGPEER_A_PUBLIC_KEY", peer_key], ["WGPEER_A_PRESHARED_KEY", "A" * 43 + "="],
            ["WGPEER_A_LAST_HANDSHAKE_TIME", {"tv_sec": 0, "tv_nsec": 0}],
            ["WGPEER_A_ENDPOINT", {"addr": "127.0.0.1", "port": 5000}],
            ["WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL", 25],
            ["WGPEER_A_ALLOWEDIPS", [{"attrs": [["WGALLOWEDIP_A_FAMILY", 2],
                                                ["WGALLOWEDIP_A_IPADDR", bytes([10, 0, 0, 0])],
                                                ["WGALLOWEDIP_A_CIDR_MASK", 24]]}]],
        ]}, {"attrs": [
            ["WGPEER_A_PUBLIC_KEY", other], ["WGPEER_A_PRESHARED_KEY", psk],
            ["WGPEER_A_LAST_HANDSHAKE_TIME", {"tv_sec": 1700000000, "tv_nsec": 5}],
            ["WGPEER_A_RX_BYTES", 20], ["WGPEER_A_TX_BYTES", 10], ["WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL", 0],
            ["WGPEER_A_ENDPOINT", {"addr": "fd00::1", "port": 51821, "flowinfo": 0, "scope_id": 0}],
            ["WGPEER_A_ALLOWEDIPS", [{"attrs": [["WGALLOWEDIP_A_FAMILY", 10],
                                                ["WGALLOWEDIP_A_IPADDR", bytes.fromhex("fd000088" + "00" * 12)],
                                                ["WGALLOWEDIP_A_CIDR_MASK", 64]]}]],
        ]}]],
    ])
    config_read, stats = parse_device(decoded)
    assert config_read == {"private_key": private, "listen_port": 51820, "fwmark": 3, "peers": {
        peer_key: {"endpoint": "127.0.0.1:5000", "allowed_ips": ["10.0.0.0/24"], "persistent_keepalive": 25,
                   "preshared_key": None},
        other: {"endpoint": "[fd00::1]:51821", "allowed_ips": ["fd00:88::/64"], "persistent_keepalive": 0,
                "preshared_key": psk}}}
    assert stats == {peer_key: {"latest_handshake": 0, "transfer_rx": 0, "transfer_tx": 0},
                     other: {"latest_handshake": 1700000000, "transfer_rx": 20, "transfer_tx": 10}}


def test_parse_device_reads_each_message_at_its_offset_in_the_buffer():
    """pyroute2 hands several messages of one read as views of one buffer, each at its offset."""
    first, second = key(), key()
    parts = [decoded_reply([["WGDEVICE_A_IFNAME", "wg0"], ["WGDEVICE_A_LISTEN_PORT", 1],
                            ["WGDEVICE_A_PEERS", [{"attrs": [["WGPEER_A_PUBLIC_KEY", public],
                                                             ["WGPEER_A_ALLOWEDIPS", host_routes(octet)]]}]]])
             for public, octet in ((first, 1), (second, 2))]
    buffer = bytes(parts[0].data) + bytes(parts[1].data)
    views = [wgmsg(buffer, offset=offset) for offset in (0, len(parts[0].data))]
    for view in views:
        view.decode()
    config_read, _stats = parse_device(views)
    assert config_read["listen_port"] == 1
    assert {k: p["allowed_ips"] for k, p in config_read["peers"].items()} == {
        first: ["10.0.0.1/32"], second: ["10.0.0.2/32"]}


def test_parse_device_merges_a_dump_split_over_messages():
    """The kernel splits a large device: its attributes first, a cut peer continued with its key and IPs only."""
    private, first, cut = key(), key(), key()
    part1 = decoded_reply([
        ["WGDEVICE_A_IFNAME", "wg0"], ["WGDEVICE_A_PRIVATE_KEY", private], ["WGDEVICE_A_LISTEN_PORT", 51820],
        ["WGDEVICE_A_PEERS", [
            {"attrs": [["WGPEER_A_PUBLIC_KEY", first], ["WGPEER_A_ALLOWEDIPS", host_routes(1)]]},
            {"attrs": [["WGPEER_A_PUBLIC_KEY", cut], ["WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL", 25],
                       ["WGPEER_A_ALLOWEDIPS", host_routes(2, 3)]]}]]])
    part2 = decoded_reply([["WGDEVICE_A_IFNAME", "wg0"], ["WGDEVICE_A_PEERS", [
        {"attrs": [["WGPEER_A_PUBLIC_KEY", cut], ["WGPEER_A_ALLOWEDIPS", host_routes(4)]]}]]])
    config_read, stats = parse_device([part1, part2])
    assert config_read["private_key"] == private and config_read["listen_port"] == 51820
    assert config_read["peers"][first]["allowed_ips"] == ["10.0.0.1/32"]
    assert config_read["peers"][cut]["allowed_ips"] == ["10.0.0.2/32", "10.0.0.3/32", "10.0.0.4/32"]
    assert config_read["peers"][cut]["persistent_keepalive"] == 25
    assert sorted(stats) == sorted([first, cut])
