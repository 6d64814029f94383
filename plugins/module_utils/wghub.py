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

from ansible_collections.wgnet.containers.plugins.module_utils import wgquick
from ansible_collections.wgnet.containers.plugins.module_utils.fileio import write_atomic
from ansible_collections.wgnet.containers.plugins.module_utils.targets import host_target
from ansible_collections.wgnet.containers.plugins.module_utils.wgiface import (
    PEER_OPTIONS,
    desired_state,
    reconcile,
)
from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import WgKeyError
from ansible_collections.wgnet.containers.plugins.module_utils.wgpool import pool_peers

SYSCTL_DIR = "/etc/sysctl.d"
# Peer operations beyond this many of a kind are summed up in one line.
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


def interface_spec(params):
    """The hub as a wg_container_iface description (its pool peers aside): no default route."""
    return {
        "container": None, "netns": None, "name": params["name"], "address": params["address"],
        "private_key": params["private_key"], "private_key_path": params["private_key_path"],
        "listen_port": params["listen_port"], "fwmark": params["fwmark"], "mtu": params["mtu"],
        "peers": params["peers"], "default_route": False, "routes": [], "dns": [], "backend": params["backend"],
        "userspace_binary": params["userspace_binary"], "state": params["state"],
    }


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
            raise WgKeyError(option, "%s is a folder; give the path of a file" % path)
        folder = os.path.dirname(path)
        while folder and not os.path.exists(folder):
            folder = os.path.dirname(folder)
        if folder and not os.path.isdir(folder):
            raise WgKeyError(option, "%s cannot be written: %s is not a folder" % (path, folder))


def pool_keys(params):
    if params["pool_public_keys_text"] is not None:
        return params["pool_public_keys_text"].split()
    return params["pool_public_keys"]


def hub_desired_state(spec, params):
    """desired_state() plus the pool's peers, which are made in normal form directly."""
    desired = desired_state(spec)
    if params["pool"]:
        peers = pool_peers(params["pool"], params["pool_exclude"], pool_keys(params))
        both = set(peers) & set(desired["device"]["peers"])
        if both:
            raise WgKeyError("peers", "%s is also a pool key" % sorted(both)[0])
        peers.update(desired["device"]["peers"])
        desired["device"]["peers"] = peers
    return desired


def reconcile_hub(host, params):
    """Reconcile the hub. Its files are checked and written before the live interface switches,
    so that a failure either changes nothing live, or comes after a switch that is complete."""
    spec = interface_spec(params)
    if params["state"] == "absent":
        result = reconcile(host, spec, target=host_target())
        changes = summarize(result["changes"])
        for path in managed_files(params):
            if os.path.exists(path):
                changes.append("remove %s" % path)
                if not host.check_mode:
                    os.unlink(path)
        return finish(result, changes)

    desired = hub_desired_state(spec, params)
    files = plan_files(params, desired)
    check_writable(files)
    written, previous = [], []
    for path, content, mode in files:
        old = wgquick.read(path)
        if old != content:
            written.append("write %s" % path)
            if not host.check_mode:
                previous.append((path, old, mode))
                write_atomic(path, content, mode)
    try:
        result = reconcile(host, spec, target=host_target(), desired=desired)
    except Exception:
        put_back(previous)  # the live interface was put back too: a boot must not bring up other keys
        raise
    changes = summarize(result["changes"]) + written
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


def summarize(changes):
    """Long runs of peer changes as one line each: a /16 pool is 65,534 peers."""
    result, counts = [], {}
    for line in changes:
        verb = line.split(" peer ", 1)[0] if " peer " in line else None
        if verb in ("add", "remove", "update"):
            counts[verb] = counts.get(verb, 0) + 1
            if counts[verb] > LISTED_PEER_CHANGES:
                continue
        result.append(line)
    for verb, count in sorted(counts.items()):
        if count > LISTED_PEER_CHANGES:
            result.append("%s %d more peers" % (verb, count - LISTED_PEER_CHANGES))
    return result


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
