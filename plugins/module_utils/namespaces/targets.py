# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where an interface goes: a running Docker container's namespace, or a namespace path."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from urllib.parse import quote

from ansible_collections.wgnet.containers.plugins.module_utils.common.dockerapi import docker_get
from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import netns_identity

BATCH_THREADS = 8  # the threads a batch reads and changes its interfaces in
# The target_id of the host's own namespace (a hub, or the network driver's endpoints before Join).
HOST_TARGET_ID = "host"
NAMED_NETNS_DIRS = ("/var/run/netns", "/run/netns")
# The namespace this code runs in, and init's: the host's own.
HOST_NAMESPACES = ("/proc/self/ns/net", "/proc/1/ns/net")
# Devices the kernel makes in every namespace once their module is loaded. Down and without
# an address they carry nothing, and a container cannot remove them.
FALLBACK_DEVICES = frozenset(("tunl0", "sit0", "ip6tnl0", "gre0", "gretap0", "erspan0", "ip6gre0", "ip6erspan0",
                              "ip_vti0", "ip6_vti0"))


class TargetError(WgnetError):
    """No such target, or none reachable: with state=absent there is nothing to remove."""


class Target:
    """A network namespace to put an interface in.

    ``target_id`` is stable for the life of the target (the container id, or
    the namespace's inode) and names the host side of a userspace device.
    ``resolv_conf`` is the file that is the target's /etc/resolv.conf, if known.
    """

    def __init__(self, path, target_id, container=None, resolv_conf=None, network_mode=None):
        self.path = path
        self.target_id = target_id
        self.container = container
        self.resolv_conf = resolv_conf
        self.network_mode = network_mode  # a container's --network, as Docker reports it

    @property
    def option(self):
        return "container" if self.container else "netns"


def check_only_network(target, ns, ifname, allow_other_interfaces=False):
    """Refuse a target where the tunnel would not be the only network (TargetError naming the option).

    Never the host's own namespace: the tunnel's default route would take over the host's.
    Unless ``allow_other_interfaces``: only a container started with --network none, and a
    namespace with no interface but lo, ``ifname`` and the kernel's idle fallback devices.
    """
    where = repr(target.container) if target.container else target.path
    for own in HOST_NAMESPACES:
        try:
            host_identity = netns_identity(own)
        except OSError:
            continue  # init's namespace can be out of reach (a sandbox); then so is opening it as a target
        if ns.identity == host_identity:
            raise TargetError.about(target.option, "%s is in the host's own network namespace (%s); the tunnel would take "
                                    "over the host's routes" % (where, own))
    if allow_other_interfaces:
        return
    if target.network_mode not in (None, "none"):
        raise TargetError.about(target.option, "%s runs with --network %s; start it with --network none, so that the "
                                "tunnel is its only network (or set allow_other_interfaces)"
                                % (where, target.network_mode))
    others = ["%s (%s%s)" % (link["name"], link["kind"] or "device", ", up" if link["up"] else "")
              for link in ns.links() if link["name"] not in ("lo", ifname) and
              (link["up"] or link["addressed"] or link["name"] not in FALLBACK_DEVICES)]
    if others:
        raise TargetError.about(target.option, "%s has other interfaces: %s. The tunnel would not be its only network; "
                                "remove them, or set allow_other_interfaces" % (where, ", ".join(others)))


def netns_target(path):
    try:
        identity = netns_identity(path)
    except OSError as exc:
        raise TargetError.about("netns", "network namespace %s is gone or unreadable (%s)" % (path, exc.strerror))
    resolv_conf = None
    if os.path.dirname(path) in NAMED_NETNS_DIRS:
        # The file `ip netns exec` binds over /etc/resolv.conf for this namespace.
        resolv_conf = os.path.join("/etc/netns", os.path.basename(path), "resolv.conf")
    return Target(path, "netns:%d:%d" % identity, resolv_conf=resolv_conf)


def host_target():
    """The host's own namespace, for an interface that is not moved anywhere (a hub)."""
    return Target("/proc/self/ns/net", HOST_TARGET_ID)


class DockerTargets:
    """Looks containers up in the Docker Engine API (common.dockerapi), one GET a container.

    A daemon that cannot be reached is an error, not a missing container: with state=absent it must
    not pass for "nothing to remove".
    """

    def target(self, name):
        status, attrs = docker_get("/containers/%s/json" % quote(name, safe=""))
        if status == 404:
            raise TargetError.about("container", "no container named or with id %r" % name)
        if status != 200:
            raise WgnetError.about("container", "cannot inspect %r (%s)" % (name, attrs.get("message", status)))
        state = attrs["State"]
        if not state.get("Running") or not state.get("Pid"):
            raise TargetError.about("container", "%r is not running (status %s)" % (name, state.get("Status")))
        return Target("/proc/%d/ns/net" % state["Pid"], attrs["Id"], container=attrs["Name"].lstrip("/"),
                      resolv_conf=attrs.get("ResolvConfPath") or None,
                      network_mode=(attrs.get("HostConfig") or {}).get("NetworkMode"))
