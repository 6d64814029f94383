# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The few rtnetlink messages the namespaces need (links, addresses, routes), packed and read here.

A request through pyroute2's IPRoute costs about 2 ms of Python (its asyncio machinery and message
objects) for a few microseconds of the kernel's; reading and setting up a container's interface takes
a dozen of them. This speaks the kernel's structs directly: about 20 microseconds a request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import socket
import struct

NETLINK_ROUTE = 0
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR = 0x1, 0x4, 0x300, 0x10
MIN_TYPE = 16  # below: netlink's own control messages
DUMP_ATTEMPTS = 5
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
IFLA_IFNAME, IFLA_MTU, IFLA_LINKINFO, IFLA_NET_NS_FD, IFLA_INFO_KIND = 3, 4, 18, 28, 1
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_DST, RTA_OIF, RTA_TABLE = 1, 4, 15
IFF_UP = 0x1
IFA_F_NODAD = 0x02
RTN_UNICAST = 1
RT_SCOPE_NOWHERE = 255
HEADER = struct.Struct("=IHHII")  # struct nlmsghdr
IFINFO = struct.Struct("=BxHiII")  # struct ifinfomsg
IFADDR = struct.Struct("=BBBBI")  # struct ifaddrmsg
RTMSG = struct.Struct("=BBBBBBBBI")  # struct rtmsg
RECV_SIZE = 1 << 18


class RtnlError(OSError):
    """The kernel's refusal of a request: ``errno`` and its text."""


def attr(kind, payload):
    """One attribute: length, type, payload, padded to 4 bytes."""
    return struct.pack("=HH", 4 + len(payload), kind) + payload + b"\0" * (-len(payload) % 4)


def u32(kind, value):
    return attr(kind, struct.pack("=I", value))


def attrs_of(data, offset, end):
    """{type: payload} of the attributes between ``offset`` and ``end`` (nested types unmasked)."""
    found = {}
    while offset + 4 <= end:
        length, kind = struct.unpack_from("=HH", data, offset)
        if length < 4:
            break
        found[kind & 0x3FFF] = data[offset + 4:offset + length]
        offset += (length + 3) & ~3
    return found


def messages(data):
    """(type, flags, body) of each message of a reply; a length shorter than a header ends it."""
    offset = 0
    while offset + HEADER.size <= len(data):
        length, kind, flags = HEADER.unpack_from(data, offset)[:3]
        if length < HEADER.size:
            return
        yield kind, flags, data[offset + HEADER.size:offset + length]
        offset += (length + 3) & ~3


def link_request(index, mtu=None, up=False, netns_fd=None, ifname=None):
    """RTM_NEWLINK body setting an existing link's MTU, its state up, its namespace and name."""
    flags = IFF_UP if up else 0
    body = IFINFO.pack(socket.AF_UNSPEC, 0, index, flags, flags)
    if mtu is not None:
        body += u32(IFLA_MTU, mtu)
    if netns_fd is not None:
        body += u32(IFLA_NET_NS_FD, netns_fd)
    if ifname is not None:
        body += attr(IFLA_IFNAME, ifname.encode() + b"\0")
    return body


def address_request(index, address, prefixlen):
    """RTM_NEWADDR or RTM_DELADDR body; an IPv6 address is usable at once (no duplicate detection)."""
    family = socket.AF_INET6 if len(address) == 16 else socket.AF_INET
    flags = IFA_F_NODAD if family == socket.AF_INET6 else 0
    return IFADDR.pack(family, prefixlen, flags, 0, index) + attr(IFA_LOCAL, address) + attr(IFA_ADDRESS, address)


def route_request(index, destination, prefixlen, table, protocol=0, scope=0, kind=RTN_UNICAST):
    """RTM_NEWROUTE or RTM_DELROUTE body: ``destination`` (packed) through the link, in ``table``.
    A delete matches any protocol with 0, any scope with RT_SCOPE_NOWHERE and any type with 0."""
    family = socket.AF_INET6 if len(destination) == 16 else socket.AF_INET
    return (RTMSG.pack(family, prefixlen, 0, 0, table, protocol, scope, kind, 0)
            + attr(RTA_DST, destination) + u32(RTA_OIF, index) + u32(RTA_TABLE, table))


def parse_link(body):
    """{index, name, kind, mtu, up} of an RTM_NEWLINK message's body."""
    _family, _type, index, flags, _change = IFINFO.unpack_from(body)
    found = attrs_of(body, IFINFO.size, len(body))
    info = found.get(IFLA_LINKINFO)
    kind = attrs_of(info, 0, len(info)).get(IFLA_INFO_KIND) if info else None
    return {"index": index, "name": found[IFLA_IFNAME].rstrip(b"\0").decode(),
            "kind": kind.rstrip(b"\0").decode() if kind else None,
            "mtu": struct.unpack("=I", found[IFLA_MTU])[0] if IFLA_MTU in found else None, "up": bool(flags & IFF_UP)}


def parse_address(body):
    """(index, family, packed address, prefixlen) of an RTM_NEWADDR message's body."""
    family, prefixlen, _flags, _scope, index = IFADDR.unpack_from(body)
    found = attrs_of(body, IFADDR.size, len(body))
    return index, family, found.get(IFA_ADDRESS) or found.get(IFA_LOCAL), prefixlen


def parse_route(body):
    """{family, prefixlen, destination (packed or None), protocol, table, oif} of an RTM_NEWROUTE body."""
    family, prefixlen, _src, _tos, table, protocol, _scope, _type, _flags = RTMSG.unpack_from(body)
    found = attrs_of(body, RTMSG.size, len(body))
    oif = found.get(RTA_OIF)
    return {"family": family, "prefixlen": prefixlen, "destination": found.get(RTA_DST), "protocol": protocol,
            "table": struct.unpack("=I", found[RTA_TABLE])[0] if RTA_TABLE in found else table,
            "oif": struct.unpack("=I", oif)[0] if oif else None}


def error_code(body):
    """The errno of an NLMSG_ERROR body (0 for an acknowledgement)."""
    return -struct.unpack_from("=i", body)[0]


class RtnlSocket:
    """A NETLINK_ROUTE socket of the namespace it was made in: requests acknowledged, dumps read whole."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sequence = 0

    def close(self):
        self.sock.close()

    def _send(self, kind, flags, body):
        self.sequence += 1
        self.sock.send(HEADER.pack(HEADER.size + len(body), kind, flags | NLM_F_REQUEST, self.sequence, 0) + body)

    def request(self, kind, body, flags=0):
        """Send one change and wait for its acknowledgement; RtnlError on a refusal."""
        self._send(kind, flags | NLM_F_ACK, body)
        while True:
            for reply, _flags, payload in messages(self.sock.recv(RECV_SIZE)):
                if reply == NLMSG_ERROR:
                    code = error_code(payload)
                    if code:
                        raise RtnlError(code, os.strerror(code))
                    return

    def dump(self, kind, body):
        """The bodies of every message a dump request answers, read again when the kernel says that a
        change (Docker making a veth, say) interrupted it, so that no link is missed."""
        for _attempt in range(DUMP_ATTEMPTS):
            bodies, interrupted = self._dump_once(kind, body)
            if not interrupted:
                return bodies
        raise RtnlError(errno.EAGAIN, "the dump was interrupted by changes %d times" % DUMP_ATTEMPTS)

    def _dump_once(self, kind, body):
        self._send(kind, NLM_F_DUMP, body)
        bodies, interrupted = [], False
        while True:
            for reply, flags, payload in messages(self.sock.recv(RECV_SIZE)):
                interrupted = interrupted or bool(flags & NLM_F_DUMP_INTR)
                if reply in (NLMSG_DONE, NLMSG_ERROR):
                    code = error_code(payload) if len(payload) >= 4 else 0
                    if code or reply == NLMSG_ERROR:
                        code = code or errno.EIO
                        raise RtnlError(code, os.strerror(code))
                    return bodies, interrupted
                if reply >= MIN_TYPE:  # not a NOOP or an OVERRUN
                    bodies.append(payload)
