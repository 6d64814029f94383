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
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces import rtnl

try:
    from pyroute2 import WireGuard
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
        self._rtnl = None

    def close(self):
        if self._rtnl is not None:
            self._rtnl.close()
            self._rtnl = None
        os.close(self.fd)

    def _inside(self, factory):
        """Create a socket object inside this namespace, then return to ours."""
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            setns(self.fd)
            try:
                return factory()
            finally:
                setns(home)
        finally:
            os.close(home)

    @property
    def rtnl(self):
        if self._rtnl is None:
            self._rtnl = self._inside(rtnl.RtnlSocket)
        return self._rtnl

    def wireguard(self):
        """A generic-netlink WireGuard socket that sees this namespace's devices."""
        return self._inside(WireGuard)

    # Links -------------------------------------------------------------

    def link(self, name):
        """The link's index, kind, MTU and state, or None when there is no such link."""
        return next((link for link in self._links() if link["name"] == name), None)

    def _links(self):
        return [rtnl.parse_link(body) for body in self._dump(rtnl.RTM_GETLINK, rtnl.IFINFO.pack(0, 0, 0, 0, 0))]

    def links(self):
        """Every link: [{name, kind, up, addressed}], ``addressed`` when it has an address that is not link-local."""
        addressed = {index for index, iface in self._addresses() if not iface.ip.is_link_local}
        return sorted(({"name": link["name"], "kind": link["kind"], "up": link["up"], "addressed": link["index"] in addressed}
                       for link in self._links()), key=lambda link: link["name"])

    def delete_link(self, index):
        self._request(rtnl.RTM_DELLINK, rtnl.IFINFO.pack(0, 0, index, 0, 0))

    def set_link(self, index, mtu=None, state=None):
        self._request(rtnl.RTM_NEWLINK, rtnl.link_request(index, mtu=mtu, up=state == "up"))

    # Addresses ---------------------------------------------------------

    def _addresses(self):
        """(link index, ip_interface) of every address of the namespace."""
        return [(index, ipaddress.ip_interface((ipaddress.ip_address(bytes(packed)), prefixlen)))
                for index, _family, packed, prefixlen in map(rtnl.parse_address,
                                                             self._dump(rtnl.RTM_GETADDR, rtnl.IFADDR.pack(0, 0, 0, 0, 0)))
                if packed]

    def addresses(self, index):
        """Addresses on a link as canonical interface CIDRs, without IPv6 link-local ones."""
        return sorted(str(iface) for owner, iface in self._addresses() if owner == index and not iface.ip.is_link_local)

    def add_address(self, index, cidr):
        iface = ipaddress.ip_interface(cidr)
        self._request(rtnl.RTM_NEWADDR, rtnl.address_request(index, iface.ip.packed, iface.network.prefixlen),
                      rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL)

    def del_address(self, index, cidr):
        iface = ipaddress.ip_interface(cidr)
        self._request(rtnl.RTM_DELADDR, rtnl.address_request(index, iface.ip.packed, iface.network.prefixlen))

    # Routes ------------------------------------------------------------

    def routes(self, index):
        """Destinations routed through a link in the main table, except the kernel's own."""
        result = []
        for family in (socket.AF_INET, socket.AF_INET6):
            for route in map(rtnl.parse_route, self._dump(rtnl.RTM_GETROUTE, rtnl.RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0))):
                if route["protocol"] == RTPROT_KERNEL or route["table"] != RT_TABLE_MAIN or route["oif"] != index:
                    continue
                network = ipaddress.ip_network((ipaddress.ip_address(bytes(route["destination"] or b"\0" * (
                    4 if family == socket.AF_INET else 16))), route["prefixlen"]))
                result.append(str(network))
        return sorted(result)

    def replace_route(self, index, cidr):
        """Route a destination through the link, taking it over from any other route."""
        network = ipaddress.ip_network(cidr)
        self._request(rtnl.RTM_NEWROUTE, rtnl.route_request(index, network.network_address.packed, network.prefixlen,
                                                            RT_TABLE_MAIN, protocol=RTPROT_STATIC),
                      rtnl.NLM_F_CREATE | rtnl.NLM_F_REPLACE)

    def del_route(self, index, cidr):
        network = ipaddress.ip_network(cidr)
        try:
            # Whoever made the route, whatever its scope and type (as `ip route del` asks).
            self._request(rtnl.RTM_DELROUTE, rtnl.route_request(index, network.network_address.packed, network.prefixlen,
                                                                RT_TABLE_MAIN, scope=rtnl.RT_SCOPE_NOWHERE, kind=0))
        except NetlinkError as exc:
            if exc.code != errno.ESRCH:
                raise

    # The socket --------------------------------------------------------

    def _request(self, kind, body, flags=0):
        try:
            self.rtnl.request(kind, body, flags)
        except rtnl.RtnlError as exc:
            raise NetlinkError(exc.errno, exc.strerror)

    def _dump(self, kind, body):
        try:
            return self.rtnl.dump(kind, body)
        except rtnl.RtnlError as exc:
            raise NetlinkError(exc.errno, exc.strerror)


def move_link(name, ns, new_name):
    """Move the link ``name`` of this thread's namespace into ``ns`` as ``new_name``, in one message."""
    sock = rtnl.RtnlSocket()
    try:
        sock.request(rtnl.RTM_NEWLINK, rtnl.link_request(socket.if_nametoindex(name), netns_fd=ns.fd, ifname=new_name))
    except rtnl.RtnlError as exc:
        raise NetlinkError(exc.errno, exc.strerror)
    finally:
        sock.close()
