# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hub: a WireGuard interface in the host's own namespace with one peer per pool address.

The live interface is reconciled like any container interface (peers one by
one, never restarted); the same desired state is written as a wg-quick file
for boot, and the host forwards between peers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.common.fileio import read_text, write_atomic
from ansible_collections.wgnet.containers.plugins.module_utils.engine import wgquick
from ansible_collections.wgnet.containers.plugins.module_utils.engine.interface import reconcile
from ansible_collections.wgnet.containers.plugins.module_utils.engine.spec import (
    PEER_OPTIONS,
    Wanted,
    check_name,
    desired_state,
    private_key_from,
)
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import pool_peers
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.targets import host_target

SYSCTL_DIR = "/etc/sysctl.d"
# Peer changes beyond this many of a kind are summed up in one line, and left out of the diff.
LISTED_PEER_CHANGES = 10


def hub_options():
    return dict(
        name=dict(type="str", default="wg0"),
        address=dict(type="list", elements="str", required=True),
        private_key=dict(type="str", no_log=True),
        private_key_path=dict(type="path", no_log=False),
        listen_port=dict(type="int", required=True),
        fwmark=dict(type="int", default=0),
        mtu=dict(type="int", default=1420),
        pool=dict(type="list", elements="str", default=[]),
        pool_exclude=dict(type="list", elements="str", default=[]),
        pool_public_keys=dict(type="list", elements="str", default=[], no_log=False),
        pool_public_keys_text=dict(type="str", no_log=False),
        peers=dict(type="list", elements="dict", options=PEER_OPTIONS, default=[]),
        forward=dict(type="bool", default=True),
        config_path=dict(type="path"),
        backend=dict(type="str", choices=["auto", "kernel", "userspace"], default="auto"),
        userspace_binary=dict(type="str", default="wireguard-go"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


HUB_RULES = dict(
    mutually_exclusive=[("private_key", "private_key_path"), ("pool_public_keys", "pool_public_keys_text")],
    required_if=[("state", "present", ("private_key", "private_key_path"), True)],
)


def hub_wanted(params):
    """The hub as an interface of the host's own namespace, its pool's peers included: no default route."""
    check_name(params["name"])
    desired = None
    if params["state"] == "present":
        desired = desired_state(private_key_from(params), params["peers"], params["listen_port"], params["fwmark"],
                                params["mtu"], params["address"], default_route=False)
        add_pool_peers(desired, params)
    return Wanted(params["name"], desired, backend=params["backend"], userspace_binary=params["userspace_binary"])


def forwarding_settings(name, desired):
    """sysctl settings for a hub, {key: value}: forward between peers, and send no ICMP redirects.

    A packet between two containers comes in and goes out by the same
    interface; redirects would tell the sender to use a next hop it cannot use.
    Keys are written with "/" between their parts, as sysctl(8) allows: an
    interface name may hold a dot.
    """
    settings = {"net/ipv4/ip_forward": "1", "net/ipv4/conf/all/send_redirects": "0",
                "net/ipv4/conf/%s/send_redirects" % name: "0"}
    if any(":" in a for a in desired["link"]["addresses"]):
        settings["net/ipv6/conf/all/forwarding"] = "1"
    return settings


def _read_sysctl(key):
    try:
        with open(os.path.join("/proc/sys", key)) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def _write_sysctl(key, value):
    with open(os.path.join("/proc/sys", key), "w") as handle:
        handle.write(value)


def managed_files(params):
    """The paths of the files the hub keeps: its wg-quick config and, when it forwards, its sysctl file."""
    name = params["name"]
    return (params["config_path"] or "/etc/wireguard/%s.conf" % name,
            os.path.join(SYSCTL_DIR, "90-wgnet-%s.conf" % name))


def plan_files(params, desired):
    """(path, content, mode) of the files the hub keeps: its wg-quick config, its sysctl file."""
    config_path, sysctl_path = managed_files(params)
    files = [(config_path, wgquick.render(desired), 0o600)]
    if params["forward"]:
        content = "# Managed by wgnet.containers: the hub %s forwards between its peers.\n" % params["name"]
        content += "".join("%s = %s\n" % item for item in sorted(forwarding_settings(params["name"], desired).items()))
        files.append((sysctl_path, content, 0o644))
    return files


def check_writable(files):
    """Refuse, before anything changes, a file the hub could not write (named by its option)."""
    for index, (path, _content, _mode) in enumerate(files):
        option = "config_path" if index == 0 else "forward"
        if os.path.isdir(path):
            raise WgnetError.about(option, "%s is a folder; give the path of a file" % path)
        folder = os.path.dirname(path)
        while folder and not os.path.exists(folder):
            folder = os.path.dirname(folder)
        if folder and not os.path.isdir(folder):
            raise WgnetError.about(option, "%s cannot be written: %s is not a folder" % (path, folder))


def pool_keys(params):
    if params["pool_public_keys_text"] is not None:
        return params["pool_public_keys_text"].split()
    return params["pool_public_keys"]


def add_pool_peers(desired, params):
    """The pool's peers, made in normal form directly, beside the hub's other peers."""
    if params["pool"]:
        peers = pool_peers(params["pool"], params["pool_exclude"], pool_keys(params))
        both = set(peers) & set(desired["device"]["peers"])
        if both:
            raise WgnetError.about("peers", "%s is also a pool key" % sorted(both)[0])
        peers.update(desired["device"]["peers"])
        desired["device"]["peers"] = peers


def reconcile_hub(host, params):
    """Reconcile the hub. Its files are checked and written before the live interface switches,
    so that a failure either changes nothing live, or comes after a switch that is complete."""
    wanted = hub_wanted(params)
    if not wanted.present:
        result = reconcile(host, wanted, host_target(), LISTED_PEER_CHANGES)
        changes = result["changes"]
        for path in managed_files(params):
            if os.path.exists(path):
                changes.append("remove %s" % path)
                if not host.check_mode:
                    os.unlink(path)
        return finish(result, changes)

    desired = wanted.desired
    files = plan_files(params, desired)
    check_writable(files)
    written, previous = [], []
    for path, content, mode in files:
        old = read_text(path)
        if old != content:
            written.append("write %s" % path)
            if not host.check_mode:
                previous.append((path, old, mode))
                write_atomic(path, content, mode)
    try:
        result = reconcile(host, wanted, host_target(), LISTED_PEER_CHANGES)
    except Exception:
        put_back(previous)  # the live interface was put back too: a boot must not bring up other keys
        raise
    changes = result["changes"] + written
    if params["forward"]:
        for key, value in sorted(forwarding_settings(params["name"], desired).items()):
            if _read_sysctl(key) != value:
                changes.append("set %s = %s" % (key, value))
                if not host.check_mode:
                    _write_sysctl(key, value)
    return finish(result, changes)


def put_back(previous):
    """Restore files as they were: (path, content or None when there was none, mode)."""
    for path, content, mode in previous:
        if content is None:
            os.unlink(path)
        else:
            write_atomic(path, content, mode)


def compact(view, keep_keys):
    """A view with the peers whose keys are in ``keep_keys`` (the first few), and the peer count."""
    if not view:
        return view
    compacted = dict(view)
    compacted["peer_count"] = len(view["peers"])
    kept = [p for p in view["peers"] if p["public_key"] in keep_keys]
    compacted["peers"] = kept[:LISTED_PEER_CHANGES]
    if len(kept) > LISTED_PEER_CHANGES:
        compacted["peers_not_shown"] = len(kept) - LISTED_PEER_CHANGES
    return compacted


def changed_peer_keys(before, after):
    before_peers = {p["public_key"]: p for p in (before or {}).get("peers", [])}
    after_peers = {p["public_key"]: p for p in (after or {}).get("peers", [])}
    return {k for k in set(before_peers) | set(after_peers) if before_peers.get(k) != after_peers.get(k)}


def finish(result, changes):
    """The hub's result: the diff and facts hold the changed peers only, and counts."""
    before, after = result["diff"]["before"], result["diff"]["after"]
    keys = changed_peer_keys(before, after)
    interface = result["interface"]
    facts = compact(interface, set())
    if interface:
        facts["peers_with_handshake"] = sum(1 for p in interface["peers"] if p.get("latest_handshake"))
    return {
        "changed": bool(changes),
        "changes": changes,
        "diff": {"before": compact(before, keys), "after": compact(after, keys)},
        "interface": facts,
    }
