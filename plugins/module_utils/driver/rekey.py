# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rotation on a driver host: every joined endpoint switches to the keys of a new key file at
the rotation's signal, in one loop, as wg_container_ifaces does for the attach role's containers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.device.config import plan_device
from ansible_collections.wgnet.containers.plugins.module_utils.driver.config import endpoint_wanted, read_config, read_json
from ansible_collections.wgnet.containers.plugins.module_utils.driver.devices import endpoint_device
from ansible_collections.wgnet.containers.plugins.module_utils.engine.batch import wait_for_signal
from ansible_collections.wgnet.containers.plugins.module_utils.engine.host import Host
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import Namespace, NetlinkError


class Rekey:
    """One joined endpoint's device, read and decided on: what the new key file changes on it."""

    def __init__(self, endpoint_id, device, namespaces, fields, peer_ops):
        self.endpoint_id, self.device, self.namespaces = endpoint_id, device, namespaces
        self.fields, self.peer_ops = fields, peer_ops


def plan_rekey(config, state):
    """Read every joined endpoint's device and decide what ``config`` changes on it; nothing is changed."""
    host_ns = Namespace("/proc/self/ns/net")
    plans = []
    try:
        for endpoint_id, endpoint in sorted(state["endpoints"].items()):
            if not endpoint.get("sandbox"):
                continue  # not joined: its next Join reads the new file
            network = state["networks"][endpoint["network"]]
            if endpoint["address"] not in config["keys"]:
                raise WgnetError("the new key file has no key for %s, the address of endpoint %s"
                                 % (endpoint["address"], endpoint_id[:12]))
            desired = endpoint_wanted(config, network, endpoint).desired["device"]
            device, ns = endpoint_device(endpoint, host_ns)
            if device is None:
                continue  # its container stopped meanwhile
            fields, peer_ops = plan_device(device.get()[0], desired)
            plans.append(Rekey(endpoint_id, device, ns, fields, peer_ops))
    except BaseException:
        close_rekey(plans)
        raise
    finally:
        host_ns.close()
    return plans


def close_rekey(plans):
    for plan in plans:
        if plan.namespaces is not None:
            plan.namespaces.close()


def rekey(config_path, next_path, state_path, signal_path, timeout):
    """Switch every joined endpoint to the keys of ``next_path``, at a rotation's signal.

    Everything is read and decided first, then the signal is awaited (without the host lock: a
    container start needs it). On "switch", ``next_path`` becomes the key file, so that any later
    Join uses the new keys, and every endpoint's device changes in one loop. Returns the number of
    endpoints changed. Without ``signal_path``, only says how many would change.
    """
    plans = plan_rekey(read_config(next_path), read_json(state_path) if os.path.exists(state_path)
                       else {"networks": {}, "endpoints": {}})
    try:
        changing = [p for p in plans if p.fields or p.peer_ops]
        if signal_path is None:
            return len(changing)
        try:
            wait_for_signal(signal_path, timeout)
        except WgnetError:
            os.unlink(next_path)  # aborted: the current key file stays the one
            raise
        host = Host(check_mode=False)
        failed = []
        try:
            host.lock()
            os.rename(next_path, config_path)
            for plan in changing:
                try:  # the hub has switched: one endpoint's failure must not hold back the others
                    plan.device.apply(plan.fields, plan.peer_ops)
                except (WgnetError, NetlinkError) as exc:
                    failed.append("endpoint %s: %s" % (plan.endpoint_id[:12], exc))
        finally:
            host.close()
        if failed:
            raise WgnetError("%d of %d endpoints did not switch (run the rotation again): %s"
                             % (len(failed), len(changing), "; ".join(failed)))
        return len(changing)
    finally:
        close_rekey(plans)
