# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WireGuard's cross-platform userspace API (UAPI), as spoken by wireguard-go.

A text protocol over /var/run/wireguard/NAME.sock: "get=1" dumps the device,
"set=1" changes it. Keys travel as hex over the socket and never appear on a
command line. Configurations use the normal form of wgconfig.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import errno as errno_codes
import os
import socket

SOCKET_DIR = "/var/run/wireguard"
PER_PEER_TIMEOUT = 0.002
ZERO_HEX = b"0" * 64


class UapiError(Exception):
    """The device's answer or the socket failed; ``code`` is the errno. The device layer names it to the user."""

    def __init__(self, message, code=None):
        super(UapiError, self).__init__(message)
        self.code = code


def socket_path(name):
    return os.path.join(SOCKET_DIR, name + ".sock")


def _hex(key_b64):
    return binascii.hexlify(base64.b64decode(key_b64)).decode("ascii")


def _b64(key_hex):
    return binascii.b2a_base64(binascii.unhexlify(key_hex), newline=False).decode("ascii")


# A peer's numeric fields, as the device names them, and where they go: (config or stats, name).
_PEER_NUMBERS = {b"persistent_keepalive_interval": (0, "persistent_keepalive"),
                 b"last_handshake_time_sec": (1, "latest_handshake"), b"rx_bytes": (1, "transfer_rx"),
                 b"tx_bytes": (1, "transfer_tx")}
# The lines of a peer, after its key, as wireguard-go writes them for a peer in parse_get's defaults
# with no handshake yet: most of a hub's peers, whose other lines then need no reading.
_QUIET_PEER = (b"\npreshared_key=%s\nprotocol_version=1\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\n"
               b"tx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0" % ZERO_HEX)
KEY_HEX_LENGTH = 64


def parse_get(reply):
    """Parse a get=1 reply (bytes) into (config, stats); stats maps a peer key to its counters.

    A hub's reply is 20 MB, 9 lines for each of 65,533 peers, most of them as _QUIET_PEER:
    read from the bytes, where those lines are skipped at once.
    """
    # A device with no key, port or fwmark set starts its reply with its first peer: the newline in
    # front lets that peer be split off like the others.
    head, *chunks = (b"\n" + reply).split(b"\npublic_key=")
    config = {"private_key": None, "listen_port": 0, "fwmark": 0, "peers": {}}
    _parse_device(head.split(b"\n"), config)
    stats = {}
    peers = config["peers"]
    for chunk in chunks:
        public = _b64(chunk[:KEY_HEX_LENGTH])
        peer = peers[public] = {"endpoint": None, "allowed_ips": [], "persistent_keepalive": 0, "preshared_key": None}
        counters = stats[public] = {"latest_handshake": 0, "transfer_rx": 0, "transfer_tx": 0}
        rest = KEY_HEX_LENGTH + len(_QUIET_PEER) if chunk.startswith(_QUIET_PEER, KEY_HEX_LENGTH) else KEY_HEX_LENGTH
        for line in chunk[rest + 1:].split(b"\n"):
            name, _sep, value = line.partition(b"=")
            if name == b"allowed_ip":
                peer["allowed_ips"].append(value.decode("ascii"))
            elif name in _PEER_NUMBERS:
                where, field = _PEER_NUMBERS[name]
                (counters if where else peer)[field] = int(value)
            elif name == b"endpoint":
                peer["endpoint"] = value.decode("ascii")
            elif name == b"preshared_key" and value != ZERO_HEX:
                peer["preshared_key"] = _b64(value)
            elif name == b"errno":
                _check_errno(value)
        if len(peer["allowed_ips"]) > 1:
            peer["allowed_ips"].sort()
    return config, stats


def _parse_device(lines, config):
    for line in lines:
        name, _sep, value = line.partition(b"=")
        if name == b"private_key":
            config["private_key"] = None if value == ZERO_HEX else _b64(value)
        elif name in (b"listen_port", b"fwmark"):
            config[name.decode("ascii")] = int(value)
        elif name == b"errno":
            _check_errno(value)


def _check_errno(value):
    if value != b"0":
        raise UapiError("get failed: %s" % _errno_text(int(value)), int(value))


def format_set(fields, operations):
    """A set=1 request for the changes of wgconfig.plan_device."""
    lines = ["set=1"]
    if "private_key" in fields:
        lines.append("private_key=%s" % _hex(fields["private_key"]))
    if "listen_port" in fields:
        lines.append("listen_port=%d" % fields["listen_port"])
    if "fwmark" in fields:
        lines.append("fwmark=%d" % fields["fwmark"])
    for action, key, data in operations:
        lines.append("public_key=%s" % _hex(key))
        if action == "remove":
            lines.append("remove=true")
            continue
        lines.extend(_peer_lines(data))
    return "\n".join(lines) + "\n\n"


def _peer_lines(data):
    lines = []
    if data.get("preshared_key"):
        lines.append("preshared_key=%s" % _hex(data["preshared_key"]))
    if data.get("endpoint"):
        lines.append("endpoint=%s" % data["endpoint"])
    if "persistent_keepalive" in data:
        lines.append("persistent_keepalive_interval=%d" % data["persistent_keepalive"])
    if "allowed_ips" in data:
        lines.append("replace_allowed_ips=true")
        lines.extend("allowed_ip=%s" % cidr for cidr in data["allowed_ips"])
    return lines


def _errno_text(code):
    return "%s (errno %d)" % (os.strerror(abs(code)), abs(code))


class UapiDevice:
    """One wireguard-go device, reached through its UAPI socket."""

    def __init__(self, name, timeout=10.0):
        self.name = name
        self.path = socket_path(name)
        self.timeout = timeout

    def _request(self, text, timeout=None):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout or self.timeout)
        try:
            sock.connect(self.path)
            sock.sendall(text.encode("ascii"))
            reply = bytearray()
            # Every reply ends with an empty line.
            while not reply.endswith(b"\n\n"):
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                reply += chunk
            return bytes(reply)
        except (OSError, socket.timeout) as exc:
            raise UapiError("UAPI socket %s: %s" % (self.path, exc),
                            getattr(exc, "errno", None) or errno_codes.ECONNREFUSED)
        finally:
            sock.close()

    def get(self):
        return parse_get(self._request("get=1\n\n"))

    def apply(self, fields, operations):
        # wireguard-go spends about 0.2 ms on each new peer (it precomputes the
        # peer's shared secret), so a /16 pool takes seconds: allow for it.
        reply = self._request(format_set(fields, operations), self.timeout + PER_PEER_TIMEOUT * len(operations))
        # wireguard-go answers a failed set with a negative errno (-98 for EADDRINUSE).
        code = abs(int(reply.strip().rpartition(b"errno=")[2] or 5))
        if code != 0:
            raise UapiError("set failed: %s" % _errno_text(code), code)
