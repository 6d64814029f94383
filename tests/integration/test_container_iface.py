"""wg_container_iface against a real dockerd, real containers and a real wireguard-go hub.

The cases every backend shares (idempotence, check mode, diff, peer
reconciliation) are in ifacecases: collected here with the userspace
backend, and in the test VM with the kernel one.
"""

import glob
import itertools
import os
import socket
import stat
import threading

import pytest

# The shared cases, run here against this module's box (a container) and hub2.
from ifacecases import (  # pylint: disable=unused-import
    test_a_peer_with_many_allowed_ips_is_written_and_read_back_whole,
    test_changing_one_peer_keeps_the_other_session,
    test_idempotence_check_mode_and_diff,
)
from wgtest import (
    Hub,
    genkey,
    in_container,
    remove_container,
    run_module,
    sh,
    start_container,
    wait_for,
    wireguard_go_pids,
)

MODULE = "wg_container_iface"
_hosts = itertools.count(2)


@pytest.fixture(scope="module")
def hub():
    hub = Hub(subnet=1)
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def hub2():
    hub = Hub(subnet=2)
    yield hub
    hub.close()


class Attached:
    """A container with a key registered on the hub, ready to attach (a ``box`` of ifacecases)."""

    backend = "userspace"

    def __init__(self, hub):
        self.hub = hub
        self.name = start_container()
        self.address = "10.77.%d.%d" % (hub.subnet, next(_hosts))
        self.private_key, self.public_key = genkey()
        hub.add_peer(self.public_key, self.address)

    def args(self, **extra):
        args = {"container": self.name, "address": [self.address + "/32"], "private_key": self.private_key,
                "peers": [self.hub.peer_spec()], "backend": "userspace"}
        args.update(extra)
        return args

    def ping_hub(self, count=1):
        return self.ping(self.hub.address, count)

    def ping(self, address, count=1, source=None):
        extra = ["-I", source] if source else []
        return in_container(self.name, "ping", "-c", str(count), "-W", "2", *extra, address)

    def links(self):
        return links(self.name)

    def mtu(self):
        return int(in_container(self.name, "cat", "/sys/class/net/wg0/mtu", check=True).stdout)

    @staticmethod
    def wg_show(facts, *what):
        # wireguard-go's UAPI socket is on the host, under the interface's host-side name.
        return sh("wg", "show", facts["host_name"], *what).stdout


@pytest.fixture
def box(hub):
    attached = Attached(hub)
    yield attached
    run_module(MODULE, {"container": attached.name, "state": "absent"})
    remove_container(attached.name)
    hub.remove_peer(attached.public_key)


def links(container):
    out = in_container(container, "ip", "-o", "link", "show", check=True).stdout
    return sorted(line.split(":")[1].strip().split("@")[0] for line in out.splitlines())


def routes(container):
    return [line.split()[0] + " " + line.split()[2]
            for family in ("-4", "-6")
            for line in in_container(container, "ip", family, "route", "show", check=True).stdout.splitlines()]


def assert_not_leaked(result, *secrets):
    for secret in secrets:
        assert secret not in result["_raw"]


def test_attach_ping_rerun_and_absent(box):
    pids_before = wireguard_go_pids()
    first = run_module(MODULE, box.args())
    assert first["changed"] is True, first
    assert "create interface wg0 (backend userspace)" in first["changes"]
    assert box.ping_hub(count=3).returncode == 0

    # The tunnel is the container's only way out: lo, wg0, and routes via wg0 only.
    assert links(box.name) == ["lo", "wg0"]
    assert routes(box.name) == ["default wg0"]
    facts = first["interface"]
    assert facts["public_key"] == box.public_key and facts["backend"] == "userspace"
    assert facts["pid"] in wireguard_go_pids() - pids_before
    assert facts["peers"][0]["public_key"] == box.hub.public_key and facts["peers"][0]["latest_handshake"] > 0
    assert_not_leaked(first, box.private_key)

    again = run_module(MODULE, box.args())
    assert again["changed"] is False and again["changes"] == [], again
    assert again["interface"]["pid"] == facts["pid"]

    gone = run_module(MODULE, {"container": box.name, "state": "absent"})
    assert gone["changed"] is True
    assert links(box.name) == ["lo"]
    wait_for(lambda: facts["pid"] not in wireguard_go_pids(), "wireguard-go to exit")
    assert run_module(MODULE, {"container": box.name, "state": "absent"})["changed"] is False


def test_dns_is_written_to_the_container(box):
    result = run_module(MODULE, box.args(dns=["10.77.1.1"]))
    assert "write resolvers" in result["changes"][-1]
    assert in_container(box.name, "cat", "/etc/resolv.conf").stdout.splitlines()[-1] == "nameserver 10.77.1.1"
    assert run_module(MODULE, box.args(dns=["10.77.1.1"]))["changed"] is False


def test_restarted_container_is_reattached_and_old_process_reaped(box):
    old_pid = run_module(MODULE, box.args())["interface"]["pid"]
    sh("docker", "restart", "-t", "0", box.name)
    assert links(box.name) == ["lo"]
    result = run_module(MODULE, box.args())
    assert result["changed"] is True and "create interface wg0 (backend userspace)" in result["changes"]
    assert result["interface"]["pid"] != old_pid
    assert old_pid not in wireguard_go_pids()
    assert box.ping_hub(count=2).returncode == 0


def test_dead_process_is_recreated(box):
    pid = run_module(MODULE, box.args())["interface"]["pid"]
    os.kill(pid, 9)
    wait_for(lambda: "wg0" not in links(box.name), "the TUN to vanish with its process")
    result = run_module(MODULE, box.args())
    assert result["changed"] is True and result["interface"]["pid"] != pid
    assert box.ping_hub().returncode == 0


def test_stopped_container_process_is_reaped(hub):
    other = Attached(hub)
    try:
        facts = run_module(MODULE, other.args())["interface"]
        pid = facts["pid"]
        sh("docker", "stop", "-t", "0", other.name)
        probe = start_container()
        try:
            # Any run on the host reaps it, whichever interface it is about.
            run_module(MODULE, {"container": probe, "state": "absent"})
        finally:
            remove_container(probe)
        assert pid not in wireguard_go_pids()
        assert not os.path.exists("/run/wgnet/userspace/%s.json" % facts["host_name"])
    finally:
        remove_container(other.name)
        hub.remove_peer(other.public_key)


def test_secrets_stay_off_command_lines_and_out_of_readable_files(box):
    result = run_module(MODULE, box.args())
    cmdlines = []
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as handle:
                cmdlines.append(handle.read().decode(errors="replace"))
        except OSError:
            continue
    assert not [c for c in cmdlines if box.private_key in c]
    for path in glob.glob("/run/wgnet/**/*", recursive=True):
        if os.path.isfile(path):
            with open(path, errors="replace") as handle:
                assert box.private_key not in handle.read(), path
            if path.endswith(".log"):
                assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert_not_leaked(result, box.private_key)


def test_concurrent_runs_do_not_corrupt_each_other(hub):
    boxes = [Attached(hub), Attached(hub)]
    try:
        results = [None, None]

        def attach(index):
            results[index] = run_module(MODULE, boxes[index].args())

        threads = [threading.Thread(target=attach, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(r["changed"] and not r.get("failed") for r in results), results
        for attached in boxes:
            assert attached.ping_hub().returncode == 0
            assert run_module(MODULE, attached.args())["changed"] is False
    finally:
        for attached in boxes:
            run_module(MODULE, {"container": attached.name, "state": "absent"})
            remove_container(attached.name)
            hub.remove_peer(attached.public_key)


# Failures: a clear message naming the cause, and nothing left behind ------------------

def snapshot(container):
    registry = "/run/wgnet/userspace"
    return links(container), wireguard_go_pids(), sorted(os.listdir(registry) if os.path.isdir(registry) else [])


BAD_ARGS = [
    (dict(private_key="QUJD"), "private_key: must be 32 bytes"),
    (dict(address=["10.77.1.300/32"]), "address[0]: '10.77.1.300/32' is not a valid address"),
    (dict(routes=["10.0.0.1/8"]), "routes[0]: '10.0.0.1/8' is not a valid CIDR"),
    (dict(peers=[{"public_key": "QUJD"}]), "peers[0].public_key: must be 32 bytes"),
    (dict(peers=[{"public_key": genkey()[1], "endpoint": "127.0.0.1"}]), "peers[0].endpoint: '127.0.0.1' must be host:port"),
    (dict(peers=[{"public_key": genkey()[1], "endpoint": "no-such-host.invalid:51820"}]), "cannot resolve host"),
    (dict(name="a-very-long-ifname"), "name: 'a-very-long-ifname' is not a valid interface name"),
    (dict(userspace_binary="/nonexistent/wireguard-go"), "userspace_binary: wireguard-go not found"),
    (dict(backend="kernel"), "backend: kernel was requested but this host's kernel has no WireGuard"),
    (dict(mtu=100), "mtu: 100 is out of range"),
]


@pytest.mark.parametrize("extra, message", BAD_ARGS, ids=[case[1].split(":")[0] for case in BAD_ARGS])
def test_bad_input_fails_clearly_and_changes_nothing(box, extra, message):
    before = snapshot(box.name)
    result = run_module(MODULE, box.args(**extra))
    assert result.get("failed") is True, result
    assert message in result["msg"], result["msg"]
    assert snapshot(box.name) == before
    assert_not_leaked(result, box.private_key)


def test_listen_port_in_use_rolls_back(box):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("0.0.0.0", 0))
        port = taken.getsockname()[1]
        before = snapshot(box.name)
        result = run_module(MODULE, box.args(listen_port=port))
        assert result.get("failed") is True
        assert "listen_port %d is already in use on the host" % port in result["msg"]
        assert snapshot(box.name) == before


def test_one_interface_that_fails_does_not_hold_back_the_others(hub):
    """In a batch (a rotation's switch), an interface that fails is put back and the others still change."""
    boxes = [Attached(hub), Attached(hub)]
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
            taken.bind(("0.0.0.0", 0))
            port = taken.getsockname()[1]
            result = run_module("wg_container_ifaces", {"interfaces": [boxes[0].args(listen_port=port), boxes[1].args()]})
        assert result.get("failed") is True and result["option"] == "interfaces[0].listen_port"
        assert result["msg"] == ("interfaces[0] (%s/wg0): listen_port %d is already in use on the host; the other 1 "
                                 "interfaces were changed as planned" % (boxes[0].name, port))
        assert boxes[0].links() == ["lo"]
        assert boxes[1].ping_hub().returncode == 0
    finally:
        for attached in boxes:
            run_module(MODULE, {"container": attached.name, "state": "absent"})
            remove_container(attached.name)
            hub.remove_peer(attached.public_key)


def test_missing_or_stopped_container_and_gone_namespace(box):
    result = run_module(MODULE, box.args(container="wgt-no-such-container"))
    assert result["failed"] and "container: no container named or with id 'wgt-no-such-container'" in result["msg"]
    sh("docker", "stop", "-t", "0", box.name)
    result = run_module(MODULE, box.args())
    assert result["failed"] and "is not running (status exited)" in result["msg"]
    args = box.args(netns="/var/run/netns/wgt-gone")
    del args["container"]
    result = run_module(MODULE, args)
    assert result["failed"] and result["msg"].startswith("netns: network namespace /var/run/netns/wgt-gone is gone")


def test_private_key_path_must_be_private(box, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(box.private_key + "\n")
    key_file.chmod(0o644)
    args = box.args(private_key_path=str(key_file))
    del args["private_key"]
    result = run_module(MODULE, args)
    assert result["failed"] and "chmod 600" in result["msg"]
    key_file.chmod(0o600)
    assert run_module(MODULE, args)["interface"]["public_key"] == box.public_key
    assert box.ping_hub().returncode == 0


# The tunnel is the only network ------------------------------------------------------

def host_links():
    """The host's WireGuard-side links (a userspace device is born on the host as wgn...)."""
    return sorted(name for name in os.listdir("/sys/class/net") if name.startswith("wg"))


def test_containers_on_another_network_or_the_hosts_are_refused(hub):
    """A labelled container on the bridge, or on the host's network, would keep (or take over) other routes."""
    bridged = start_container(network="bridge")
    on_host = start_container(network="host")
    try:
        before = host_links(), wireguard_go_pids()
        key = genkey()[0]
        result = run_module(MODULE, {"container": bridged, "address": ["10.77.1.90/32"], "private_key": key,
                                     "peers": [hub.peer_spec()], "backend": "userspace"})
        assert result["failed"] and result["msg"] == (
            "container: %r runs with --network bridge; start it with --network none, so that the tunnel is its only "
            "network (or set allow_other_interfaces)" % bridged)
        for allow in (False, True):
            result = run_module(MODULE, {"container": on_host, "address": ["10.77.1.91/32"], "private_key": key,
                                         "peers": [hub.peer_spec()], "backend": "userspace",
                                         "allow_other_interfaces": allow})
            assert result["failed"] and result["msg"].startswith(
                "container: %r is in the host's own network namespace (/proc/self/ns/net)" % on_host), result["msg"]
        assert (host_links(), wireguard_go_pids()) == before
        assert links(bridged) == ["eth0", "lo"]
    finally:
        remove_container(bridged)
        remove_container(on_host)


@pytest.mark.parametrize("path", ["/proc/self/ns/net", "/proc/1/ns/net"])
def test_the_hosts_own_namespace_is_refused(hub, path):
    """The review's case: the host's default route went to wg0."""
    def default_routes():
        return sh("ip", "route", "show", "default").stdout + sh("ip", "-6", "route", "show", "default").stdout

    routes_before = default_routes()
    before = host_links(), wireguard_go_pids()
    result = run_module(MODULE, {"netns": path, "address": ["10.77.1.92/32"], "private_key": genkey()[0],
                                 "peers": [hub.peer_spec()], "backend": "userspace", "allow_other_interfaces": True})
    refusal = "netns: %s is in the host's own network namespace" % path
    if not os.access(path, os.R_OK):  # init's namespace, out of reach in a sandbox: refused all the same
        refusal = "netns: network namespace %s is gone or unreadable" % path
    assert result["failed"] and result["msg"].startswith(refusal), result["msg"]
    assert (host_links(), wireguard_go_pids()) == before
    assert default_routes() == routes_before


def test_a_file_that_is_no_namespace_is_named():
    result = run_module(MODULE, {"netns": "/etc/hostname", "private_key": genkey()[0], "backend": "userspace"})
    assert result["failed"] and result["msg"] == (
        "netns: /etc/hostname is not a network namespace (give /var/run/netns/NAME or /proc/PID/ns/net)")


@pytest.fixture
def lan_namespace():
    """A named namespace with an eth0 (a veth to the host) and an IPv6 default route through it."""
    name = "wgt-lan-%d" % os.getpid()
    veth = "wgtl%d" % (os.getpid() % 100000)
    sh("ip", "netns", "add", name)
    sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name)
    sh("ip", "-n", name, "link", "set", "eth0", "up")
    sh("ip", "-n", name, "-6", "addr", "add", "fd77:7::2/64", "dev", "eth0", "nodad")
    sh("ip", "-n", name, "-6", "route", "add", "default", "via", "fd77:7::1", "dev", "eth0")
    yield "/var/run/netns/" + name
    run_module(MODULE, {"netns": "/var/run/netns/" + name, "state": "absent"})
    sh("ip", "link", "del", veth, check=False)
    sh("ip", "netns", "del", name, check=False)


def test_a_namespace_with_other_interfaces_is_refused_unless_allowed(hub, lan_namespace):
    """The review's case: after a successful run, IPv6 and the LAN still bypassed the tunnel."""
    private, public = genkey()
    hub.add_peer(public, "10.77.1.93")
    args = {"netns": lan_namespace, "address": ["10.77.1.93/32"], "private_key": private,
            "peers": [hub.peer_spec()], "backend": "userspace"}
    before = host_links(), wireguard_go_pids()
    try:
        result = run_module(MODULE, args)
        assert result["failed"] and result["msg"] == (
            "netns: %s has other interfaces: eth0 (veth, up). The tunnel would not be its only network; remove "
            "them, or set allow_other_interfaces" % lan_namespace)
        assert (host_links(), wireguard_go_pids()) == before
        ns = os.path.basename(lan_namespace)
        assert "wg0" not in sh("ip", "-n", ns, "-o", "link", "show").stdout
        allowed = run_module(MODULE, dict(args, allow_other_interfaces=True))
        assert allowed.get("failed") is not True and allowed["changed"], allowed.get("msg")
        assert sh("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "2", hub.address, check=False).returncode == 0
    finally:
        hub.remove_peer(public)


def test_an_unreachable_daemon_is_no_missing_container(monkeypatch):
    """With state=absent, "cannot ask Docker" must not pass for "no container, nothing to remove"."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/wgnet-test-no-daemon.sock")
    result = run_module(MODULE, {"container": "wgt-any", "state": "absent"})
    assert result["failed"] is True and result["option"] == "container", result
    assert "cannot reach the Docker daemon at unix:///run/wgnet-test-no-daemon.sock" in result["msg"]
