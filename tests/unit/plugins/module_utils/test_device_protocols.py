"""The two device protocols, as text (UAPI) and as netlink messages (generic netlink)."""

import base64
import binascii
import os

from pyroute2.netlink.generic.wireguard import wgmsg

from ansible_collections.wgnet.containers.plugins.module_utils.uapi import format_set, parse_get
from ansible_collections.wgnet.containers.plugins.module_utils.wgdevice import genl_peer, host_side_name, parse_genl_device


def key():
    return base64.b64encode(os.urandom(32)).decode()


def hexkey(b64):
    return binascii.hexlify(base64.b64decode(b64)).decode()


def test_parse_get_reply():
    private, peer_key, psk = key(), key(), key()
    reply = "\n".join([
        "private_key=" + hexkey(private), "listen_port=51820", "fwmark=3",
        "public_key=" + hexkey(peer_key), "preshared_key=" + hexkey(psk), "protocol_version=1",
        "endpoint=[fd00::1]:51821", "last_handshake_time_sec=1700000000", "last_handshake_time_nsec=5",
        "tx_bytes=10", "rx_bytes=20", "persistent_keepalive_interval=25",
        "allowed_ip=10.0.0.0/24", "allowed_ip=10.0.1.0/24", "errno=0", "", ""])
    config, stats = parse_get(reply)
    assert config == {"private_key": private, "listen_port": 51820, "fwmark": 3, "peers": {peer_key: {
        "endpoint": "[fd00::1]:51821", "allowed_ips": ["10.0.0.0/24", "10.0.1.0/24"],
        "persistent_keepalive": 25, "preshared_key": psk}}}
    assert stats == {peer_key: {"latest_handshake": 1700000000, "transfer_rx": 20, "transfer_tx": 10}}


def test_zero_keys_mean_unset():
    peer_key = key()
    config, stats = parse_get("private_key=%s\nlisten_port=1\npublic_key=%s\npreshared_key=%s\nerrno=0\n\n"
                              % ("0" * 64, hexkey(peer_key), "0" * 64))
    assert config["private_key"] is None and config["peers"][peer_key]["preshared_key"] is None
    assert stats[peer_key]["latest_handshake"] == 0


def test_format_set():
    private, added, updated, removed = key(), key(), key(), key()
    text = format_set({"private_key": private, "listen_port": 51820}, [
        ("add", added, {"endpoint": "127.0.0.1:1", "allowed_ips": ["10.0.0.0/24"], "persistent_keepalive": 25,
                        "preshared_key": None}),
        ("update", updated, {"persistent_keepalive": 0}),
        ("remove", removed, None),
    ])
    assert text == "\n".join([
        "set=1", "private_key=" + hexkey(private), "listen_port=51820",
        "public_key=" + hexkey(added), "endpoint=127.0.0.1:1", "persistent_keepalive_interval=25",
        "replace_allowed_ips=true", "allowed_ip=10.0.0.0/24",
        "public_key=" + hexkey(updated), "persistent_keepalive_interval=0",
        "public_key=" + hexkey(removed), "remove=true", "", ""])


def test_parse_genl_device_from_an_encoded_reply():
    """Encode a reply the way the kernel would, decode it with pyroute2, parse it."""
    private, peer_key = key(), key()
    msg = wgmsg()
    msg["cmd"] = 0
    msg["version"] = 1
    msg["attrs"] = [
        ["WGDEVICE_A_IFNAME", "wg0"], ["WGDEVICE_A_PRIVATE_KEY", private], ["WGDEVICE_A_LISTEN_PORT", 51820],
        ["WGDEVICE_A_FWMARK", 0],
        ["WGDEVICE_A_PEERS", [{"attrs": [
            ["WGPEER_A_PUBLIC_KEY", peer_key], ["WGPEER_A_PRESHARED_KEY", "A" * 43 + "="],
            ["WGPEER_A_ENDPOINT", {"addr": "127.0.0.1", "port": 5000}],
            ["WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL", 25],
            ["WGPEER_A_ALLOWEDIPS", [{"attrs": [["WGALLOWEDIP_A_FAMILY", 2],
                                                ["WGALLOWEDIP_A_IPADDR", bytes([10, 0, 0, 0])],
                                                ["WGALLOWEDIP_A_CIDR_MASK", 24]]}]],
        ]}]],
    ]
    msg.encode()
    decoded = wgmsg(msg.data)
    decoded.decode()
    config, stats = parse_genl_device(decoded)
    assert config == {"private_key": private, "listen_port": 51820, "fwmark": 0, "peers": {peer_key: {
        "endpoint": "127.0.0.1:5000", "allowed_ips": ["10.0.0.0/24"], "persistent_keepalive": 25,
        "preshared_key": None}}}
    assert stats[peer_key]["latest_handshake"] == 0


def test_genl_peer_operations():
    peer_key = key()
    assert genl_peer("remove", peer_key, None) == {"public_key": peer_key, "remove": True}
    assert genl_peer("update", peer_key, {"endpoint": "[fd00::1]:5", "allowed_ips": ["::/0"]}) == {
        "public_key": peer_key, "endpoint_addr": "fd00::1", "endpoint_port": 5,
        "replace_allowed_ips": True, "allowed_ips": ["::/0"]}


def test_host_side_names_are_short_stable_and_distinct():
    name = host_side_name("container-id", "wg0")
    assert len(name) == 15 and name == host_side_name("container-id", "wg0")
    assert name != host_side_name("container-id", "wg1") != host_side_name("other", "wg0")


def decoded_message(attrs):
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


def test_parse_genl_device_merges_a_dump_split_over_messages():
    """The kernel splits a large device: its attributes first, a cut peer continued with its key and IPs only."""
    private, first, cut = key(), key(), key()
    part1 = decoded_message([
        ["WGDEVICE_A_IFNAME", "wg0"], ["WGDEVICE_A_PRIVATE_KEY", private], ["WGDEVICE_A_LISTEN_PORT", 51820],
        ["WGDEVICE_A_PEERS", [
            {"attrs": [["WGPEER_A_PUBLIC_KEY", first], ["WGPEER_A_ALLOWEDIPS", host_routes(1)]]},
            {"attrs": [["WGPEER_A_PUBLIC_KEY", cut], ["WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL", 25],
                       ["WGPEER_A_ALLOWEDIPS", host_routes(2, 3)]]}]]])
    part2 = decoded_message([["WGDEVICE_A_IFNAME", "wg0"], ["WGDEVICE_A_PEERS", [
        {"attrs": [["WGPEER_A_PUBLIC_KEY", cut], ["WGPEER_A_ALLOWEDIPS", host_routes(4)]]}]]])
    config, stats = parse_genl_device([part1, part2])
    assert config["private_key"] == private and config["listen_port"] == 51820
    assert config["peers"][first]["allowed_ips"] == ["10.0.0.1/32"]
    assert config["peers"][cut]["allowed_ips"] == ["10.0.0.2/32", "10.0.0.3/32", "10.0.0.4/32"]
    assert config["peers"][cut]["persistent_keepalive"] == 25
    assert sorted(stats) == sorted([first, cut])
