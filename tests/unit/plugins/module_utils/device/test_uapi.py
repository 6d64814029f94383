"""The userspace device protocol (UAPI, text); the kernel's is in test_genl."""

import base64
import binascii
import os

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.device.uapi import UapiError, format_set, parse_get


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
        "allowed_ip=10.0.1.0/24", "allowed_ip=10.0.0.0/24", "errno=0", "", ""])
    config, stats = parse_get(reply.encode("ascii"))
    assert config == {"private_key": private, "listen_port": 51820, "fwmark": 3, "peers": {peer_key: {
        "endpoint": "[fd00::1]:51821", "allowed_ips": ["10.0.0.0/24", "10.0.1.0/24"],
        "persistent_keepalive": 25, "preshared_key": psk}}}
    assert stats == {peer_key: {"latest_handshake": 1700000000, "transfer_rx": 20, "transfer_tx": 10}}


def test_zero_keys_mean_unset():
    peer_key = key()
    config, stats = parse_get(b"private_key=%s\nlisten_port=1\npublic_key=%s\npreshared_key=%s\nerrno=0\n\n"
                              % (b"0" * 64, hexkey(peer_key).encode(), b"0" * 64))
    assert config["private_key"] is None and config["peers"][peer_key]["preshared_key"] is None
    assert stats[peer_key]["latest_handshake"] == 0


def test_zero_values_are_the_defaults_and_peers_stay_apart():
    first, second = key(), key()
    reply = "\n".join(["private_key=" + "0" * 64, "listen_port=0",
                       "public_key=" + hexkey(first), "tx_bytes=0", "rx_bytes=7", "persistent_keepalive_interval=0",
                       "allowed_ip=10.0.0.1/32",
                       "public_key=" + hexkey(second), "last_handshake_time_sec=0", "persistent_keepalive_interval=25",
                       "allowed_ip=10.0.0.2/32", "errno=0", "", ""]).encode()
    config, stats = parse_get(reply)
    assert config["listen_port"] == 0 and config["peers"] == {
        first: {"endpoint": None, "allowed_ips": ["10.0.0.1/32"], "persistent_keepalive": 0, "preshared_key": None},
        second: {"endpoint": None, "allowed_ips": ["10.0.0.2/32"], "persistent_keepalive": 25, "preshared_key": None}}
    assert stats[first] == {"latest_handshake": 0, "transfer_rx": 7, "transfer_tx": 0}


def test_a_reply_that_starts_with_its_first_peer_keeps_it():
    # wireguard-go writes no private_key, listen_port or fwmark line when they are unset.
    peer_key = key()
    config, _stats = parse_get(b"public_key=%s\nallowed_ip=10.0.0.1/32\nerrno=0\n\n" % hexkey(peer_key).encode())
    assert config["private_key"] is None and list(config["peers"]) == [peer_key]
    assert config["peers"][peer_key]["allowed_ips"] == ["10.0.0.1/32"]


def test_a_quiet_peer_as_wireguard_go_writes_it():
    """The lines of a peer with no handshake and nothing but defaults, skipped at once: a hub's usual peer."""
    quiet, busy = key(), key()
    reply = "\n".join(["private_key=" + "0" * 64, "listen_port=51820",
                       "public_key=" + hexkey(quiet), "preshared_key=" + "0" * 64, "protocol_version=1",
                       "last_handshake_time_sec=0", "last_handshake_time_nsec=0", "tx_bytes=0", "rx_bytes=0",
                       "persistent_keepalive_interval=0", "allowed_ip=fd00::1/128", "allowed_ip=10.0.0.1/32",
                       "public_key=" + hexkey(busy), "preshared_key=" + "0" * 64, "protocol_version=1",
                       "endpoint=192.0.2.1:5", "last_handshake_time_sec=9", "last_handshake_time_nsec=0", "tx_bytes=0",
                       "rx_bytes=0", "persistent_keepalive_interval=0", "allowed_ip=10.0.0.2/32", "errno=0", "", ""]).encode()
    config, stats = parse_get(reply)
    assert config["peers"] == {
        quiet: {"endpoint": None, "allowed_ips": ["10.0.0.1/32", "fd00::1/128"], "persistent_keepalive": 0,
                "preshared_key": None},
        busy: {"endpoint": "192.0.2.1:5", "allowed_ips": ["10.0.0.2/32"], "persistent_keepalive": 0, "preshared_key": None}}
    assert stats == {quiet: {"latest_handshake": 0, "transfer_rx": 0, "transfer_tx": 0},
                     busy: {"latest_handshake": 9, "transfer_rx": 0, "transfer_tx": 0}}


@pytest.mark.parametrize("reply", [b"errno=-22\n\n", b"private_key=%s\npublic_key=%s\nerrno=22\n\n" % (b"0" * 64, b"1" * 64)])
def test_a_failed_get_says_its_errno(reply):
    with pytest.raises(UapiError, match=r"^get failed: Invalid argument \(errno 22\)$"):
        parse_get(reply)


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
