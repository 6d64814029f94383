# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an interface should be: the modules' options, checked, as a typed request for the engine.

``desired_state()`` is the state itself, from plain values (the network driver and the hub
call it directly); ``wanted_from_params()`` is the modules' adapter over it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import ipaddress
import os
import stat

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.device.config import (
    canonical_cidr,
    canonical_interface_address,
    normalize_peers,
)
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import b64, decode_key, public_key
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import NetlinkError, ifname_problem

MIN_MTU, MAX_MTU = 1280, 65535
DEFAULT_MTU = 1420
DNS_HEADER = "# Managed by wgnet.containers: the resolvers reached through the WireGuard tunnel.\n"

PEER_OPTIONS = dict(
    public_key=dict(type="str", required=True, no_log=False),
    endpoint=dict(type="str"),
    allowed_ips=dict(type="list", elements="str", default=[]),
    persistent_keepalive=dict(type="int", default=0),
    preshared_key=dict(type="str", no_log=True),
)


def interface_options():
    """The options of one interface, shared by both modules."""
    return dict(
        container=dict(type="str"),
        netns=dict(type="path"),
        name=dict(type="str", default="wg0"),
        address=dict(type="list", elements="str", default=[]),
        private_key=dict(type="str", no_log=True),
        private_key_path=dict(type="path", no_log=False),
        listen_port=dict(type="int", default=0),
        fwmark=dict(type="int", default=0),
        mtu=dict(type="int", default=DEFAULT_MTU),
        peers=dict(type="list", elements="dict", options=PEER_OPTIONS, default=[]),
        default_route=dict(type="bool", default=True),
        routes=dict(type="list", elements="str", default=[]),
        dns=dict(type="list", elements="str", default=[]),
        backend=dict(type="str", choices=["auto", "kernel", "userspace"], default="auto"),
        userspace_binary=dict(type="str", default="wireguard-go"),
        allow_other_interfaces=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


INTERFACE_RULES = dict(
    mutually_exclusive=[("container", "netns"), ("private_key", "private_key_path")],
    required_one_of=[("container", "netns")],
    required_if=[("state", "present", ("private_key", "private_key_path"), True)],
)


class Wanted:
    """One interface to reconcile: where it is, and what it should be.

    ``desired`` is desired_state()'s result, or None for an interface that should be absent.
    ``container`` or ``netns`` names the target, unless the caller hands the engine a target of
    its own (the hub and the driver: the host's namespace). A target the user names is refused
    where the tunnel would not be its only network, unless ``allow_other_interfaces``
    (targets.check_only_network).
    """

    def __init__(self, name, desired, container=None, netns=None, backend="auto", userspace_binary="wireguard-go",
                 allow_other_interfaces=False):
        self.name, self.desired = name, desired
        self.container, self.netns = container, netns
        self.backend, self.userspace_binary = backend, userspace_binary
        self.allow_other_interfaces = allow_other_interfaces

    @property
    def present(self):
        return self.desired is not None

    @property
    def label(self):
        return "%s/%s" % (self.container or self.netns, self.name)


def read_private_key(path):
    try:
        info = os.stat(path)
        with open(path) as handle:
            text = handle.read().strip()
    except (IOError, OSError) as exc:
        raise WgnetError.about("private_key_path", "cannot read %s (%s)" % (path, exc.strerror))
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise WgnetError.about("private_key_path", "%s is accessible to group or others (mode %04o); chmod 600 it"
                               % (path, stat.S_IMODE(info.st_mode)))
    return text


def private_key_from(params):
    """The private key of ``private_key`` or ``private_key_path``, checked; None when neither is given."""
    if params["private_key_path"]:
        return b64(decode_key(read_private_key(params["private_key_path"]), "private_key_path"))
    if params["private_key"] is not None:
        return b64(decode_key(params["private_key"], "private_key"))
    return None


def desired_state(private_key, peers=(), listen_port=0, fwmark=0, mtu=DEFAULT_MTU, addresses=(), routes=(),
                  default_route=True, dns=()):
    """Check every value and return the interface as it should be. No side effects.

    ``private_key`` is checked base64 (private_key_from()); ``peers`` are in the modules' option form.
    The result: {"device": config's normal form, "link": {mtu, addresses, routes, up}, "dns": text or None}.
    """
    if not MIN_MTU <= mtu <= MAX_MTU:
        raise WgnetError.about("mtu", "%d is out of range (%d to %d)" % (mtu, MIN_MTU, MAX_MTU))
    if not 0 <= listen_port <= 65535:
        raise WgnetError.about("listen_port", "%d is out of range (0 to 65535)" % listen_port)
    if not 0 <= fwmark <= 0xFFFFFFFF:
        raise WgnetError.about("fwmark", "%d is out of range (0 to 4294967295)" % fwmark)
    addresses = sorted({canonical_interface_address(a, "address[%d]" % i) for i, a in enumerate(addresses)})
    routes = {canonical_cidr(r, "routes[%d]" % i, strict=True) for i, r in enumerate(routes)}
    if default_route:
        versions = {ipaddress.ip_interface(a).version for a in addresses} or {4}
        routes.update({4: "0.0.0.0/0", 6: "::/0"}[v] for v in versions)
    for index, server in enumerate(dns):
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise WgnetError.about("dns[%d]" % index, "%r is not an IP address" % server)
    own = public_key(private_key) if private_key else None
    return {
        "device": {"private_key": private_key, "listen_port": listen_port, "fwmark": fwmark,
                   "peers": normalize_peers(peers, own_public_key=own)},
        "link": {"mtu": mtu, "addresses": addresses, "routes": sorted(routes), "up": True},
        "dns": render_resolv_conf(dns) if dns else None,
    }


def render_resolv_conf(servers):
    return DNS_HEADER + "".join("nameserver %s\n" % s for s in servers)


def check_name(name):
    if ifname_problem(name):
        raise WgnetError.about("name", ifname_problem(name))


def wanted_from_params(params):
    """One element of the modules' options as a Wanted interface; every option is checked first."""
    check_name(params["name"])
    desired = None
    if params["state"] == "present":
        desired = desired_state(private_key_from(params), params["peers"], params["listen_port"], params["fwmark"],
                                params["mtu"], params["address"], params["routes"], params["default_route"],
                                params["dns"])
    return Wanted(params["name"], desired, params["container"], params["netns"], params["backend"],
                  params["userspace_binary"], allow_other_interfaces=params["allow_other_interfaces"])


def wanted_many(interfaces):
    """The elements of the option ``interfaces`` as Wanted interfaces; a bad one is named by its index."""
    result = []
    for index, params in enumerate(interfaces):
        with labelled(index, "%s/%s" % (params["container"] or params["netns"], params["name"])):
            result.append(wanted_from_params(params))
    return result


@contextlib.contextmanager
def labelled(index, label):
    """Name the element of ``interfaces`` a failure belongs to."""
    try:
        yield
    except WgnetError as exc:
        raise WgnetError("interfaces[%d] (%s): %s" % (index, label, exc),
                         "interfaces[%d]%s" % (index, "." + exc.option if exc.option else ""))
    except (NetlinkError, OSError) as exc:  # the kernel's or the system's refusal: still this element's
        raise WgnetError("interfaces[%d] (%s): %s" % (index, label, exc), "interfaces[%d]" % index)
