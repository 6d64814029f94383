# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile one WireGuard interface with what it should be.

Read the actual state, decide a plan, apply only the difference, and report before and after
without secrets. A plan that fails halfway is undone. The modules, the hub and the network
driver are adapters over this.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.common.fileio import read_text
from ansible_collections.wgnet.containers.plugins.module_utils.device.config import (
    as_desired,
    describe_plan,
    plan_device,
    public_view,
)
from ansible_collections.wgnet.containers.plugins.module_utils.device.backends import made_by, unmanaged_link
from ansible_collections.wgnet.containers.plugins.module_utils.engine.link import NEW_LINK, apply_link, plan_link
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import NetlinkError
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.targets import (
    TargetError,
    check_only_network,
)


class Plan:
    """One interface read and decided on, with nothing changed yet; holds its namespace open.

    ``result`` is set when there is nothing to apply (no change, check mode, already gone);
    otherwise the typed changes are ``device_change`` (fields, peer operations), ``link_steps``,
    ``recreate`` and ``dns_change``; ``changes`` says them in lines. ``shown`` is None, or the
    (keys, count) of the changed peers the views list, and of those they leave out.
    """

    def __init__(self, wanted, target=None):
        self.wanted, self.target, self.ns = wanted, target, None
        self.result = None
        self.current = self.before = self.backend = self.dns_before = None
        self.changes, self.fields, self.peer_ops, self.link_steps = [], {}, [], []
        self.recreate = self.dns_change = False
        self.shown = None

    def close(self):
        if self.ns is not None:
            self.ns.close()
            self.ns = None


def reconcile(host, wanted, target=None, listed_peers=None):
    """Make one interface what ``wanted`` says. Returns its result (changed, changes, diff, interface).

    ``target`` is given by a caller with a target of its own (the hub and the driver: the host's
    namespace). With ``listed_peers``, peer changes beyond that many of a kind are summed up in one
    line, and the views list that many changed peers only (a hub has 65,534 peers).
    """
    plan = plan_interface(host, wanted, target, listed_peers)
    try:
        return apply_plan(host, plan)
    finally:
        plan.close()


def plan_interface(host, wanted, target=None, listed_peers=None, complete=None):
    """Read one interface and decide what would change. The caller closes the plan.

    ``complete``, when given, is called with the interface as read, before anything is decided:
    it completes ``wanted.desired`` with what only the live state tells (the hub's pool peers).
    """
    plan = Plan(wanted)
    try:
        plan.target = target or host.target(wanted)
    except TargetError:
        if not wanted.present:
            plan.result = result_for([], None, None, None)  # no running container: nothing to remove
            return plan
        raise
    try:
        plan.ns = host.namespace(plan.target.path)
    except WgnetError as exc:
        raise WgnetError.about(plan.target.option, str(exc))
    try:
        if target is None and wanted.present:
            check_only_network(plan.target, plan.ns, wanted.name, wanted.allow_other_interfaces)
        _decide(host, plan, listed_peers, complete)
    except Exception:
        plan.close()
        raise
    return plan


def _decide(host, plan, listed_peers, complete):
    wanted, target = plan.wanted, plan.target
    desired, name = wanted.desired, wanted.name
    current = plan.current = read_current(host, plan.ns, target, name)
    if complete is not None:
        complete(current)
    dns = desired is not None and desired["dns"] is not None
    if dns and target.resolv_conf is None:
        raise WgnetError.about("dns", "no resolv.conf is known for netns %s; use container, or a namespace "
                                      "under /var/run/netns" % target.path)
    plan.dns_before = read_text(target.resolv_conf) if dns else None

    if not wanted.present:
        plan.shown = _shown(listed_peers, current["config"]["peers"] if current else ())
        plan.before = view(target, name, current, plan.dns_before, shown=plan.shown)
        plan.changes = ["remove interface %s" % name] if current else []
        if not current or host.check_mode:
            plan.result = result_for(plan.changes, plan.before, None, None)
        return

    plan.backend = host.backend(wanted)
    plan.recreate = current is None or (wanted.backend != "auto" and not made_by(current["device"], plan.backend))
    if plan.recreate:
        changes = ["remove interface %s (backend %s)" % (name, current["device"].backend)] if current else []
        changes.append("create interface %s (backend %s)" % (name, plan.backend.name))
        plan.link_steps = plan_link(NEW_LINK, desired["link"])
        changed_peers = set(desired["device"]["peers"]) | set(current["config"]["peers"] if current else ())
    else:
        plan.fields, plan.peer_ops = plan_device(current["config"], desired["device"])
        plan.link_steps = plan_link(current["link"], desired["link"])
        changes = describe_plan(plan.fields, plan.peer_ops, listed_peers)
        changed_peers = [key for _action, key, _data in plan.peer_ops]
    plan.shown = _shown(listed_peers, changed_peers)
    plan.before = view(target, name, current, plan.dns_before, shown=plan.shown)
    changes += [step.describe() for step in plan.link_steps]
    plan.dns_change = dns and desired["dns"] != plan.dns_before
    if plan.dns_change:
        changes.append("write resolvers to %s" % target.resolv_conf)
    plan.changes = changes

    if not changes:
        plan.result = result_for(changes, plan.before, plan.before,
                                 view(target, name, current, plan.dns_before, with_stats=True, shown=plan.shown))
    elif host.check_mode:
        predicted = predicted_view(plan)
        plan.result = result_for(changes, plan.before, predicted, predicted)


def apply_plan(host, plan):
    """Make the changes a plan decided on; returns the result for the interface."""
    if plan.result is not None:
        return plan.result
    wanted, ns, target, current = plan.wanted, plan.ns, plan.target, plan.current
    name = wanted.name
    if not wanted.present:
        current["device"].delete()
        return result_for(plan.changes, plan.before, None, None)

    if plan.recreate:
        if current:
            current["device"].delete()
        device = plan.backend.create(ns, target.target_id, name, wanted.desired["device"], host.ipr)
        try:
            apply_link(ns, ns.link(name)["index"], plan.link_steps)
        except (NetlinkError, OSError) as exc:
            device.delete()  # roll back what this run created
            raise WgnetError("could not configure %s in the namespace: %s" % (name, exc))
    else:
        try:
            current["device"].apply(plan.fields, plan.peer_ops)
            apply_link(ns, current["index"], plan.link_steps)
        except (WgnetError, NetlinkError, OSError) as exc:
            # A set stops at its first error with the lines before it applied (a new key on the old
            # port, say): put the interface back, so that a failed run counts as not switched.
            option = exc.option if isinstance(exc, WgnetError) else None
            raise WgnetError("%s; %s" % (exc, _restore(host, plan)), option)
    if plan.dns_change:
        write_dns(target.resolv_conf, wanted.desired["dns"])
    now = read_current(host, ns, target, name)
    dns_after = read_text(target.resolv_conf) if wanted.desired["dns"] is not None else None
    return result_for(plan.changes, plan.before, view(target, name, now, dns_after, shown=plan.shown),
                      view(target, name, now, dns_after, with_stats=True, shown=plan.shown))


def _restore(host, plan):
    """Undo what a failed change left applied; says what became of the interface."""
    name, before = plan.wanted.name, plan.current
    try:
        now = read_current(host, plan.ns, plan.target, name)
        if now is None:
            return "%s is gone: run again to create it" % name
        fields, peer_ops = plan_device(now["config"], as_desired(before["config"]))
        now["device"].apply(fields, peer_ops)
        apply_link(plan.ns, now["index"], plan_link(now["link"], before["link"]))
    except (WgnetError, NetlinkError) as exc:
        return "putting %s back as it was failed too (%s): run again to converge" % (name, exc)
    return "%s was put back as it was, nothing changed" % name


def read_current(host, ns, target, name):
    """The interface as it is: {device, config, stats, index, link}, or None when absent."""
    link = ns.link(name)
    if link is None:
        return None
    device = host.device(ns, target.target_id, name, link["kind"])
    if device is None:
        raise unmanaged_link(name, link["kind"])
    config, stats = device.get()
    return {
        "device": device,
        "config": config,
        "stats": stats,
        "index": link["index"],
        "link": {"mtu": link["mtu"], "addresses": ns.addresses(link["index"]), "routes": ns.routes(link["index"]),
                 "up": link["up"]},
    }


def write_dns(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Rewrite in place: a container sees the file through a bind mount of its inode.
    with open(path, "w") as handle:
        handle.write(content)


def view(target, name, current, dns, with_stats=False, shown=None):
    """What the interface looks like, without secrets; None when it is absent.

    Peer counters and handshakes are facts, not configuration: the diff leaves them out.
    With ``shown`` (a plan's), only those peers, and counts.
    """
    if current is None:
        return None
    device = current["device"]
    result = _public_view(current["config"], shown)
    if with_stats:
        for peer in result["peers"]:
            peer.update(current["stats"].get(peer["public_key"], {}))
        if shown is not None:
            result["peers_with_handshake"] = sum(1 for s in current["stats"].values() if s["latest_handshake"])
    result.update(current["link"])
    result.pop("up", None)
    result.update({"name": name, "backend": device.backend, "host_name": device.host_name, "pid": device.pid,
                   "container": target.container, "netns": target.path})
    if dns is not None:
        result["dns"] = dns
    return result


def predicted_view(plan):
    """The view after the changes, as far as it can be known without making them."""
    desired, before, keep = plan.wanted.desired, plan.before, plan.before and not plan.recreate
    after = _public_view(desired["device"], plan.shown)
    if not desired["device"]["listen_port"]:
        after["listen_port"] = before["listen_port"] if keep else 0
    after.update({k: v for k, v in desired["link"].items() if k != "up"})
    after.update({"name": plan.wanted.name, "backend": plan.backend.name, "container": plan.target.container,
                  "netns": plan.target.path})
    if keep:
        after.update({"host_name": before["host_name"], "pid": before["pid"]})
    if desired["dns"] is not None:
        after["dns"] = desired["dns"]
    return after


def _shown(listed_peers, changed_peers):
    """The (keys, count) of the changed peers the views list, and of those left out; None: all peers."""
    if listed_peers is None:
        return None
    keys = sorted(changed_peers)
    return keys[:listed_peers], max(0, len(keys) - listed_peers)


def _public_view(config, shown):
    """public_view of ``config``; with ``shown``, of the peers it lists only, with the counts."""
    if shown is None:
        return public_view(config)
    peers = config["peers"]
    result = public_view(dict(config, peers={k: peers[k] for k in shown[0] if k in peers}))
    result["peer_count"] = len(peers)
    if shown[1]:
        result["peers_not_shown"] = shown[1]
    return result


def result_for(changes, before, after, interface):
    return {
        "changed": bool(changes),
        "changes": changes,
        "diff": {"before": before or {}, "after": after or {}},
        "interface": interface or {},
    }
