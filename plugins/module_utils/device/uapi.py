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
ZERO_HEX = "0" * 64


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
    return base64.b64encode(binascii.unhexlify(key_hex)).decode("ascii")


def parse_get(text):
    """Parse a get=1 reply into (config, stats); stats maps a peer key to its counters.

    Written as one flat loop: a hub's reply has 8 lines for each of 65,534 peers.
    """
    config = {"private_key": None, "listen_port": 0, "fwmark": 0, "peers": {}}
    stats = {}
    peers = config["peers"]
    peer = counters = None
    for line in text.split("\n"):
        key, _sep, value = line.partition("=")
        if key == "public_key":
            public = _b64(value)
            peer = peers[public] = {"endpoint": None, "allowed_ips": [], "persistent_keepalive": 0,
                                    "preshared_key": None}
            counters = stats[public] = {"latest_handshake": 0, "transfer_rx": 0, "transfer_tx": 0}
        elif key == "allowed_ip":
            peer["allowed_ips"].append(value)
        elif key == "endpoint":
            peer["endpoint"] = value
        elif key == "last_handshake_time_sec":
            counters["latest_handshake"] = int(value)
        elif key == "rx_bytes":
            counters["transfer_rx"] = int(value)
        elif key == "tx_bytes":
            counters["transfer_tx"] = int(value)
        elif key == "persistent_keepalive_interval":
            peer["persistent_keepalive"] = int(value)
        elif key == "preshared_key":
            peer["preshared_key"] = None if value == ZERO_HEX else _b64(value)
        elif key == "private_key":
            config["private_key"] = None if value == ZERO_HEX else _b64(value)
        elif key in ("listen_port", "fwmark"):
            config[key] = int(value)
        elif key == "errno" and value != "0":
            raise UapiError("get failed: %s" % _errno_text(int(value)), int(value))
    for peer in peers.values():
        peer["allowed_ips"].sort()
    return config, stats


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
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                reply += chunk
            return reply.decode("ascii")
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
        code = abs(int(reply.strip().rpartition("errno=")[2] or 5))
        if code != 0:
            raise UapiError("set failed: %s" % _errno_text(code), code)
