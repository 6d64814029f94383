"""Real things for the tests inside the VM: kernel WireGuard hubs in the root namespace,
network namespaces standing in for containers, and a watch on the root namespace's links.

The hubs are made with ip(8) and wg(8) only, never with the code under test.
The VM has no NIC: encrypted packets go over its loopback, where every
WireGuard socket lives (the modules create each interface from the root
namespace, so its UDP socket stays there while the interface is elsewhere).
"""

import json
import os
import threading
import uuid

from pyroute2 import IPRoute
from pyroute2.netns import setns

from wgtest import free_udp_port, genkey, sh

RESULTS = os.environ.get("WGNET_VM_RESULTS")


class RootHub:
    """A kernel WireGuard interface ``name`` in the root namespace: 10.88.<subnet>.1/24."""

    def __init__(self, name, subnet):
        self.name = name
        self.subnet = subnet
        self.address = "10.88.%d.1" % subnet
        self.port = free_udp_port()
        self.endpoint = "127.0.0.1:%d" % self.port
        self.private_key, self.public_key = genkey()
        sh("ip", "link", "add", name, "type", "wireguard")
        key_file = "/run/%s.key" % name
        with open(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(self.private_key + "\n")
        sh("wg", "set", name, "private-key", key_file, "listen-port", str(self.port))
        os.unlink(key_file)
        sh("ip", "addr", "add", self.address + "/24", "dev", name)
        sh("ip", "link", "set", name, "up")

    def peer_spec(self, **extra):
        spec = {"public_key": self.public_key, "endpoint": self.endpoint,
                "allowed_ips": ["10.88.%d.0/24" % self.subnet], "persistent_keepalive": 25}
        spec.update(extra)
        return spec

    def add_peer(self, public_key, address, preshared_key=None):
        extra = []
        if preshared_key:
            psk_file = "/run/%s.psk" % self.name
            with open(os.open(psk_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
                handle.write(preshared_key + "\n")
            extra = ["preshared-key", psk_file]
        sh("wg", "set", self.name, "peer", public_key, "allowed-ips", address + "/32", *extra)
        if extra:
            os.unlink(extra[1])

    def handshakes(self):
        """{peer public key: latest handshake (unix seconds)} as the hub sees it."""
        out = sh("wg", "show", self.name, "latest-handshakes").stdout
        return {line.split()[0]: int(line.split()[1]) for line in out.splitlines() if line.strip()}

    def close(self):
        sh("ip", "link", "del", self.name, check=False)


class Netns:
    """A named network namespace (ip netns add), as a container would have: lo only."""

    def __init__(self, prefix="wgvm"):
        self.name = "%s-%s" % (prefix, uuid.uuid4().hex[:6])
        sh("ip", "netns", "add", self.name)
        self.path = "/var/run/netns/" + self.name
        sh("ip", "-n", self.name, "link", "set", "lo", "up")

    def run(self, *command, check=False):
        return sh("ip", "netns", "exec", self.name, *command, check=check)

    def links(self):
        out = sh("ip", "-n", self.name, "-o", "link", "show").stdout
        return sorted(line.split(":")[1].strip().split("@")[0] for line in out.splitlines())

    def link_kind(self, name):
        out = sh("ip", "-n", self.name, "-d", "-o", "link", "show", name).stdout
        return "wireguard" if " wireguard " in out else out

    def routes(self):
        return [" ".join(line.split()[:3:2])
                for family in ("-4", "-6")
                for line in sh("ip", "-n", self.name, family, "route", "show").stdout.splitlines()]

    def ping(self, address, count=1, source=None):
        extra = ["-I", source] if source else []
        return self.run("ping", "-c", str(count), "-W", "3", *extra, address)

    def close(self):
        sh("ip", "netns", "del", self.name, check=False)


class LinkWatch:
    """Every link event (RTM_NEWLINK, RTM_DELLINK) of one namespace, from now on.

    A thread reads them with pyroute2 (IPRoute().bind(), then get()) until
    it sees ``marker``, an (event, link name) that the caller makes happen
    after what it wants to watch: nothing is missed, and nothing is left.
    """

    def __init__(self, marker, netns_path=None):
        self.marker = marker
        self.netns_path = netns_path
        self.events = []
        self.error = None
        self._ready = threading.Event()
        # pyroute2's sockets belong to the thread that made them: the thread makes its own.
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self._ready.wait(30) or self.error:
            raise AssertionError("cannot watch link events: %s" % self.error)

    def _read(self):
        try:
            if self.netns_path:
                with open(self.netns_path) as target:
                    setns(target.fileno())  # this thread only, for its whole (short) life
            ipr = IPRoute()
            ipr.bind()  # the default groups include RTMGRP_LINK
        except Exception as exc:  # pylint: disable=broad-except
            self.error = exc
            self._ready.set()
            return
        self._ready.set()
        with ipr:
            while True:
                for msg in ipr.get():
                    if msg.get("event") not in ("RTM_NEWLINK", "RTM_DELLINK"):
                        continue
                    info = msg.get_attr("IFLA_LINKINFO")
                    kind = info.get_attr("IFLA_INFO_KIND") if info else None
                    self.events.append((msg.get("event"), msg.get_attr("IFLA_IFNAME"), kind))
                    if self.events[-1][:2] == self.marker:
                        return

    def wait(self, timeout=60.0):
        """The events up to and with the marker."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("no %s for %s within %ss; saw %s" % (self.marker + (timeout, self.events)))
        return list(self.events)

    def naming(self, name):
        return [e for e in self.events if e[1] == name]


def record(name, value):
    """Keep a figure or a piece of evidence in the results the host gets back."""
    if not RESULTS:
        return
    path = os.path.join(RESULTS, "evidence.json")
    data = {}
    if os.path.exists(path):
        with open(path) as handle:
            data = json.load(handle)
    data[name] = value
    with open(path, "w") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
