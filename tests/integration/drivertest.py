"""The wgnet network driver run for real: its own plugin name and files, a wireguard-go hub, a real dockerd.

Shared by tests/integration/test_network_driver.py and bench/driver_restart.py.
Each DriverHost has a plugin name of its own (wgnett<tag>), so runs in
parallel and a deployed driver (wgnet) never meet.
"""

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid

from collection_link import COLLECTIONS
from wgtest import APP_IMAGE, Hub, random_b64, sh, wait_for

from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import paired_addresses

DRIVER = "ansible_collections.wgnet.containers.plugins.module_utils.driver.server"
HOST_PREFIX = "wgd"


class DriverHost:
    """A Docker host as the network_driver role leaves it: a 0600 key file for a slice, and the driver."""

    def __init__(self, hub_subnet, slice_prefix=26):
        self.tag = uuid.uuid4().hex[:6]
        self.plugin = "wgnett" + self.tag
        self.hub = Hub(subnet=hub_subnet)
        self.slice = "10.77.%d.0/%d" % (hub_subnet, slice_prefix)
        # The pool, as wgnet_pool: IPv4 and the IPv6 network whose addresses pair with it by offset.
        self.pools = ["10.77.%d.0/24" % hub_subnet, "fd77:%d::/64" % hub_subnet]
        self.hub_address6 = "fd77:%d::1" % hub_subnet
        self.dir = tempfile.mkdtemp(prefix="wgnet-driver-")
        self.socket = "/run/docker/plugins/%s.sock" % self.plugin
        self.config = os.path.join(self.dir, "driver.json")
        self.state = os.path.join(self.dir, "state.json")
        self.allocations = os.path.join(self.dir, "allocations.json")
        self.log = os.path.join(self.dir, "driver.log")
        sh("ip", "-n", self.hub.netns, "addr", "add", self.hub_address6 + "/64", "dev", "hub0", "nodad")
        self.public_keys = self.write_config(self.config)
        self.hub_accepts(self.public_keys)
        self.process = None
        self.networks, self.containers = [], []

    def write_config(self, path):
        """Keys of the slice derived here from a new seed, as the role derives them on the controller, written
        to ``path`` (0600); returns {address: public key}."""
        deriver = KeyDeriver(random_b64(), "")
        # The first address is Docker's gateway and the hub's: no container gets it.
        addresses = [str(a) for a in ipaddress.ip_network(self.slice).hosts()][1:]
        entries = deriver.derive_many(addresses, include_private=True)
        hub = dict(self.hub.peer_spec(allowed_ips=self.pools), address=self.hub.address)
        config = {"slice": self.slice, "pools": self.pools, "keys": {e["address"]: e["private_key"] for e in entries},
                  "backend": "userspace", "hubs": {"main": hub}}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(config, handle)
        return {e["address"]: e["public_key"] for e in entries}

    def hub_accepts(self, public_keys):
        """The hub takes these keys as its peers for their addresses (a peer's allowed IPs move to the new key)."""
        peers = []
        for address, public_key in sorted(public_keys.items()):
            pair = paired_addresses(address, self.pools, host_routes=True)
            peers += ["peer", public_key, "allowed-ips", ",".join(pair)]
        sh("wg", "set", self.hub.host_name, *peers)

    def driver_command(self, *extra):
        return [sys.executable, "-m", DRIVER, "--socket", self.socket, "--config", self.config, "--state", self.state,
                "--allocations", self.allocations, *extra]

    def start(self):
        log = open(self.log, "a")
        self.process = subprocess.Popen(
            self.driver_command(), env=dict(os.environ, PYTHONPATH=COLLECTIONS), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        wait_for(lambda: os.path.exists(self.socket), "the driver's socket")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(10)

    def network(self, *options, subnet=None):
        """docker network create; returns (name, result)."""
        name = "wgt-drv-%s-%d" % (self.tag, len(self.networks))
        result = sh("docker", "network", "create", "-d", self.plugin, "--subnet", subnet or self.slice,
                    *options, name, check=False)
        if result.returncode == 0:
            self.networks.append(name)
        return name, result

    def run(self, network, *extra):
        name = "wgt-drv-%s-c%d" % (self.tag, len(self.containers))
        self.containers.append(name)
        return name, sh("docker", "run", "-d", "--name", name, "--network", network, *extra, APP_IMAGE,
                        "sleep", "infinity", check=False)

    def address_of(self, container):
        out = sh("docker", "exec", container, "ip", "-4", "-o", "addr", "show", "dev", "wg0").stdout
        return out.split()[3].split("/")[0]

    def driver_log(self):
        with open(self.log) as handle:
            return handle.read()

    def remove_all(self):
        """Remove the containers and networks made so far."""
        for name in self.containers:
            sh("docker", "rm", "-f", name, check=False)
        for name in self.networks:
            sh("docker", "network", "rm", name, check=False)
        self.containers, self.networks = [], []

    def close(self):
        self.remove_all()
        if self.process is not None and self.process.poll() is None:
            self.stop()
        self.hub.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def host_links():
    """The driver's interfaces in the host's namespace (none should stay there)."""
    out = sh("ip", "-o", "link", "show").stdout
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()
            if line.split(":")[1].strip().startswith(HOST_PREFIX)]


def driver_processes():
    """The driver's wireguard-go processes in this machine's PID namespace (not in Molecule's hosts)."""
    out = sh("pgrep", "--ns", str(os.getpid()), "--nslist", "pid", "-f", "wireguard-go -f " + HOST_PREFIX,
             check=False).stdout
    return {int(p) for p in out.split()}
