# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An endpoint's device, wherever Docker has put it, and its container's resolv.conf."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys
import time

from ansible_collections.wgnet.containers.plugins.module_utils.device import backends
from ansible_collections.wgnet.containers.plugins.module_utils.engine.interface import write_dns
from ansible_collections.wgnet.containers.plugins.module_utils.engine.spec import render_resolv_conf
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import Namespace
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.targets import HOST_TARGET_ID

try:
    import docker
    import docker.errors
except ImportError:  # the install role installs it; without it the driver does not start (missing_libraries)
    docker = None

DNS_WAIT = 10.0


def remove_device(name):
    """Stop an endpoint's wireguard-go, or delete its kernel link, wherever the interface is now.

    Docker moves the interface back to the host on Leave; without this, it would stay
    there holding its key.
    """
    ns = Namespace("/proc/self/ns/net")
    try:
        link = ns.link(name)
        device = backends.find(ns, HOST_TARGET_ID, name, link["kind"] if link else None)
        if device is not None:
            device.delete()
    finally:
        ns.close()


# Docker's embedded resolver (127.0.0.11) sends a query on from the host's namespace, outside the
# tunnel, when the upstream is a loopback resolver of the host's resolv.conf (systemd-resolved's
# 127.0.0.53, say; moby libnetwork resolver.go, HostLoopback), and on Docker 26 also an IPv6 one when
# the network has none. So without -o dns a container gets no resolver at all, rather than that one.
NO_RESOLVER = ("# Managed by wgnet.containers: no resolver. Docker's own (127.0.0.11) may send queries on from the\n"
               "# host's network, outside the tunnel. Create the network with -o dns=IP, a resolver reached\n"
               "# through the tunnel.\n")


def endpoint_device(endpoint, host_ns):
    """The live device of a joined endpoint, and the namespace to close after.

    wireguard-go's is found on the host by its record (its TUN is in the container); a kernel link
    is in the container, the only WireGuard link there, under the name Docker gave it.
    """
    device = backends.find(host_ns, HOST_TARGET_ID, endpoint["host_name"])
    if device is not None:
        return device, None
    ns = Namespace(endpoint["sandbox"])
    for link in ns.links():
        device = backends.find(ns, None, link["name"], link["kind"])
        if device is not None:
            return device, ns
    ns.close()
    return None, None


def write_container_dns(sandbox, servers):
    """Point the container of ``sandbox`` at ``servers`` (none: no resolver), once Docker has written its
    resolv.conf.

    Docker writes the file after Join and has no field for it in the reply, so
    this waits for the container to run. Its resolvers are then reached through wg0.
    """
    if docker is None:
        sys.stderr.write("dns: the Docker SDK for Python is missing; resolv.conf left as Docker wrote it\n")
        return
    client = docker.APIClient()
    deadline = time.time() + DNS_WAIT
    try:
        while time.time() < deadline:
            for container in client.containers(filters={"status": "running"}):
                attrs = client.inspect_container(container["Id"])
                if attrs["NetworkSettings"].get("SandboxKey") == sandbox and attrs.get("ResolvConfPath"):
                    content = render_resolv_conf(servers) if servers else NO_RESOLVER
                    write_dns(attrs["ResolvConfPath"], content)
                    return
            time.sleep(0.1)
    except docker.errors.DockerException as exc:
        sys.stderr.write("dns: cannot reach the Docker daemon (%s)\n" % exc)
    finally:
        client.close()
