# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network namespaces and the links, addresses and routes inside them, over rtnetlink.

A netlink socket belongs to the namespace it was created in, for its whole
life. So we enter a namespace only for the instant it takes to create
sockets, and use them from the host afterwards.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import ipaddress
import os
import socket
from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError

try:
    from pyroute2 import IPRoute, WireGuard
    from pyroute2.netlink.exceptions import NetlinkError
    from pyroute2.netns import setns
    HAS_PYROUTE2 = True
except ImportError:
    HAS_PYROUTE2 = False

    class NetlinkError(Exception):
        pass

MAX_IFNAME = 15
NS_GET_NSTYPE = 0xB703  # ioctl on a namespace file: its CLONE_NEW* type (Linux 4.11)
CLONE_NEWNET = 0x40000000
RT_TABLE_MAIN = 254
RTPROT_KERNEL = 2
RTPROT_STATIC = 4


def ifname_problem(name):
    """Why the kernel (dev_valid_name) or wg(8)'s ASCII names would refuse ``name``, or None."""
    if not isinstance(name, str) or not name:
        return "must not be empty"
    if name in (".", ".."):
        return "%r is reserved" % name
    if any(not 33 <= ord(c) <= 126 or c in "/:" for c in name):
        return "%r is not a valid interface name: printable ASCII only, without spaces, '/' or ':'" % name
    if len(name) > MAX_IFNAME:
        return "%r is not a valid interface name: %d characters, at most %d" % (name, len(name), MAX_IFNAME)
    return None


def netns_identity(path):
    """(device, inode) of a namespace file: equal for two paths to one namespace."""
    info = os.stat(path)
    return info.st_dev, info.st_ino


class Namespace:
    """A network namespace given by a path such as /var/run/netns/NAME or /proc/PID/ns/net."""

    def __init__(self, path):
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise WgnetError("network namespace %s is gone or unreadable (%s)" % (path, exc.strerror))
        try:
            kind = fcntl.ioctl(self.fd, NS_GET_NSTYPE)
        except OSError:
            kind = None  # not a namespace file at all
        if kind != CLONE_NEWNET:
            os.close(self.fd)
            raise WgnetError("%s is not a network namespace (give /var/run/netns/NAME or /proc/PID/ns/net)" % path)
        self.identity = netns_identity(path)
        self._ipr = None

    def close(self):
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None
        os.close(self.fd)

    def _inside(self, factory):
        """Create a socket object inside this namespace, then return to ours."""
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        try:
            setns(self.fd)
            try:
                return factory()
            finally:
                setns(home)
        finally:
            os.close(home)

    @property
    def ipr(self):
        if self._ipr is None:
            self._ipr = self._inside(IPRoute)
        return self._ipr

    def wireguard(self):
        """A generic-netlink WireGuard socket that sees this namespace's devices."""
        return self._inside(WireGuard)

    # Links -------------------------------------------------------------

    def link(self, name):
        """The link's index, kind and state, or None when there is no such link."""
        found = self.ipr.link_lookup(ifname=name)
        if not found:
            return None
        msg = self.ipr.get_links(found[0])[0]
        info = msg.get_attr("IFLA_LINKINFO")
        return {
            "index": found[0],
            "kind": info.get_attr("IFLA_INFO_KIND") if info else None,
            "mtu": msg.get_attr("IFLA_MTU"),
            "up": bool(msg["flags"] & 1),
        }

    def links(self):
        """Every link: [{name, kind, up, addressed}], ``addressed`` when it has an address that is not link-local."""
        addressed = set()
        for msg in self.ipr.get_addr():
            if not ipaddress.ip_address(msg.get_attr("IFA_ADDRESS")).is_link_local:
                addressed.add(msg["index"])
        result = []
        for msg in self.ipr.get_links():
            info = msg.get_attr("IFLA_LINKINFO")
            result.append({"name": msg.get_attr("IFLA_IFNAME"), "kind": info.get_attr("IFLA_INFO_KIND") if info else None,
                           "up": bool(msg["flags"] & 1), "addressed": msg["index"] in addressed})
        return sorted(result, key=lambda link: link["name"])

    def delete_link(self, index):
        self.ipr.link("del", index=index)

    def set_link(self, index, **attrs):
        self.ipr.link("set", index=index, **attrs)

    # Addresses ---------------------------------------------------------

    def addresses(self, index):
        """Addresses on a link as canonical interface CIDRs, without IPv6 link-local ones."""
        result = []
        for msg in self.ipr.get_addr(index=index):
            text = "%s/%d" % (msg.get_attr("IFA_ADDRESS"), msg["prefixlen"])
            iface = ipaddress.ip_interface(text)
            if not iface.ip.is_link_local:
                result.append(str(iface))
        return sorted(result)

    def add_address(self, index, cidr):
        iface = ipaddress.ip_interface(cidr)
        # nodad: the address is usable at once, not after duplicate detection.
        extra = {"flags": 0x02} if iface.version == 6 else {}
        self.ipr.addr("add", index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen, **extra)

    def del_address(self, index, cidr):
        iface = ipaddress.ip_interface(cidr)
        self.ipr.addr("del", index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen)

    # Routes ------------------------------------------------------------

    def routes(self, index):
        """Destinations routed through a link in the main table, except the kernel's own."""
        result = []
        for family in (socket.AF_INET, socket.AF_INET6):
            for msg in self.ipr.get_routes(family=family, oif=index, table=RT_TABLE_MAIN):
                if msg["proto"] == RTPROT_KERNEL or msg.get_attr("RTA_TABLE") not in (None, RT_TABLE_MAIN):
                    continue
                if msg.get_attr("RTA_OIF") != index:
                    continue
                dst = msg.get_attr("RTA_DST") or ("0.0.0.0" if family == socket.AF_INET else "::")
                result.append(str(ipaddress.ip_network("%s/%d" % (dst, msg["dst_len"]))))
        return sorted(result)

    def replace_route(self, index, cidr):
        """Route a destination through the link, taking it over from any other route."""
        network = ipaddress.ip_network(cidr)
        self.ipr.route("replace", dst=str(network.network_address), dst_len=network.prefixlen,
                       oif=index, family=_family(network), proto=RTPROT_STATIC, table=RT_TABLE_MAIN)

    def del_route(self, index, cidr):
        network = ipaddress.ip_network(cidr)
        try:
            self.ipr.route("del", dst=str(network.network_address), dst_len=network.prefixlen,
                           oif=index, family=_family(network), table=RT_TABLE_MAIN)
        except NetlinkError as exc:
            if exc.code != errno.ESRCH:
                raise


def _family(network):
    return socket.AF_INET6 if network.version == 6 else socket.AF_INET
