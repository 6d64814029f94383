# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where an interface goes: a running Docker container's namespace, or a namespace path."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import WgnetError

from ansible_collections.wgnet.containers.plugins.module_utils.netns import netns_identity
from ansible_collections.wgnet.containers.plugins.module_utils.wgdevice import HOST_TARGET_ID

try:
    import docker
    import docker.errors
    HAS_DOCKER = True
except ImportError:
    HAS_DOCKER = False

NAMED_NETNS_DIRS = ("/var/run/netns", "/run/netns")


class TargetError(WgnetError):
    def __init__(self, option, problem):
        super(TargetError, self).__init__("%s: %s" % (option, problem))
        self.option = option


class Target:
    """A network namespace to put an interface in.

    ``target_id`` is stable for the life of the target (the container id, or
    the namespace's inode) and names the host side of a userspace device.
    ``resolv_conf`` is the file that is the target's /etc/resolv.conf, if known.
    """

    def __init__(self, path, target_id, container=None, resolv_conf=None):
        self.path = path
        self.target_id = target_id
        self.container = container
        self.resolv_conf = resolv_conf


def netns_target(path):
    try:
        identity = netns_identity(path)
    except OSError as exc:
        raise TargetError("netns", "network namespace %s is gone or unreadable (%s)" % (path, exc.strerror))
    resolv_conf = None
    if os.path.dirname(path) in NAMED_NETNS_DIRS:
        # The file `ip netns exec` binds over /etc/resolv.conf for this namespace.
        resolv_conf = os.path.join("/etc/netns", os.path.basename(path), "resolv.conf")
    return Target(path, "netns:%d:%d" % identity, resolv_conf=resolv_conf)


def host_target():
    """The host's own namespace, for an interface that is not moved anywhere (a hub)."""
    return Target("/proc/self/ns/net", HOST_TARGET_ID)


class DockerTargets:
    """Looks containers up with the Docker SDK, one client for many lookups."""

    def __init__(self):
        self._client = None

    def _docker(self):
        if not HAS_DOCKER:
            raise TargetError("container", "the Docker SDK for Python (docker) is not installed on this host")
        if self._client is None:
            try:
                self._client = docker.from_env()
                self._client.ping()
            except docker.errors.DockerException as exc:
                raise TargetError("container", "cannot reach the Docker daemon (%s)" % exc)
        return self._client

    def target(self, name):
        try:
            attrs = self._docker().api.inspect_container(name)
        except docker.errors.NotFound:
            raise TargetError("container", "no container named or with id %r" % name)
        except docker.errors.APIError as exc:
            raise TargetError("container", "cannot inspect %r (%s)" % (name, exc.explanation or exc))
        state = attrs["State"]
        if not state.get("Running") or not state.get("Pid"):
            raise TargetError("container", "%r is not running (status %s)" % (name, state.get("Status")))
        return Target("/proc/%d/ns/net" % state["Pid"], attrs["Id"], container=attrs["Name"].lstrip("/"),
                      resolv_conf=attrs.get("ResolvConfPath") or None)

    def close(self):
        if self._client is not None:
            self._client.close()
