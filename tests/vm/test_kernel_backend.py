"""The kernel backend on a real WireGuard kernel: wg_container_iface and wg_hub inside the test VM.

Namespaces made with `ip netns add` stand in for containers (``netns:``); the
hubs live in the VM's root namespace, which plays the Docker host. Packets
are real: every ping goes through the tunnels, encrypted over the VM's loopback.
The cases every backend shares (idempotence, check mode, diff, peer
reconciliation) are in tests/integration/ifacecases.py, collected here too.
"""

import base64
import os
import time

import pytest

# The shared cases, run here against this module's box (a namespace) and hub2.
from ifacecases import (  # pylint: disable=unused-import
    test_a_peer_with_many_allowed_ips_is_written_and_read_back_whole,
    test_changing_one_peer_keeps_the_other_session,
    test_idempotence_check_mode_and_diff,
)
from ifacecases import assert_ok
from vmtest import LinkWatch, Netns, RootHub, record
from wgtest import genkey, run_module, sh

MODULE = "wg_container_iface"


@pytest.fixture(scope="module", autouse=True)
def forwarding():
    """The root namespace forwards between a hub's peers, as a hub host does."""
    with open("/proc/sys/net/ipv4/ip_forward", "w") as handle:
        handle.write("1\n")


@pytest.fixture(scope="module")
def hub():
    hub = RootHub("wgvmhub1", subnet=1)
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def hub2():
    hub = RootHub("wgvmhub2", subnet=2)
    yield hub
    hub.close()


_hosts = iter(range(2, 250))


class Box:
    """A namespace with a key registered on the hub, ready to attach (a container, in effect; a ``box`` of ifacecases)."""

    backend = "kernel"

    def __init__(self, hub):
        self.hub = hub
        self.ns = Netns()
        self.address = "10.88.%d.%d" % (hub.subnet, next(_hosts))
        self.private_key, self.public_key = genkey()
        hub.add_peer(self.public_key, self.address)

    def args(self, **extra):
        args = {"netns": self.ns.path, "address": [self.address + "/32"], "private_key": self.private_key,
                "peers": [self.hub.peer_spec()], "backend": "kernel"}
        args.update(extra)
        return args

    def ping_hub(self, count=1):
        return self.ns.ping(self.hub.address, count)

    def ping(self, address, count=1, source=None):
        return self.ns.ping(address, count, source)

    def links(self):
        return self.ns.links()

    def mtu(self):
        return int(self.ns.run("cat", "/sys/class/net/wg0/mtu", check=True).stdout)

    def wg_show(self, _facts, *what):
        return self.ns.run("wg", "show", "wg0", *what, check=True).stdout

    def close(self):
        self.ns.close()  # its interface goes with it


@pytest.fixture
def box(hub):
    made = Box(hub)
    yield made
    made.close()


@pytest.fixture
def box2(hub):
    made = Box(hub)
    yield made
    made.close()


def timed(*args, **kwargs):
    start = time.monotonic()
    result = run_module(*args, **kwargs)
    result["_seconds"] = round(time.monotonic() - start, 2)
    return result


def udp_sockets(netns=None):
    """Local ports of the UDP sockets bound in the root namespace (or ``netns``)."""
    prefix = ["ip", "netns", "exec", netns] if netns else []
    out = sh(*prefix, "ss", "-H", "-u", "-a", "-n").stdout
    return {int(line.split()[3].rpartition(":")[2]) for line in out.splitlines() if line.strip()}


def test_auto_picks_the_kernel_and_the_socket_stays_in_the_root_namespace(box):
    result = assert_ok(timed(MODULE, box.args(backend="auto")))
    record("attach_one_seconds", result["_seconds"])
    assert "create interface wg0 (backend kernel)" in result["changes"], result["changes"]
    facts = result["interface"]
    assert facts["backend"] == "kernel" and facts["host_name"] is None and facts["pid"] is None
    assert facts["netns"] == box.ns.path and facts["public_key"] == box.public_key
    assert box.ns.links() == ["lo", "wg0"] and box.ns.link_kind("wg0") == "wireguard"
    assert box.ns.routes() == ["default wg0"]
    assert sh("ip", "link", "show", "wg0", check=False).returncode != 0  # not in the root namespace
    assert box.ping_hub(count=2).returncode == 0

    # WireGuard keeps the UDP socket where the link was created: the root namespace.
    port = facts["listen_port"]
    assert port > 0
    assert port in udp_sockets() and port not in udp_sockets(box.ns.name)
    # Read back from the kernel after the ping: the session's facts, and nothing to change.
    again = assert_ok(run_module(MODULE, box.args(backend="auto")))
    assert again["changed"] is False, again["changes"]
    peer = again["interface"]["peers"][0]
    assert peer["public_key"] == box.hub.public_key and peer["latest_handshake"] > 0 and peer["transfer_rx"] > 0

    # state: absent removes the interface, and with it the socket in the root namespace.
    gone = assert_ok(run_module(MODULE, {"netns": box.ns.path, "state": "absent"}))
    assert gone["changed"] and gone["changes"] == ["remove interface wg0"]
    assert box.ns.links() == ["lo"] and port not in udp_sockets()
    assert assert_ok(run_module(MODULE, {"netns": box.ns.path, "state": "absent"}))["changed"] is False


def test_two_namespaces_reach_the_hub_and_each_other(box, box2):
    for made in (box, box2):
        result = assert_ok(run_module(MODULE, made.args()))
        assert result["changed"] and result["interface"]["backend"] == "kernel"
    for made in (box, box2):
        assert made.ping_hub().returncode == 0, made.address
    # Namespace to namespace, through the hub (which forwards between its peers).
    assert box.ns.ping(box2.address, count=2).returncode == 0
    assert box2.ns.ping(box.address, count=2).returncode == 0
    handshakes = box.hub.handshakes()
    assert handshakes[box.public_key] > 0 and handshakes[box2.public_key] > 0


def test_the_link_is_born_in_the_namespace_and_never_seen_in_the_root_one(box):
    """The article's open exercise: the interface never exists in the host's namespace.

    A watch on the root namespace's link events (pyroute2, RTM_NEWLINK) runs
    while the module creates the interface; then, as a control, a WireGuard
    link is made in the root namespace and moved, as `ip link add` + `ip link
    set netns` would: that one does show up.
    """
    name = "wgborn0"
    control = "wgctl0"
    root = LinkWatch(marker=("RTM_DELLINK", control))
    inside = LinkWatch(marker=("RTM_NEWLINK", control), netns_path=box.ns.path)
    result = assert_ok(run_module(MODULE, box.args(name=name)))
    assert "create interface %s (backend kernel)" % name in result["changes"]
    sh("ip", "link", "add", control, "type", "wireguard")
    sh("ip", "link", "set", control, "netns", box.ns.name)
    root_events = root.wait()
    inside_events = inside.wait()
    record("link_events_root_namespace", root_events)
    record("link_events_target_namespace", inside_events)

    assert root.naming(name) == [], root_events  # no RTM_NEWLINK (nor anything) for it in the root namespace
    assert ("RTM_NEWLINK", name, "wireguard") in inside.naming(name), inside_events  # born there
    # The control: made in the root namespace, it is seen there, then leaves.
    assert ("RTM_NEWLINK", control, "wireguard") in root.naming(control), root_events
    assert root.naming(control)[-1][0] == "RTM_DELLINK"
    # The watch was live during the module run: it saw the backend probe's throwaway link.
    assert any(e[0] == "RTM_NEWLINK" and (e[1] or "").startswith("wgnprobe") for e in root_events), root_events
    assert box.ns.link_kind(name) == "wireguard"
    assert box.ping_hub().returncode == 0


def test_a_port_in_use_fails_by_name_and_leaves_nothing(box):
    holder = RootHub("wgvmhold", subnet=9)  # its UDP port is taken in the root namespace
    try:
        result = run_module(MODULE, box.args(listen_port=holder.port))
        assert result.get("failed"), result["changes"]
        assert "listen_port %d is already in use on the host" % holder.port in result["msg"], result["msg"]
        assert result["option"] == "listen_port"
        assert box.ns.links() == ["lo"]  # rolled back

        # On a live interface the change is refused the same way, and the port it had stays.
        port = assert_ok(run_module(MODULE, box.args()))["interface"]["listen_port"]
        result = run_module(MODULE, box.args(listen_port=holder.port))
        assert result.get("failed") and "listen_port %d is already in use on the host" % holder.port in result["msg"]
        assert box.ns.run("wg", "show", "wg0", "listen-port", check=True).stdout.strip() == str(port)
        assert box.ping_hub().returncode == 0
    finally:
        holder.close()


# The hub --------------------------------------------------------------------------

POOL = "10.90.0.0/20"  # 4,094 addresses, 4,093 peers
HUB_ADDRESS = "10.90.15.254"


def test_a_batch_in_threads_on_kernel_links(hub):
    """wg_container_ifaces makes, reads and removes kernel links of 12 namespaces in its 8 threads.

    Each thread opens its own generic netlink socket: a socket of another thread would be in that
    thread's namespace, and its links would be made, or looked for, in the wrong one.
    """
    boxes = [Box(hub) for _index in range(12)]
    try:
        batch = {"interfaces": [made.args() for made in boxes]}
        first = assert_ok(timed("wg_container_ifaces", batch))
        record("batch_kernel_12_seconds", first["_seconds"])
        assert [item["changed"] for item in first["results"]] == [True] * 12
        for made, item in zip(boxes, first["results"]):
            assert item["netns"] == made.ns.path and item["interface"]["backend"] == "kernel"
            assert made.ns.links() == ["lo", "wg0"] and made.ns.link_kind("wg0") == "wireguard"
            assert made.ns.routes() == ["default wg0"]
            assert made.ping_hub().returncode == 0, made.address
        assert sh("ip", "-o", "link", "show", "type", "wireguard").stdout.count(": wg0:") == 0  # none left behind
        again = assert_ok(run_module("wg_container_ifaces", batch))
        assert again["changed"] is False, [item["changes"] for item in again["results"]]
        gone = assert_ok(run_module("wg_container_ifaces", {
            "interfaces": [{"netns": made.ns.path, "state": "absent"} for made in boxes]}))
        assert [item["changes"] for item in gone["results"]] == [["remove interface wg0"]] * 12
        assert all(made.ns.links() == ["lo"] for made in boxes)
    finally:
        for made in boxes:
            made.close()


def test_hub_with_a_pool_on_the_kernel(tmp_path):
    """wg_hub with a /20 pool on the kernel backend: 4,093 peers, then again with nothing to change.

    Its interface is in the root namespace (the hub host's own); a namespace
    attached with the first pool address's key reaches it through the tunnel.
    """
    count = 4093
    private, public = genkey()  # the first pool address's; the others are keys no one holds
    keys = [public] + [base64.b64encode(os.urandom(32)).decode() for _index in range(count - 1)]
    hub_private, hub_public = genkey()
    config = str(tmp_path / "wghub0.conf")
    args = {"name": "wghub0", "address": [HUB_ADDRESS + "/20"], "private_key": hub_private, "listen_port": 51820,
            "pool": [POOL], "pool_exclude": [HUB_ADDRESS], "pool_public_keys_text": "\n".join(keys),
            "config_path": config, "backend": "kernel"}
    ns = Netns()
    try:
        first = assert_ok(timed("wg_hub", args))
        assert first["changed"] and "create interface wghub0 (backend kernel)" in first["changes"]
        assert first["interface"]["peer_count"] == count and first["interface"]["backend"] == "kernel"
        assert len(sh("wg", "show", "wghub0", "peers").stdout.split()) == count
        assert open(config).read().count("[Peer]") == count
        again = assert_ok(timed("wg_hub", args))
        assert again["changed"] is False, again["changes"]
        record("hub_peers", count)
        record("hub_apply_seconds", first["_seconds"])
        record("hub_rerun_seconds", again["_seconds"])

        attach = assert_ok(run_module(MODULE, {
            "netns": ns.path, "address": ["10.90.0.1/32"], "private_key": private, "backend": "kernel",
            "peers": [{"public_key": hub_public, "endpoint": "127.0.0.1:51820", "allowed_ips": [POOL],
                       "persistent_keepalive": 25}]}))
        assert attach["changed"]
        assert ns.ping(HUB_ADDRESS, count=2).returncode == 0
        assert sh("wg", "show", "wghub0", "latest-handshakes").stdout.count("\t0\n") == count - 1
    finally:
        ns.close()
        # The hub is left to the VM's power off: the kernel takes about a minute (under TCG) to
        # delete a link with 4,093 peers, one RCU grace period per peer (bench/kernel_vm.py).
