# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hub: a WireGuard interface in the host's own namespace with one peer per pool address.

The live interface is reconciled like any container interface (peers one by
one, never restarted); the same desired state is written as a wg-quick file
for boot, and the host forwards between peers.

The pool's public keys cost seconds to derive and to carry for a /16, so a run
may name them by a fingerprint instead: the hub records, beside that fingerprint,
a digest of the pool peers it applied, and takes its live pool peers as the pool
only while their digest still equals the recorded one. Otherwise it asks for the keys.

With ``pool_endpoints`` (a hub pair, docs/high-availability.md) each pool peer also gets the endpoint
derived from its address, so that a hub taking over can start every handshake itself. A live endpoint
the container roamed to is left alone: only the wg-quick file always holds the derived one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import ipaddress
import json
import os
import socket

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.common.fileio import read_text, write_atomic, write_json
from ansible_collections.wgnet.containers.plugins.module_utils.device.config import format_endpoint, resolve_endpoint
from ansible_collections.wgnet.containers.plugins.module_utils.engine import wgquick
from ansible_collections.wgnet.containers.plugins.module_utils.engine.interface import apply_plan, plan_interface, reconcile
from ansible_collections.wgnet.containers.plugins.module_utils.engine.spec import (
    PEER_OPTIONS,
    Wanted,
    check_name,
    desired_state,
    private_key_from,
)
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import parse_address
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import parse_pool, pool_digest, pool_peers
from ansible_collections.wgnet.containers.plugins.module_utils.keys.ports import MAX_PORT, check_port_base
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.targets import host_target

SYSCTL_DIR = "/etc/sysctl.d"
RECORD_DIR = "/var/lib/wgnet"
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
        pool_fingerprint=dict(type="str"),
        pool_record=dict(type="path"),
        pool_endpoints=dict(type="list", elements="dict", options=dict(
            slice=dict(type="str", required=True), address=dict(type="str", required=True))),
        pool_port_base=dict(type="int"),
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
    required_by={"pool_endpoints": ("pool_port_base",)},
)


class PoolKeysNeeded(Exception):
    """The live pool peers are not known to be the pool that ``pool_fingerprint`` names: derive its keys."""


def hub_wanted(params):
    """The hub as an interface of the host's own namespace, its pool's peers included: no default route."""
    check_name(params["name"])
    if params["pool_fingerprint"] and not params["pool"]:
        raise WgnetError.about("pool_fingerprint", "names the keys of a pool; give the pool too")
    if params.get("pool_endpoints") and not params["pool"]:
        raise WgnetError.about("pool_endpoints", "gives the endpoints of a pool's addresses; give the pool too")
    desired = None
    if params["state"] == "present":
        desired = desired_state(private_key_from(params), params["peers"], params["listen_port"], params["fwmark"],
                                params["mtu"], params["address"], default_route=False)
        if has_pool_keys(params) or not params["pool_fingerprint"]:
            add_pool_peers(desired, params)
            set_endpoints(desired["device"]["peers"], params)
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
    """The paths of the files the hub keeps: its wg-quick config, its sysctl file (when it forwards),
    and its record of the pool peers it applied."""
    name = params["name"]
    return (params["config_path"] or "/etc/wireguard/%s.conf" % name,
            os.path.join(SYSCTL_DIR, "90-wgnet-%s.conf" % name),
            record_path(params))


def record_path(params):
    return params["pool_record"] or os.path.join(RECORD_DIR, "hub-%s-pool.json" % params["name"])


def plan_files(params, desired):
    """(path, content, mode) of the files the hub keeps: its wg-quick config, its sysctl file."""
    config_path, sysctl_path, _record = managed_files(params)
    files = [(config_path, wgquick.render(derived_endpoints(desired, params)), 0o600)]
    if params["forward"]:
        content = "# Managed by wgnet.containers: the hub %s forwards between its peers.\n" % params["name"]
        content += "".join("%s = %s\n" % item for item in sorted(forwarding_settings(params["name"], desired).items()))
        files.append((sysctl_path, content, 0o644))
    return files


def check_writable(paths):
    """Refuse, before anything changes, a file the hub could not write: (path, the option that names it)."""
    for path, option in paths:
        if os.path.isdir(path):
            raise WgnetError.about(option, "%s is a folder; give the path of a file" % path)
        folder = os.path.dirname(path)
        while folder and not os.path.exists(folder):
            folder = os.path.dirname(folder)
        if folder and not os.path.isdir(folder):
            raise WgnetError.about(option, "%s cannot be written: %s is not a folder" % (path, folder))


def has_pool_keys(params):
    return params["pool_public_keys_text"] is not None or bool(params["pool_public_keys"])


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
        return remove_hub(host, wanted, params)
    complete = functools.partial(complete_hub, desired=wanted.desired, params=params)
    try:
        plan = plan_interface(host, wanted, host_target(), LISTED_PEER_CHANGES, complete)
    except PoolKeysNeeded as exc:
        return {"changed": False, "changes": [], "pool_keys_needed": True, "pool_keys_reason": str(exc),
                "diff": {"before": {}, "after": {}}, "interface": {}}
    try:
        return apply_hub(host, plan, params)
    finally:
        plan.close()


def remove_hub(host, wanted, params):
    result = reconcile(host, wanted, host_target(), LISTED_PEER_CHANGES)
    changes = result["changes"]
    for path in managed_files(params):
        if os.path.exists(path):
            changes.append("remove %s" % path)
            if not host.check_mode:
                os.unlink(path)
    return finish(result, changes)


def apply_hub(host, plan, params):
    desired = plan.wanted.desired
    files = plan_files(params, desired)
    paths = list(zip([path for path, _content, _mode in files], ("config_path", "forward")))
    check_writable(paths + ([(record_path(params), "pool_record")] if records_pool(params) else []))
    written, previous = [], []
    for path, content, mode in files:
        old = read_text(path)
        if old != content:
            written.append("write %s" % path)
            if not host.check_mode:
                previous.append((path, old, mode))
                write_atomic(path, content, mode)
    try:
        result = apply_plan(host, plan)
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
    changes += record_pool(host, params, desired)
    return finish(result, changes)


def record_pool(host, params, desired):
    """Record the fingerprint of the pool just applied with its keys, and the digest of its peers."""
    if not records_pool(params):
        return []
    pool = {k: p for k, p in desired["device"]["peers"].items() if k not in extra_peer_keys(params)}
    record = {"fingerprint": params["pool_fingerprint"], "digest": pool_digest(pool)}
    path = record_path(params)
    if read_record(path) == record:
        return []
    if not host.check_mode:
        write_json(path, record, folder_mode=0o755)  # a folder of records, none of them secret
    return ["write %s" % path]


def records_pool(params):
    return bool(params["pool_fingerprint"]) and has_pool_keys(params)


def read_record(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def extra_peer_keys(params):
    return {peer["public_key"] for peer in params["peers"]}


def host_address(host, option, resolver=socket.getaddrinfo):
    """An IP address, or a name resolved once here (on the hub), as an ip_address."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return ipaddress.ip_address(resolve_endpoint("%s:%d" % (host, MAX_PORT), option, resolver).rsplit(":", 1)[0].strip("[]"))


def endpoint_table(pool, slices, base, resolver=socket.getaddrinfo):
    """A function from a pool address to its derived endpoint ``ip:port``, None outside every slice.

    ``slices`` lists {slice, address}: a Docker host's slice of the pool and the address (or name) the
    hubs dial it at.
    """
    network = check_port_base(pool, base, "pool_port_base")
    start = int(network.network_address)
    owners = []
    for index, entry in enumerate(slices):
        option = "pool_endpoints[%d]" % index
        if not entry.get("address"):
            raise WgnetError.about(option + ".address", "is empty; give the address the hubs reach this Docker host at")
        owners.append((parse_pool(entry["slice"], option + ".slice"),
                       host_address(entry["address"], option + ".address", resolver)))

    def endpoint(address):
        parsed = parse_address(address)
        for owned, host in owners:
            if parsed in owned:
                return format_endpoint(host, base + int(parsed) - start)
        return None
    return endpoint


def set_endpoints(peers, params):
    """Give each pool peer ({key: peer}, changed in place) the endpoint derived from its address."""
    if not params.get("pool_endpoints"):
        return
    endpoint = endpoint_table(params["pool"][0], params.get("pool_endpoints"), params["pool_port_base"])
    extra = extra_peer_keys(params)
    for key, peer in peers.items():
        if key not in extra:
            peer["endpoint"] = next((e for e in map(endpoint, peer["allowed_ips"]) if e), None)


def derived_endpoints(desired, params):
    """``desired`` with the derived endpoints, whatever the live ones roamed to: what the wg-quick file holds."""
    if not params.get("pool_endpoints"):
        return desired
    peers = {key: dict(peer) for key, peer in desired["device"]["peers"].items()}
    set_endpoints(peers, params)
    return dict(desired, device=dict(desired["device"], peers=peers))


def complete_hub(current, desired, params):
    """What only the live hub tells: the pool peers it vouches for (when no keys came), and the roamed endpoints."""
    if params["pool"] and not has_pool_keys(params):
        take_recorded_pool(current, desired, params)
    keep_roamed(current, desired)


def keep_roamed(current, desired):
    """Keep a live endpoint that differs from the derived one: the container roamed there (NAT, another
    address), WireGuard follows it, and a run must neither undo that nor report it as a change."""
    if current is None:
        return
    live = current["config"]["peers"]
    peers = desired["device"]["peers"]
    for key, peer in peers.items():
        roamed = (live.get(key) or {}).get("endpoint")
        if peer["endpoint"] and roamed and roamed != peer["endpoint"]:
            peers[key] = dict(peer, endpoint=roamed)


def take_recorded_pool(current, desired, params):
    """Take the live pool peers as the pool, when they are what was applied under ``pool_fingerprint``.

    The record alone is never trusted: the digest of the peers live now must equal the recorded one.
    Their other fields are the pool's normal ones again, so that a drift there is planned as a change.
    """
    path = record_path(params)
    record = read_record(path)
    if current is None:
        raise PoolKeysNeeded("the interface %s does not exist" % params["name"])
    if not isinstance(record, dict) or record.get("fingerprint") != params["pool_fingerprint"]:
        raise PoolKeysNeeded("%s records no pool of fingerprint %s" % (path, params["pool_fingerprint"]))
    extra = desired["device"]["peers"]  # the other peers, so far
    pool = {key: {"endpoint": None, "allowed_ips": peer["allowed_ips"], "persistent_keepalive": 0, "preshared_key": None}
            for key, peer in current["config"]["peers"].items() if key not in extra}
    if pool_digest(pool) != record.get("digest"):
        raise PoolKeysNeeded("the live pool peers of %s differ from those recorded in %s" % (params["name"], path))
    set_endpoints(pool, params)
    pool.update(desired["device"]["peers"])
    desired["device"]["peers"] = pool


def put_back(previous):
    """Restore files as they were: (path, content or None when there was none, mode)."""
    for path, content, mode in previous:
        if content is None:
            os.unlink(path)
        else:
            write_atomic(path, content, mode)


def finish(result, changes):
    """The hub's result: the engine's views already list the changed peers only, with counts;
    the facts list none."""
    facts = {k: v for k, v in result["interface"].items() if k not in ("peers", "peers_not_shown")}
    return {
        "changed": bool(changes),
        "changes": changes,
        "pool_keys_needed": False,
        "diff": result["diff"],
        "interface": facts,
    }
