# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WireGuard's generic-netlink protocol, as the kernel speaks it: set and get messages.

Pure logic over wgconfig's normal form, the kernel's counterpart of uapi.
A set (WG_CMD_SET_DEVICE) carries many peers per message, packed here the
way wg(8) packs them (wireguard-tools' ipc-linux.h): as many as fit, a peer
whose allowed IPs do not fit continued in the next message. pyroute2's own
WireGuard.set() sends one peer per message, a round trip each, which a hub
with thousands of peers cannot afford. A get (WG_CMD_GET_DEVICE, a dump)
comes through pyroute2 and is read here from the messages' bytes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import ipaddress
import socket
import struct

from ansible_collections.wgnet.containers.plugins.module_utils.device.config import format_endpoint, ZERO_KEY

try:
    from pyroute2.netlink.generic.wireguard import WG_CMD_SET_DEVICE, WG_GENL_VERSION, wgmsg
    HAS_PYROUTE2 = True
except ImportError:
    HAS_PYROUTE2 = False

# Attribute types and flags of the kernel's include/uapi/linux/wireguard.h.
WGDEVICE_A_IFNAME = 2
WGDEVICE_A_PRIVATE_KEY = 3
WGDEVICE_A_LISTEN_PORT = 6
WGDEVICE_A_FWMARK = 7
WGDEVICE_A_PEERS = 8
WGPEER_A_PUBLIC_KEY = 1
WGPEER_A_PRESHARED_KEY = 2
WGPEER_A_FLAGS = 3
WGPEER_A_ENDPOINT = 4
WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL = 5
WGPEER_A_ALLOWEDIPS = 9
WGALLOWEDIP_A_FAMILY = 1
WGALLOWEDIP_A_IPADDR = 2
WGALLOWEDIP_A_CIDR_MASK = 3
WGPEER_F_REMOVE_ME = 0x1
WGPEER_F_REPLACE_ALLOWEDIPS = 0x2
NLA_F_NESTED = 0x8000
NLA_HDRLEN = 4

# The attributes of one message, at most: half of what the 16-bit length of
# its one big attribute (the peers) allows; 372 new peers of one address each.
MESSAGE_BUDGET = 32768


# Encoding -------------------------------------------------------------------

def _nla(kind, payload):
    """One netlink attribute: length, type, payload, zeros up to a multiple of 4 bytes."""
    length = NLA_HDRLEN + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)


def _nest(kind, attrs):
    return _nla(kind | NLA_F_NESTED, b"".join(attrs))


def _key(value):
    return base64.b64decode(value)


def _sockaddr(endpoint):
    """An ``ip:port`` or ``[ip6]:port`` as the kernel's struct sockaddr_in or sockaddr_in6."""
    host, _sep, port = endpoint.rpartition(":")
    address = ipaddress.ip_address(host.strip("[]"))
    if address.version == 4:
        return struct.pack("=H", socket.AF_INET) + struct.pack(">H4s8x", int(port), address.packed)
    return struct.pack("=H", socket.AF_INET6) + struct.pack(">HI16s", int(port), 0, address.packed) + b"\0" * 4


def _allowed_ip(cidr):
    network = ipaddress.ip_network(cidr)
    family = socket.AF_INET if network.version == 4 else socket.AF_INET6
    return _nest(0, [_nla(WGALLOWEDIP_A_FAMILY, struct.pack("=H", family)),
                     _nla(WGALLOWEDIP_A_IPADDR, network.network_address.packed),
                     _nla(WGALLOWEDIP_A_CIDR_MASK, struct.pack("=B", network.prefixlen))])


def _device_attrs(fields):
    attrs = []
    if fields.get("private_key") is not None:
        attrs.append(_nla(WGDEVICE_A_PRIVATE_KEY, _key(fields["private_key"])))
    if fields.get("listen_port") is not None:
        attrs.append(_nla(WGDEVICE_A_LISTEN_PORT, struct.pack("=H", fields["listen_port"])))
    if fields.get("fwmark") is not None:
        attrs.append(_nla(WGDEVICE_A_FWMARK, struct.pack("=I", fields["fwmark"])))
    return b"".join(attrs)


def _peer_head(action, key, data):
    """A peer operation's attributes but its allowed IPs, and its allowed IPs (or None: unchanged)."""
    attrs = [_nla(WGPEER_A_PUBLIC_KEY, _key(key))]
    if action == "remove":
        return attrs[0] + _nla(WGPEER_A_FLAGS, struct.pack("=I", WGPEER_F_REMOVE_ME)), None
    if data.get("preshared_key"):  # ZERO_KEY clears it
        attrs.append(_nla(WGPEER_A_PRESHARED_KEY, _key(data["preshared_key"])))
    if data.get("endpoint"):
        attrs.append(_nla(WGPEER_A_ENDPOINT, _sockaddr(data["endpoint"])))
    if "persistent_keepalive" in data:
        attrs.append(_nla(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, struct.pack("=H", data["persistent_keepalive"])))
    if "allowed_ips" not in data:
        return b"".join(attrs), None
    attrs.append(_nla(WGPEER_A_FLAGS, struct.pack("=I", WGPEER_F_REPLACE_ALLOWEDIPS)))
    return b"".join(attrs), [_allowed_ip(cidr) for cidr in data["allowed_ips"]]


def _peer(head, ips):
    """One peer's nest; ``ips`` None leaves its allowed IPs out (an empty list too: nothing to send)."""
    return _nest(0, [head] + ([_nest(WGPEER_A_ALLOWEDIPS, ips)] if ips else []))


def _peer_size(head, ips):
    return NLA_HDRLEN + len(head) + (NLA_HDRLEN + sum(len(ip) for ip in ips) if ips else 0)


def _ips_that_fit(ips, room):
    """How many of ``ips``, from the first, fit in ``room`` bytes."""
    count = 0
    for ip in ips:
        room -= len(ip)
        if room < 0:
            break
        count += 1
    return count


class _Packer:
    """Fills WG_CMD_SET_DEVICE attribute chains with peers, one chain a message."""

    def __init__(self, ifname, fields, budget):
        self.name = _nla(WGDEVICE_A_IFNAME, ifname.encode("ascii") + b"\0")
        self.budget = budget
        self.messages = []
        self._start(self.name + _device_attrs(fields))

    def _start(self, head):
        self.head = head
        self.peers = []
        self.room = self.budget - len(head) - NLA_HDRLEN  # NLA_HDRLEN: the peers' nest

    def flush(self):
        peers = _nest(WGDEVICE_A_PEERS, self.peers) if self.peers else b""
        self.messages.append(self.head + peers)
        self._start(self.name)

    def add(self, head, ips):
        """Add one peer, cut over as many messages as its allowed IPs need."""
        continued = head[:NLA_HDRLEN + 32]  # its public key alone: no flag, so the next IPs add up
        while True:
            if _peer_size(head, ips) <= self.room:
                self._put(head, ips)
                return
            fit = _ips_that_fit(ips or [], self.room - _peer_size(head, []) - NLA_HDRLEN)
            if fit == 0:
                if not self.peers:
                    raise ValueError("a message of %d bytes cannot hold one peer" % self.budget)
                self.flush()  # a fresh message for it
                continue
            self._put(head, ips[:fit])
            self.flush()
            head, ips = continued, ips[fit:]

    def _put(self, head, ips):
        self.peers.append(_peer(head, ips))
        self.room -= _peer_size(head, ips)


def set_device_messages(ifname, fields, operations, budget=MESSAGE_BUDGET):
    """The attribute chains of the WG_CMD_SET_DEVICE messages that apply a plan (wgconfig.plan_device).

    Each chain is at most ``budget`` bytes. The device's own attributes go
    in the first message, before any peer (as the kernel applies them).
    A peer cut between messages comes again with its public key and the
    rest of its allowed IPs only: without WGPEER_F_REPLACE_ALLOWEDIPS, the
    kernel adds them to the ones it just replaced. Nothing to change: no message.
    """
    packer = _Packer(ifname, fields, budget)
    for action, key, data in operations:
        packer.add(*_peer_head(action, key, data))
    if packer.peers or (fields and not packer.messages):
        packer.flush()
    return packer.messages


if HAS_PYROUTE2:
    class SetDeviceMessage(wgmsg):
        """A WG_CMD_SET_DEVICE request to send with pyroute2, its attributes encoded by set_device_messages."""

        attr_chain = b""

        def __init__(self, attr_chain=b"", **kwargs):
            wgmsg.__init__(self, **kwargs)
            self["cmd"] = WG_CMD_SET_DEVICE
            self["version"] = WG_GENL_VERSION
            self.attr_chain = attr_chain

        def encode_nlas(self, offset):
            self.data[offset:] = self.attr_chain
            return offset + len(self.attr_chain)


# Decoding -------------------------------------------------------------------
#
# A get reply comes through pyroute2, which decodes a message's attributes
# only when asked, into an object each: about 1 ms a peer under TCG. They
# are read here from the message's own bytes (msg.data) instead.

WGPEER_A_LAST_HANDSHAKE_TIME = 6
WGPEER_A_RX_BYTES = 7
WGPEER_A_TX_BYTES = 8
NLA_TYPE_MASK = 0x3fff  # without NLA_F_NESTED and NLA_F_NET_BYTEORDER
GENL_MSG_HDRLEN = 20  # struct nlmsghdr, then struct genlmsghdr


def _attrs(data, start, end):
    """(type, payload start, payload end) of each attribute between ``start`` and ``end``."""
    while start + NLA_HDRLEN <= end:
        length, kind = struct.unpack_from("=HH", data, start)
        if length < NLA_HDRLEN:
            return
        yield kind & NLA_TYPE_MASK, start + NLA_HDRLEN, start + length
        start += (length + 3) & ~3


def _key_text(raw):
    """A key as base64; all zeros means unset."""
    text = base64.b64encode(bytes(raw)).decode("ascii")
    return None if text == ZERO_KEY else text


def _endpoint_text(data, start, end):
    """A struct sockaddr_in or sockaddr_in6 as ip:port or [ip6]:port; None when unset."""
    family, port = struct.unpack_from("=H", data, start)[0], struct.unpack_from(">H", data, start + 2)[0]
    if not port:
        return None
    if family == socket.AF_INET6 and end - start >= 24:
        return format_endpoint(ipaddress.IPv6Address(bytes(data[start + 8:start + 24])), port)
    return format_endpoint(ipaddress.IPv4Address(bytes(data[start + 4:start + 8])), port)


def _allowed_ips(data, start, end):
    result = []
    for _kind, begin, stop in _attrs(data, start, end):
        address, cidr = None, None
        for kind, first, last in _attrs(data, begin, stop):
            if kind == WGALLOWEDIP_A_IPADDR:
                address = ipaddress.ip_address(bytes(data[first:last]))
            elif kind == WGALLOWEDIP_A_CIDR_MASK:
                cidr = data[first]
        if address is not None and cidr is not None:
            result.append("%s/%d" % (address, cidr))
    return result


def _peer_fields(data, start, end):
    """One peer of a reply: its attributes by type, the allowed IPs decoded, the others raw."""
    fields = {}
    for kind, begin, stop in _attrs(data, start, end):
        if kind == WGPEER_A_ALLOWEDIPS:
            fields[kind] = _allowed_ips(data, begin, stop)
        elif kind == WGPEER_A_ENDPOINT:
            fields[kind] = _endpoint_text(data, begin, stop)
        else:
            fields[kind] = data[begin:stop]
    return fields


def _number(raw, fmt):
    return struct.unpack_from(fmt, raw)[0] if raw else 0


def _read_peer(fields, config, stats):
    key = _key_text(fields[WGPEER_A_PUBLIC_KEY])
    allowed = fields.get(WGPEER_A_ALLOWEDIPS, [])
    if key in config["peers"]:  # the rest of a peer cut at the previous message's end
        config["peers"][key]["allowed_ips"] = sorted(config["peers"][key]["allowed_ips"] + allowed)
        return
    psk = fields.get(WGPEER_A_PRESHARED_KEY)
    config["peers"][key] = {
        "endpoint": fields.get(WGPEER_A_ENDPOINT),
        "allowed_ips": sorted(allowed),
        "persistent_keepalive": _number(fields.get(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL), "=H"),
        "preshared_key": _key_text(psk) if psk else None,
    }
    stats[key] = {
        "latest_handshake": _number(fields.get(WGPEER_A_LAST_HANDSHAKE_TIME), "=q"),
        "transfer_rx": _number(fields.get(WGPEER_A_RX_BYTES), "=Q"),
        "transfer_tx": _number(fields.get(WGPEER_A_TX_BYTES), "=Q"),
    }


def parse_device(msgs):
    """A WG_CMD_GET_DEVICE reply, as pyroute2 received it, as (config, stats) in wgconfig's normal form.

    ``msgs`` is the reply's messages (one message is taken as a reply of one).
    The kernel splits a large device over several: the device's own attributes
    come in the first, and a peer cut at a message's end comes again in the
    next with its public key and the rest of its allowed IPs only.
    """
    if hasattr(msgs, "get_attr"):
        msgs = [msgs]
    config = {"private_key": None, "listen_port": 0, "fwmark": 0, "peers": {}}
    stats = {}
    for msg in msgs:
        data, start = msg.data, msg.offset
        for kind, begin, end in _attrs(data, start + GENL_MSG_HDRLEN, start + msg["header"]["length"]):
            if kind == WGDEVICE_A_PEERS:
                for _index, first, last in _attrs(data, begin, end):
                    _read_peer(_peer_fields(data, first, last), config, stats)
            elif kind == WGDEVICE_A_PRIVATE_KEY:
                config["private_key"] = _key_text(data[begin:end])
            elif kind == WGDEVICE_A_LISTEN_PORT:
                config["listen_port"] = _number(data[begin:end], "=H")
            elif kind == WGDEVICE_A_FWMARK:
                config["fwmark"] = _number(data[begin:end], "=I")
    return config, stats
