# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The device layer's one entry point: find a device, or choose the backend that creates one.

Two backends, one contract (after wireguard-tools' ipc.c, which picks kernel or userspace inside
its get and set, never in a caller):
- a backend has ``name``, ``check_available()`` and
  ``create(ns, target_id, ifname, config, host_ipr) -> device``;
- a device has ``backend`` (the name, a fact to report), ``host_name`` and ``pid`` (None for
  the kernel's), ``get() -> (config, stats)`` in config's normal form,
  ``apply(fields, operations)`` from config.plan_device, and ``delete()``.
Both make the device so that its UDP socket lives in the host's namespace while the interface
lives in the target's. Nothing outside this package imports kernel or userspace.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.device import kernel, userspace

# Re-exported: the module runner reaps before every run.
reap_userspace = userspace.reap_userspace


def find(ns, target_id, ifname, kind=None):
    """The managed device serving ``ifname`` of ``ns``, or None.

    ``kind`` is the kind of the link named ``ifname`` in ``ns``, or None when there is no such
    link there (a wireguard-go's TUN may have been moved on): a WireGuard link is the kernel's;
    a TUN, or no link, is wireguard-go's if its registry knows (target_id, ifname) in ``ns``.
    """
    if kind == "wireguard":
        return kernel.KernelDevice(ns, ifname)
    if kind in (None, "tun"):
        return userspace.find(ns, target_id, ifname)
    return None


def choose(choice, userspace_binary):
    """The backend that creates devices for ``backend: choice`` (auto: the kernel's where it has
    WireGuard), checked to be available here."""
    if choice == "auto":
        choice = kernel.NAME if kernel.kernel_supports_wireguard() else userspace.NAME
    backend = kernel.KernelBackend() if choice == kernel.NAME else userspace.UserspaceBackend(userspace_binary)
    backend.check_available()
    return backend


def made_by(device, backend):
    """Was ``device`` made by ``backend``? A device asked of another backend is made again."""
    return device.backend == backend.name


def unmanaged_link(ifname, kind):
    """The refusal of a link named ``ifname`` that find() did not take for a managed device."""
    if kind == "tun":
        return WgnetError.about("name", "%s exists in the namespace but is a TUN device that wgnet.containers does "
                                        "not manage; remove it or choose another name" % ifname)
    return WgnetError.about("name", "%s exists in the namespace and is a %s link, not WireGuard"
                            % (ifname, kind or "plain"))
