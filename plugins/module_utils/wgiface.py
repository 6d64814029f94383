# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile one WireGuard interface in a container's namespace with its description.

Read the actual state, compare it with the desired state, change only the
difference, and report before and after without secrets. The modules
wg_container_iface and wg_container_ifaces are thin layers over this.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import fcntl
import ipaddress
import os
import resource
import stat
import time

from ansible_collections.wgnet.containers.plugins.module_utils import wgdevice, wgquick
from ansible_collections.wgnet.containers.plugins.module_utils.netns import (
    HAS_PYROUTE2,
    Namespace,
    NamespaceError,
    NetlinkError,
    ifname_problem,
)
from ansible_collections.wgnet.containers.plugins.module_utils.targets import (
    DockerTargets,
    TargetError,
    check_only_network,
    netns_target,
)
from ansible_collections.wgnet.containers.plugins.module_utils.wgconfig import (
    as_desired,
    canonical_cidr,
    canonical_interface_address,
    describe_plan,
    normalize_peers,
    plan_device,
    public_view,
)
from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import (
    WgKeyError,
    WgnetError,
    b64,
    crypto_available,
    decode_key,
    public_key,
)

if HAS_PYROUTE2:
    from pyroute2 import IPRoute

LOCK_PATH = os.path.join(wgdevice.RUN_DIR, "lock")
LOCK_TIMEOUT = 120  # seconds
LOCK_POLL = 0.05
MIN_MTU, MAX_MTU = 1280, 65535
SIGNAL_POLL = 0.02  # seconds between looks at a switch signal: the outage it may add
OTHER_OPEN_FILES = 256  # besides the plans' namespaces: Docker client, lock, wireguard-go sockets
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
        mtu=dict(type="int", default=1420),
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


class IfaceError(WgnetError):
    """A failure that names its option; the module turns it into fail_json."""

    def __init__(self, message, option=None):
        super(IfaceError, self).__init__(message)
        self.option = option


# Desired state ------------------------------------------------------------------

def read_private_key(path):
    try:
        info = os.stat(path)
        with open(path) as handle:
            text = handle.read().strip()
    except (IOError, OSError) as exc:
        raise IfaceError("private_key_path: cannot read %s (%s)" % (path, exc.strerror), "private_key_path")
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise IfaceError("private_key_path: %s is accessible to group or others (mode %04o); chmod 600 it"
                         % (path, stat.S_IMODE(info.st_mode)), "private_key_path")
    return text


def desired_state(spec):
    """Check every option and return the interface as it should be. No side effects."""
    name = spec["name"]
    if ifname_problem(name):
        raise WgKeyError("name", ifname_problem(name))
    if not MIN_MTU <= spec["mtu"] <= MAX_MTU:
        raise WgKeyError("mtu", "%d is out of range (%d to %d)" % (spec["mtu"], MIN_MTU, MAX_MTU))
    if not 0 <= spec["listen_port"] <= 65535:
        raise WgKeyError("listen_port", "%d is out of range (0 to 65535)" % spec["listen_port"])
    if not 0 <= spec["fwmark"] <= 0xFFFFFFFF:
        raise WgKeyError("fwmark", "%d is out of range (0 to 4294967295)" % spec["fwmark"])
    if spec["private_key_path"]:
        private = b64(decode_key(read_private_key(spec["private_key_path"]), "private_key_path"))
    elif spec["private_key"] is not None:
        private = b64(decode_key(spec["private_key"], "private_key"))
    else:
        private = None
    addresses = sorted({canonical_interface_address(a, "address[%d]" % i) for i, a in enumerate(spec["address"])})
    routes = {canonical_cidr(r, "routes[%d]" % i, strict=True) for i, r in enumerate(spec["routes"])}
    if spec["default_route"]:
        versions = {ipaddress.ip_interface(a).version for a in addresses} or {4}
        routes.update({4: "0.0.0.0/0", 6: "::/0"}[v] for v in versions)
    for index, server in enumerate(spec["dns"]):
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise WgKeyError("dns[%d]" % index, "%r is not an IP address" % server)
    return {
        "device": {"private_key": private, "listen_port": spec["listen_port"], "fwmark": spec["fwmark"],
                   "peers": normalize_peers(spec["peers"], own_public_key=public_key(private) if private else None)},
        "link": {"mtu": spec["mtu"], "addresses": addresses, "routes": sorted(routes), "up": True},
        "dns": render_resolv_conf(spec["dns"]) if spec["dns"] else None,
    }


def render_resolv_conf(servers):
    return DNS_HEADER + "".join("nameserver %s\n" % s for s in servers)


# Link plan ------------------------------------------------------------------------

def plan_link(current, desired):
    """Operations that make a link's MTU, addresses, state and routes match."""
    operations = []
    if current["mtu"] != desired["mtu"]:
        operations.append(("mtu", desired["mtu"]))
    for cidr in sorted(set(current["addresses"]) - set(desired["addresses"])):
        operations.append(("del_address", cidr))
    for cidr in desired["addresses"]:
        if cidr not in current["addresses"]:
            operations.append(("add_address", cidr))
    if not current["up"]:
        operations.append(("up", True))
    for cidr in sorted(set(current["routes"]) - set(desired["routes"])):
        operations.append(("del_route", cidr))
    for cidr in desired["routes"]:
        if cidr not in current["routes"]:
            operations.append(("add_route", cidr))
    return operations


def apply_link(ns, index, operations):
    for action, value in operations:
        if action == "mtu":
            ns.set_link(index, mtu=value)
        elif action == "up":
            ns.set_link(index, state="up")
        elif action == "add_address":
            ns.add_address(index, value)
        elif action == "del_address":
            ns.del_address(index, value)
        elif action == "add_route":
            ns.replace_route(index, value)
        elif action == "del_route":
            ns.del_route(index, value)


def describe_link(operations):
    words = {"mtu": "set mtu", "up": "set link up", "add_address": "add address", "del_address": "remove address",
             "add_route": "add route", "del_route": "remove route"}
    return ["%s %s" % (words[a], v) if a != "up" else words[a] for a, v in operations]


# The host ------------------------------------------------------------------------

class Host:
    """What one module run shares across interfaces: lock, sockets, probes."""

    def __init__(self, check_mode):
        self.check_mode = check_mode
        self.docker = DockerTargets()
        self._ipr = None
        self._kernel = None
        self._lock = None

    def lock(self, timeout=LOCK_TIMEOUT):
        """A host-wide lock: two runs at once must not interleave their changes.

        Held only while reading, deciding and changing, never while waiting for a switch signal;
        so a holder never keeps it long, and a wait past ``timeout`` means something is wrong.
        """
        os.makedirs(wgdevice.RUN_DIR, mode=0o755, exist_ok=True)
        handle = open(LOCK_PATH, "a+")
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError):
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    handle.close()
                    raise IfaceError("lock: %s is held by another wgnet run (pid %s) for more than %g s; nothing "
                                     "was changed. Run again once it ends, or stop it" % (LOCK_PATH, holder, timeout),
                                     "lock")
                time.sleep(LOCK_POLL)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock = handle

    def unlock(self):
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @property
    def ipr(self):
        if self._ipr is None:
            self._ipr = IPRoute()
        return self._ipr

    def kernel_available(self):
        if self._kernel is None:
            self._kernel = wgdevice.kernel_supports_wireguard()
        return self._kernel

    def backend(self, spec):
        choice = spec["backend"]
        if choice == "auto":
            choice = "kernel" if self.kernel_available() else "userspace"
        if choice == "kernel":
            wgdevice.KernelBackend.check_available()
            return wgdevice.KernelBackend
        backend = wgdevice.UserspaceBackend(spec["userspace_binary"])
        backend.check_available()
        return backend

    def target(self, spec):
        if spec["container"]:
            return self.docker.target(spec["container"])
        return netns_target(spec["netns"])

    def close(self):
        if self._ipr is not None:
            self._ipr.close()
        self.docker.close()
        self.unlock()


# Reconcile ---------------------------------------------------------------------

def read_current(ns, target, name, userspace):
    """The interface as it is: {device, link, index} or None when absent."""
    link = ns.link(name)
    if link is None:
        return None
    if link["kind"] == "wireguard":
        device = wgdevice.KernelBackend.find(ns, name)
    elif link["kind"] == "tun":
        device = userspace.find(ns, target.target_id, name)
        if device is None:
            raise IfaceError("name: %s exists in the namespace but is a TUN device that wgnet.containers does not "
                             "manage; remove it or choose another name" % name, "name")
    else:
        raise IfaceError("name: %s exists in the namespace and is a %s link, not WireGuard"
                         % (name, link["kind"] or "plain"), "name")
    config, stats = device.get()
    return {
        "device": device,
        "config": config,
        "stats": stats,
        "index": link["index"],
        "link": {"mtu": link["mtu"], "addresses": ns.addresses(link["index"]), "routes": ns.routes(link["index"]),
                 "up": link["up"]},
    }


def read_dns(path):
    return None if path is None else wgquick.read(path)


def write_dns(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Rewrite in place: a container sees the file through a bind mount of its inode.
    with open(path, "w") as handle:
        handle.write(content)


def view(target, name, current, dns, with_stats=False):
    """What the interface looks like, without secrets; None when it is absent.

    Peer counters and handshakes are facts, not configuration: the diff leaves them out.
    """
    if current is None:
        return None
    device = current["device"]
    result = public_view(current["config"])
    if with_stats:
        for peer in result["peers"]:
            peer.update(current["stats"].get(peer["public_key"], {}))
    result.update(current["link"])
    result.pop("up", None)
    result.update({"name": name, "backend": device.backend, "host_name": device.host_name, "pid": device.pid,
                   "container": target.container, "netns": target.path})
    if dns is not None:
        result["dns"] = dns
    return result


def reconcile(host, spec, target=None, desired=None):
    """Make one interface match ``spec``. Returns the module result for it.

    ``target`` and ``desired`` may be given when the caller already has them
    (a hub: the host's own namespace, and a desired state it also writes to disk).
    """
    plan = plan_interface(host, spec, target, desired)
    try:
        return apply_plan(host, plan)
    finally:
        plan.close()


class Plan:
    """One interface read and decided on, with nothing changed yet; holds its namespace open."""

    def __init__(self, spec, desired, target=None, ns=None):
        self.spec, self.desired, self.target, self.ns = spec, desired, target, ns
        self.result = None  # set when there is nothing to apply (no change, check mode, gone)
        self.current = self.before = self.backend = self.userspace = None
        self.dns_before = None
        self.changes, self.fields, self.peer_ops, self.link_ops = [], {}, [], []
        self.recreate = self.dns_change = False

    def close(self):
        if self.ns is not None:
            self.ns.close()
            self.ns = None


def plan_interface(host, spec, target=None, desired=None):
    """Read one interface and decide what would change. The caller closes the plan."""
    if desired is None and spec["state"] == "present":
        desired = desired_state(spec)
    plan = Plan(spec, desired)
    try:
        plan.target = target or host.target(spec)
    except TargetError:
        if spec["state"] == "absent":
            plan.result = result_for([], None, None, None)  # no running container: nothing to remove
            return plan
        raise
    try:
        plan.ns = Namespace(plan.target.path)
    except NamespaceError as exc:
        raise IfaceError("%s: %s" % (plan.target.option, exc), plan.target.option)
    try:
        if target is None and spec["state"] == "present":  # a user's target; the hub and the driver pass their own
            check_only_network(plan.target, plan.ns, spec["name"], spec["allow_other_interfaces"])
        _decide(host, plan)
    except Exception:
        plan.close()
        raise
    return plan


def _decide(host, plan):
    spec, desired, target, ns = plan.spec, plan.desired, plan.target, plan.ns
    name = spec["name"]
    plan.userspace = wgdevice.UserspaceBackend(spec["userspace_binary"])
    current = plan.current = read_current(ns, target, name, plan.userspace)
    if spec["dns"] and target.resolv_conf is None:
        raise IfaceError("dns: no resolv.conf is known for netns %s; use container, or a namespace "
                         "under /var/run/netns" % target.path, "dns")
    plan.dns_before = read_dns(target.resolv_conf) if spec["dns"] else None
    plan.before = view(target, name, current, plan.dns_before)

    if spec["state"] == "absent":
        plan.changes = ["remove interface %s" % name] if current else []
        if not current or host.check_mode:
            plan.result = result_for(plan.changes, plan.before, None, None)
        return

    backend = plan.backend = host.backend(spec)
    plan.recreate = current is None or (spec["backend"] != "auto" and current["device"].backend != backend.name)
    if plan.recreate:
        changes = (["remove interface %s (backend %s)" % (name, current["device"].backend)] if current else [])
        changes.append("create interface %s (backend %s)" % (name, backend.name))
        base = {"mtu": None, "addresses": [], "routes": [], "up": False}
        plan.link_ops = plan_link(base, desired["link"])
    else:
        plan.fields, plan.peer_ops = plan_device(current["config"], desired["device"])
        plan.link_ops = plan_link(current["link"], desired["link"])
        changes = describe_plan(plan.fields, plan.peer_ops)
    changes += describe_link(plan.link_ops)
    plan.dns_change = desired["dns"] is not None and desired["dns"] != plan.dns_before
    if plan.dns_change:
        changes.append("write resolvers to %s" % target.resolv_conf)
    plan.changes = changes

    if not changes:
        plan.result = result_for(changes, plan.before, plan.before,
                                 view(target, name, current, plan.dns_before, with_stats=True))
    elif host.check_mode:
        predicted = predicted_view(plan.before, desired, spec, target, backend, plan.recreate)
        plan.result = result_for(changes, plan.before, predicted, predicted)


def apply_plan(host, plan):
    """Make the changes a plan decided on; returns the module result for the interface."""
    if plan.result is not None:
        return plan.result
    spec, ns, target, current = plan.spec, plan.ns, plan.target, plan.current
    name = spec["name"]
    if spec["state"] == "absent":
        _backend_of(current["device"], plan.userspace).delete(ns, current["device"], name)
        return result_for(plan.changes, plan.before, None, None)

    if plan.recreate:
        if current:
            _backend_of(current["device"], plan.userspace).delete(ns, current["device"], name)
        device = _create(host, plan.backend, ns, target, name, plan.desired["device"])
        try:
            apply_link(ns, ns.link(name)["index"], plan.link_ops)
        except NetlinkError as exc:
            plan.backend.delete(ns, device, name)  # roll back what this run created
            raise IfaceError("could not configure %s in the namespace: %s" % (name, exc))
    else:
        try:
            current["device"].apply(plan.fields, plan.peer_ops)
            apply_link(ns, current["index"], plan.link_ops)
        except (WgnetError, NetlinkError) as exc:
            # A set stops at its first error with the lines before it applied (a new key on the old
            # port, say): put the interface back, so that a failed run counts as not switched.
            raise IfaceError("%s; %s" % (exc, _restore(ns, target, name, plan)), getattr(exc, "option", None))
    if plan.dns_change:
        write_dns(target.resolv_conf, plan.desired["dns"])
    now = read_current(ns, target, name, plan.userspace)
    dns_after = read_dns(target.resolv_conf) if spec["dns"] else None
    return result_for(plan.changes, plan.before, view(target, name, now, dns_after),
                      view(target, name, now, dns_after, with_stats=True))


def _restore(ns, target, name, plan):
    """Undo what a failed change left applied; says what became of the interface."""
    before = plan.current
    try:
        now = read_current(ns, target, name, plan.userspace)
        if now is None:
            return "%s is gone: run again to create it" % name
        fields, peer_ops = plan_device(now["config"], as_desired(before["config"]))
        now["device"].apply(fields, peer_ops)
        apply_link(ns, now["index"], plan_link(now["link"], before["link"]))
    except (WgnetError, NetlinkError) as exc:
        return "putting %s back as it was failed too (%s): run again to converge" % (name, exc)
    return "%s was put back as it was, nothing changed" % name


def _backend_of(device, userspace):
    return userspace if device.backend == "userspace" else wgdevice.KernelBackend


def _create(host, backend, ns, target, name, config):
    if backend.name == "userspace":
        return backend.create(ns, target.target_id, name, config, host.ipr)
    return backend.create(ns, name, config, host.ipr)


def predicted_view(before, desired, spec, target, backend, recreate):
    """The view after the changes, as far as it can be known without making them."""
    after = public_view(desired["device"])
    if not desired["device"]["listen_port"]:
        after["listen_port"] = before["listen_port"] if before and not recreate else 0
    after.update({k: v for k, v in desired["link"].items() if k != "up"})
    after.update({"name": spec["name"], "backend": backend.name, "container": target.container,
                  "netns": target.path})
    if before and not recreate:
        after.update({"host_name": before["host_name"], "pid": before["pid"]})
    if desired["dns"] is not None:
        after["dns"] = desired["dns"]
    return after


def result_for(changes, before, after, interface):
    return {
        "changed": bool(changes),
        "changes": changes,
        "diff": {"before": before or {}, "after": after or {}},
        "interface": interface or {},
    }


def reconcile_many(host, specs, before_changes=None):
    """Reconcile a list of interfaces; the first failure names its element.

    Every interface is read and decided on first, then all are changed in one tight loop, so
    that a host's containers switch (to new keys, say) within moments of each other.
    ``before_changes()``, when given, runs between the two, and only when there is a change.
    """
    _refuse_repeats(specs)
    _room_for_open_namespaces(len(specs))
    plans = []
    try:
        for index, spec in enumerate(specs):
            with _labelled(index, spec):
                plans.append(plan_interface(host, spec))
        if before_changes is not None and any(p.result is None for p in plans):
            # Wait without the host lock (a container start through the network driver needs it),
            # then read and decide again: another run may have changed something meanwhile.
            host.unlock()
            before_changes()
            host.lock()
            for plan in plans:
                plan.close()
            plans = []
            for index, spec in enumerate(specs):
                with _labelled(index, spec):
                    plans.append(plan_interface(host, spec))
        results, failures = [], []
        for index, (spec, plan) in enumerate(zip(specs, plans)):
            try:  # one that fails (and is put back) must not hold back the others: a rotation's hub has switched
                with _labelled(index, spec):
                    results.append(apply_plan(host, plan))
            except IfaceError as exc:
                failures.append(exc)
    finally:
        for plan in plans:
            plan.close()
    if failures:
        raise IfaceError("%s; the other %d interfaces were changed as planned"
                         % ("; ".join(str(f) for f in failures), len(results)), failures[0].option)
    before, after, report = {}, {}, []
    for spec, result in zip(specs, results):
        label = _label(spec)
        if result["changed"]:
            before[label], after[label] = result["diff"]["before"], result["diff"]["after"]
        report.append({"container": spec["container"], "netns": spec["netns"], "name": spec["name"],
                       "changed": result["changed"], "changes": result["changes"],
                       "interface": result["interface"]})
    return {"changed": any(r["changed"] for r in report), "results": report,
            "diff": {"before": before, "after": after}}


def _refuse_repeats(specs):
    """One interface given twice would be planned twice, and the second plan would meet the first's change."""
    seen = {}
    for index, spec in enumerate(specs):
        key = (spec["container"] or spec["netns"], spec["name"])
        if key in seen:
            raise IfaceError("interfaces[%d] (%s): the same interface as interfaces[%d]; give each once"
                             % (index, _label(spec), seen[key]), "interfaces[%d]" % index)
        seen[key] = index


def _room_for_open_namespaces(count):
    """Each plan keeps its namespace and a netlink socket open until the switch: allow that many files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * count + OTHER_OPEN_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))


def wait_for_signal(path, timeout):
    """Wait until ``path`` says switch (return) or abort (IfaceError); remove it after reading."""
    deadline = time.monotonic() + timeout
    word = ""
    while time.monotonic() < deadline:
        try:
            with open(path) as handle:
                word = handle.read().strip()
        except IOError:
            word = ""
        if word == "switch" or word.startswith("abort"):
            os.unlink(path)
            if word == "switch":
                return
            raise IfaceError("switch_signal: %s says %s; nothing was changed" % (path, word), "switch_signal")
        time.sleep(SIGNAL_POLL)
    raise IfaceError("switch_signal: %s did not say switch or abort within %d s (it holds %r); nothing was changed"
                     % (path, timeout, word), "switch_signal")


def _label(spec):
    return "%s/%s" % (spec["container"] or spec["netns"], spec["name"])


@contextlib.contextmanager
def _labelled(index, spec):
    """Name the element of ``interfaces`` a failure belongs to."""
    try:
        yield
    except (WgnetError, NetlinkError) as exc:
        option = getattr(exc, "option", None)
        raise IfaceError("interfaces[%d] (%s): %s" % (index, _label(spec), exc),
                         "interfaces[%d]%s" % (index, "." + option if option else ""))


# Module glue ---------------------------------------------------------------------

def run_on_host(module, work):
    """Run ``work(host)`` under the host lock, after reaping, mapping failures to fail_json."""
    # Imported here: the network driver uses this file on hosts without ansible-core.
    from ansible.module_utils.basic import missing_required_lib

    if not HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib("pyroute2"))
    if not crypto_available():
        module.fail_json(msg=missing_required_lib("cryptography, or pycryptodome >= 3.21"))
    host = Host(module.check_mode)
    try:
        host.lock()
        reaped = wgdevice.reap_userspace(module.check_mode)
        result = work(host)
    except (WgnetError, NetlinkError) as exc:
        module.fail_json(msg=str(exc), option=getattr(exc, "option", None))
    finally:
        host.close()
    result["reaped"] = reaped
    result["changed"] = result["changed"] or bool(reaped)
    return result
