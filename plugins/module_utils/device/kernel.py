# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel backend: a WireGuard link made by rtnetlink, configured by generic netlink (genl).

Reached only through device.backends, which chooses between this and the userspace backend.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import threading

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.device import genl
from ansible_collections.wgnet.containers.plugins.module_utils.device.config import plan_device
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import HAS_PYROUTE2, NetlinkError

if HAS_PYROUTE2:
    from pyroute2 import IPRoute
    from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST

NAME = "kernel"


def port_error(fields, code):
    """A port in use, named by its option; None for any other failure."""
    if code == errno.EADDRINUSE and fields.get("listen_port"):
        return WgnetError("listen_port %d is already in use on the host" % fields["listen_port"], "listen_port")
    return None


class KernelDevice:
    backend = NAME
    host_name = None
    pid = None

    def __init__(self, ns, ifname):
        self.ns, self.ifname = ns, ifname
        self._wg = {}  # thread ident -> socket

    @property
    def wg(self):
        """This thread's generic-netlink socket, opened on first use: a device found only to be deleted needs none.

        One a thread: pyroute2 gives a socket used from another thread a new one, opened in that thread's
        namespace, which is the host's, not the device's (a batch decides in one thread, changes in another).
        """
        thread = threading.get_ident()
        if thread not in self._wg:
            self._wg[thread] = self.ns.wireguard()
        return self._wg[thread]

    def get(self):
        # A device with many peers comes back as several messages (a netlink dump).
        return genl.parse_device(self.wg.info(self.ifname))

    def apply(self, fields, operations):
        """Send the plan in as few messages as genl packs it into, each acknowledged before the next."""
        try:
            for attr_chain in genl.set_device_messages(self.ifname, fields, operations):
                tuple(self.wg.nlm_request(genl.SetDeviceMessage(attr_chain), msg_type=self.wg.prid,
                                          msg_flags=NLM_F_REQUEST | NLM_F_ACK))
        except NetlinkError as exc:
            raise port_error(fields, exc.code) or WgnetError("kernel WireGuard %s: %s" % (self.ifname, exc))

    def delete(self):
        link = self.ns.link(self.ifname)
        if link:
            self.ns.delete_link(link["index"])


_PROBED = {}


def kernel_supports_wireguard():
    """Does `ip link add type wireguard` work here? Probed with a throwaway link, once per process.

    Each probe is a link made and deleted in the host's namespace: an event for
    whatever watches its links, and an RCU grace period for the kernel.
    """
    if "wireguard" not in _PROBED:
        name = "wgnprobe%d" % (os.getpid() % 10000000)
        with IPRoute() as ipr:
            try:
                ipr.link("add", ifname=name, kind="wireguard")
                _PROBED["wireguard"] = True
            except NetlinkError:
                _PROBED["wireguard"] = False
            else:
                ipr.link("del", ifname=name)
    return _PROBED["wireguard"]


class KernelBackend:
    name = NAME

    def check_available(self):
        if not kernel_supports_wireguard():
            raise WgnetError.about("backend", "kernel was requested but this host's kernel has no WireGuard support "
                                              "(modprobe wireguard, or use backend: userspace)")

    def create(self, ns, target_id, ifname, config, host_ipr):
        """Create the link from the host straight into ``ns`` and configure it.

        The link is born in the target namespace (IFLA_NET_NS_FD in the
        RTM_NEWLINK), so it never exists in the host's, while its UDP socket
        belongs to the host's namespace, where the request came from.
        ``target_id`` is not needed: the link itself is the record.
        """
        host_ipr.link("add", ifname=ifname, kind="wireguard", net_ns_fd=ns.fd)
        device = KernelDevice(ns, ifname)
        try:
            fields, operations = plan_device({"peers": {}}, config)
            device.apply(fields, operations)
            # The kernel binds the UDP socket when the link comes up, not when the
            # port is set: up it goes here, so that a port in use fails here, by name.
            try:
                ns.set_link(ns.link(ifname)["index"], state="up")
            except NetlinkError as exc:
                raise port_error(fields, exc.code) or WgnetError("kernel WireGuard %s: %s" % (ifname, exc))
        except Exception:
            device.delete()
            raise
        return device
