"""The kernel backend on a real WireGuard kernel: wg_container_iface and wg_hub inside the test VM.

Namespaces made with `ip netns add` stand in for containers (``netns:``); the
hubs live in the VM's root namespace, which plays the Docker host. Packets
are real: every ping goes through the tunnels, encrypted over the VM's loopback.
"""

import base64
import os
import time

import pytest

from vmtest import LinkWatch, Netns, RootHub, record
from wgtest import genkey, random_b64, run_module, sh, wait_for

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
    """A namespace with a key registered on the hub, ready to attach (a container, in effect)."""

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


def assert_ok(result):
    assert not result.get("failed"), result.get("msg", result["_raw"][-3000:])
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


def test_idempotence_check_mode_and_diff(box):
    psk = random_b64()
    box.hub.add_peer(box.public_key, box.address, preshared_key=psk)
    other = genkey()[1]
    args = box.args(
        listen_port=51900, fwmark=0x2a, mtu=1400,
        peers=[box.hub.peer_spec(preshared_key=psk),
               # Never reached: its settings are read back from the kernel and compared.
               {"public_key": other, "endpoint": "[::1]:51999", "allowed_ips": ["fd00:88::/64", "10.99.0.0/24"],
                "persistent_keepalive": 15}])
    predicted = assert_ok(run_module(MODULE, args, check_mode=True))
    assert predicted["changed"] and "create interface wg0 (backend kernel)" in predicted["changes"]
    assert predicted["diff"]["before"] == {} and predicted["diff"]["after"]["public_key"] == box.public_key
    assert box.ns.links() == ["lo"]  # check mode made nothing

    first = assert_ok(run_module(MODULE, args))
    assert first["changed"]
    assert box.ping_hub().returncode == 0
    facts = first["interface"]
    assert facts["listen_port"] == 51900 and facts["fwmark"] == 0x2a and facts["mtu"] == 1400
    peers = {p["public_key"]: p for p in facts["peers"]}
    assert peers[other]["endpoint"] == "[::1]:51999"
    assert peers[other]["allowed_ips"] == ["10.99.0.0/24", "fd00:88::/64"]
    assert peers[box.hub.public_key]["preshared_key"] is True
    after = first["diff"]["after"]
    assert after["public_key"] == box.public_key and "private_key" not in after
    for secret in (box.private_key, psk):
        assert secret not in first["_raw"] and secret not in predicted["_raw"]

    again = assert_ok(run_module(MODULE, args))
    assert again["changed"] is False and again["changes"] == [], again["changes"]

    # A change of MTU, a route and one peer's preshared key (dropped): predicted, then made, alone.
    change = dict(args, mtu=1380, routes=["192.0.2.0/24"], peers=[box.hub.peer_spec(), args["peers"][1]])
    predicted = assert_ok(run_module(MODULE, change, check_mode=True))
    expected = ["update peer %s: preshared_key" % box.hub.public_key, "set mtu 1380", "add route 192.0.2.0/24"]
    assert predicted["changes"] == expected
    assert sh("ip", "netns", "exec", box.ns.name, "cat", "/sys/class/net/wg0/mtu").stdout.strip() == "1400"
    changed = assert_ok(run_module(MODULE, change))
    assert changed["changes"] == expected
    assert {p["public_key"]: p for p in changed["interface"]["peers"]}[box.hub.public_key]["preshared_key"] is False
    assert sh("ip", "netns", "exec", box.ns.name, "cat", "/sys/class/net/wg0/mtu").stdout.strip() == "1380"


def test_a_peer_with_many_allowed_ips_is_read_back_whole(box):
    """1,000 allowed IPs do not fit one netlink message: the kernel cuts the peer in two or more."""
    many = ["10.100.%d.%d/32" % divmod(i, 250) for i in range(1000)]
    wide = genkey()[1]
    args = box.args(peers=[box.hub.peer_spec(), {"public_key": wide, "allowed_ips": many}])
    assert assert_ok(run_module(MODULE, args))["changed"]
    shown = sh("ip", "netns", "exec", box.ns.name, "wg", "show", "wg0", "allowed-ips").stdout
    assert len([line for line in shown.splitlines() if line.startswith(wide)][0].split()) == 1 + 1000
    again = assert_ok(run_module(MODULE, args))
    assert again["changed"] is False, again["changes"]
    peers = {p["public_key"]: p for p in again["interface"]["peers"]}
    assert sorted(peers[wide]["allowed_ips"]) == sorted(many)
    assert box.ping_hub().returncode == 0


def test_changing_one_peer_keeps_the_other_session(box, hub2):
    second = "10.88.2.%s" % box.address.rsplit(".", 1)[1]
    hub2.add_peer(box.public_key, second)
    args = box.args(address=[box.address + "/32", second + "/32"], peers=[box.hub.peer_spec(), hub2.peer_spec()],
                    default_route=False, routes=["10.88.1.0/24", "10.88.2.0/24"])
    assert assert_ok(run_module(MODULE, args))["changed"]
    assert box.ping_hub().returncode == 0
    assert box.ns.ping(hub2.address, source=second).returncode == 0  # hub2 accepts only the second address
    wait_for(lambda: box.hub.handshakes().get(box.public_key, 0) > 0, "the first hub's handshake")
    kept = box.hub.handshakes()[box.public_key]
    mine = box.ns.run("wg", "show", "wg0", "latest-handshakes", check=True).stdout  # the namespace's side

    # One peer updated and one added: the other peer's session is left alone, on both sides.
    extra = genkey()[1]
    args["peers"][1] = hub2.peer_spec(persistent_keepalive=10)
    changed = assert_ok(run_module(MODULE, dict(args, peers=args["peers"] + [
        {"public_key": extra, "allowed_ips": ["10.99.1.0/24"]}])))
    assert sorted(changed["changes"]) == ["add peer %s" % extra,
                                          "update peer %s: persistent_keepalive" % hub2.public_key]
    after = {p["public_key"]: p for p in changed["interface"]["peers"]}
    assert after[hub2.public_key]["persistent_keepalive"] == 10 and extra in after
    hub_line = [line for line in mine.splitlines() if line.startswith(box.hub.public_key)]
    assert after[box.hub.public_key]["latest_handshake"] == int(hub_line[0].split()[1])
    assert box.hub.handshakes()[box.public_key] == kept
    removed = assert_ok(run_module(MODULE, args))
    assert removed["changes"] == ["remove peer %s" % extra]
    assert box.hub.handshakes()[box.public_key] == kept
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
