"""A fake host for the engine: a namespace, a backend and devices in memory, no root needed.

They follow the contracts the engine relies on (engine.host.Host, device.backends): the same
calls, the same shapes, and a device that applies config.plan_device's fields and operations.
"""

import copy
import itertools

from ansible_collections.wgnet.containers.plugins.module_utils.device.config import ZERO_KEY
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import NetlinkError
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.targets import Target


class FakeNamespace:
    def __init__(self, path="/var/run/netns/fake"):
        self.path, self.identity, self.fd = path, (1, 2), -1
        self.links_by_name = {}
        self.indexes = itertools.count(2)  # one per link, whatever thread adds it
        self.fail_on = None  # a method that raises NetlinkError once, to test undoing
        self.closed = False

    def close(self):
        self.closed = True

    def _by_index(self, index):
        return next(link for link in self.links_by_name.values() if link["index"] == index)

    def _maybe_fail(self, method):
        if self.fail_on == method:
            self.fail_on = None
            raise NetlinkError(17, "File exists")

    def add_link(self, name, kind):
        self.links_by_name[name] = {"index": next(self.indexes), "kind": kind, "mtu": 1420, "up": False,
                                    "addresses": set(), "routes": set()}

    def link(self, name):
        link = self.links_by_name.get(name)
        return None if link is None else {k: link[k] for k in ("index", "kind", "mtu", "up")}

    def links(self):
        return [{"name": name, "kind": link["kind"], "up": link["up"], "addressed": bool(link["addresses"])}
                for name, link in sorted(self.links_by_name.items())]

    def delete_link(self, index):
        name = next(n for n, link in self.links_by_name.items() if link["index"] == index)
        del self.links_by_name[name]

    def set_link(self, index, mtu=None, state=None):
        self._maybe_fail("set_link")
        link = self._by_index(index)
        if mtu is not None:
            link["mtu"] = mtu
        if state == "up":
            link["up"] = True

    def addresses(self, index):
        return sorted(self._by_index(index)["addresses"])

    def add_address(self, index, cidr):
        self._maybe_fail("add_address")
        self._by_index(index)["addresses"].add(cidr)

    def del_address(self, index, cidr):
        self._by_index(index)["addresses"].discard(cidr)

    def routes(self, index):
        return sorted(self._by_index(index)["routes"])

    def replace_route(self, index, cidr):
        self._maybe_fail("replace_route")
        self._by_index(index)["routes"].add(cidr)

    def del_route(self, index, cidr):
        self._by_index(index)["routes"].discard(cidr)


class FakeDevice:
    host_name = None
    pid = None

    def __init__(self, backend, ns, ifname):
        self.backend, self.ns, self.ifname = backend, ns, ifname
        self.config = {"private_key": None, "listen_port": 0, "fwmark": 0, "peers": {}}

    def get(self):
        return copy.deepcopy(self.config), {}

    def apply(self, fields, operations):
        self.config.update(fields)
        peers = self.config["peers"]
        for action, key, data in operations:
            if action == "remove":
                del peers[key]
            elif action == "add":
                peers[key] = copy.deepcopy(data)
            else:
                peers[key].update(data)
                if peers[key]["preshared_key"] == ZERO_KEY:
                    peers[key]["preshared_key"] = None

    def delete(self):
        self.ns.delete_link(self.ns.link(self.ifname)["index"])
        FakeHost.devices.pop((self.ns.path, self.ifname), None)


class FakeBackend:
    def __init__(self, name):
        self.name = name

    def create(self, ns, target_id, ifname, config, host_ipr):
        ns.add_link(ifname, "wireguard")
        device = FakeDevice(self.name, ns, ifname)
        device.apply({k: config[k] for k in ("private_key", "listen_port", "fwmark")},
                     [("add", key, peer) for key, peer in config["peers"].items()])
        FakeHost.devices[(ns.path, ifname)] = device
        return device


class FakeHost:
    """engine.host.Host's part the engine uses."""

    devices = {}

    def __init__(self, ns, resolv_conf=None, check_mode=False, backend="kernel"):
        FakeHost.devices = {}
        self.ns, self.check_mode, self.ipr = ns, check_mode, None
        self.default_backend = backend
        self.target_ = Target(ns.path, "netns:1:2", resolv_conf=resolv_conf)

    def target(self, wanted):
        return self.target_

    def namespace(self, path):
        return self.ns

    def backend(self, wanted):
        return FakeBackend(self.default_backend if wanted.backend == "auto" else wanted.backend)

    def device(self, ns, target_id, name, kind):
        return FakeHost.devices.get((ns.path, name))

    def lock(self):
        pass

    def unlock(self):
        pass
