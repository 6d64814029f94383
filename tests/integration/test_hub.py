"""wg_hub on a "hub host" (a namespace reached over a veth pair) with real containers as peers."""

import base64
import os
import stat
import subprocess
import uuid

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import pool_hosts
from wgtest import in_container, remove_container, run_module, sh, start_container, wait_for

POOL = "10.79.0.0/24"
HUB_ADDRESS = "10.79.0.254"


class HubHost:
    """A namespace with its own link to the host: 10.78.0.1 (host side) and 10.78.0.2 (hub side)."""

    def __init__(self, tmp_path):
        tag = uuid.uuid4().hex[:6]
        self.netns = "wgt-hubhost-" + tag
        # wireguard-go's sockets are in one folder for every namespace of the machine: a name of its own.
        self.name = "wgth" + tag
        self.veth = "wgtv" + tag
        sh("ip", "netns", "add", self.netns)
        sh("ip", "link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        sh("ip", "addr", "add", "10.78.0.1/30", "dev", self.veth)
        sh("ip", "link", "set", self.veth, "up")
        sh("ip", "-n", self.netns, "addr", "add", "10.78.0.2/30", "dev", "eth0")
        sh("ip", "-n", self.netns, "link", "set", "eth0", "up")
        self.config = str(tmp_path / "wireguard" / "wg0.conf")

    def close(self):
        # The hub's wireguard-go lives in the namespace: stop it, then remove both.
        run_module("wg_hub", {"name": self.name, "address": [HUB_ADDRESS + "/24"], "listen_port": 51820,
                              "state": "absent", "config_path": self.config}, netns=self.netns)
        sh("ip", "link", "del", self.veth, check=False)
        sh("ip", "netns", "del", self.netns, check=False)


@pytest.fixture
def hub_host(tmp_path):
    host = HubHost(tmp_path)
    yield host
    host.close()


def hub_args(host, deriver, **extra):
    args = {"name": host.name, "address": [HUB_ADDRESS + "/24"], "private_key": deriver.private_key(HUB_ADDRESS), "listen_port": 51820,
            "pool": [POOL], "pool_exclude": [HUB_ADDRESS],
            "pool_public_keys": [k["public_key"] for k in deriver.derive_many(pool_hosts(POOL, [HUB_ADDRESS]))],
            "config_path": host.config, "backend": "userspace",
            # Forwarding sysctls are per namespace; their persistent file would be the machine's.
            "forward": False}
    args.update(extra)
    return args


def attach(container, deriver, address):
    return run_module("wg_container_iface", {
        "container": container, "address": [address + "/32"], "private_key": deriver.private_key(address),
        "backend": "userspace", "peers": [{"public_key": deriver.public_key(HUB_ADDRESS), "endpoint": "10.78.0.2:51820",
                                           "allowed_ips": [POOL], "persistent_keepalive": 25}]})


def test_hub_serves_the_pool_and_rekeys_live(hub_host):
    deriver = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), base64.b64encode(b"gen-1").decode())
    args = hub_args(hub_host, deriver)
    predicted = run_module("wg_hub", args, check_mode=True, netns=hub_host.netns)
    assert predicted["changed"] and "create interface %s (backend userspace)" % hub_host.name in predicted["changes"]
    assert not os.path.exists(hub_host.config)

    first = run_module("wg_hub", args, netns=hub_host.netns)
    assert first["changed"] and first["interface"]["peer_count"] == 253, first.get("msg")
    assert stat.S_IMODE(os.stat(hub_host.config).st_mode) == 0o600
    config = open(hub_host.config).read()
    assert config.count("[Peer]") == 253 and "Table = off" in config
    assert deriver.private_key(HUB_ADDRESS) not in first["_raw"]
    assert run_module("wg_hub", args, netns=hub_host.netns)["changed"] is False

    containers = [start_container(), start_container()]
    try:
        for index, name in enumerate(containers):
            assert attach(name, deriver, "10.79.0.%d" % (index + 1))["changed"]
            assert in_container(name, "ping", "-c", "1", "-W", "2", HUB_ADDRESS).returncode == 0
        kept_key = deriver.public_key("10.79.0.1")

        def handshakes():
            out = sh("ip", "netns", "exec", hub_host.netns, "wg", "show", hub_host.name, "latest-handshakes").stdout
            return dict(line.split() for line in out.splitlines())

        wait_for(lambda: int(handshakes()[kept_key]) > 0, "the first container's handshake")
        before = handshakes()[kept_key]

        # Re-key one address (as a per-container revocation would): one peer changes, live.
        rekeyed = dict(args)
        rekeyed["pool_public_keys"] = list(args["pool_public_keys"])
        other = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), "")
        rekeyed["pool_public_keys"][1] = other.public_key("10.79.0.2")
        result = run_module("wg_hub", rekeyed, netns=hub_host.netns)
        assert result["changes"][:2] == ["add peer %s" % other.public_key("10.79.0.2"),
                                         "remove peer %s" % deriver.public_key("10.79.0.2")]
        assert [p["public_key"] for p in result["diff"]["after"]["peers"]] == [other.public_key("10.79.0.2")]
        assert result["interface"]["pid"] == first["interface"]["pid"]
        assert in_container(containers[0], "ping", "-c", "1", "-W", "2", HUB_ADDRESS).returncode == 0
        assert handshakes()[kept_key] == before  # the unchanged peer kept its session
        assert in_container(containers[1], "ping", "-c", "1", "-W", "2", HUB_ADDRESS).returncode != 0
    finally:
        for name in containers:
            remove_container(name)


def test_hub_rejects_a_key_list_that_does_not_match_the_pool(hub_host):
    deriver = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), "")
    args = hub_args(hub_host, deriver)
    args["pool_public_keys"] = args["pool_public_keys"][:-1]
    result = run_module("wg_hub", args, netns=hub_host.netns)
    assert result["failed"] and "pool_public_keys: has 252 keys but pool 10.79.0.0/24 has 253 addresses" in result["msg"]
    assert hub_host.name not in sh("ip", "-n", hub_host.netns, "-o", "link").stdout


def test_a_file_the_hub_cannot_write_fails_before_the_switch(hub_host, tmp_path):
    """The review's case: config_path a folder gave a traceback after the hub was up on new keys."""
    deriver = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), base64.b64encode(b"gen-1").decode())
    args = hub_args(hub_host, deriver)
    assert run_module("wg_hub", args, netns=hub_host.netns)["changed"]

    def live():
        """The hub's peers; sorted, as wireguard-go lists them in a Go map's random order."""
        return sorted(sh("ip", "netns", "exec", hub_host.netns, "wg", "show", hub_host.name, "dump").stdout.splitlines()[1:])

    peers = live()
    rotated = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), base64.b64encode(b"gen-2").decode())
    folder = tmp_path / "a-folder"
    folder.mkdir()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for path, problem in [(str(folder), "config_path: %s is a folder; give the path of a file" % folder),
                          (str(blocker / "wg0.conf"), "config_path: %s cannot be written: %s is not a folder"
                           % (blocker / "wg0.conf", blocker))]:
        result = run_module("wg_hub", hub_args(hub_host, rotated, config_path=path), netns=hub_host.netns)
        assert result["failed"] and result["msg"] == problem
        assert live() == peers, "the hub switched although its file could not be written"


def test_a_switch_that_fails_halfway_is_undone(hub_host):
    """wireguard-go applies a set line by line and stops at the first error: a new key and a port
    that is taken left the hub on the new key, its old port and its old peers."""
    deriver = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), base64.b64encode(b"gen-1").decode())
    assert run_module("wg_hub", hub_args(hub_host, deriver), netns=hub_host.netns)["changed"]

    def live():
        show = ["ip", "netns", "exec", hub_host.netns, "wg", "show", hub_host.name]
        return sh(*show, "public-key").stdout, sh(*show, "listen-port").stdout, sorted(sh(*show, "dump").stdout.splitlines()[1:])

    before, config = live(), open(hub_host.config).read()
    taken = subprocess.Popen(["ip", "netns", "exec", hub_host.netns, "python3", "-c",
                              "import socket, sys, time\n"
                              "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 51821))\n"
                              "print('bound', flush=True); time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    try:
        assert taken.stdout.readline().strip() == "bound"
        rotated = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), base64.b64encode(b"gen-2").decode())
        result = run_module("wg_hub", hub_args(hub_host, rotated, listen_port=51821), netns=hub_host.netns)
    finally:
        taken.kill()
        taken.wait()
    assert result["failed"] and result["option"] == "listen_port"
    assert result["msg"] == "listen_port 51821 is already in use on the host; %s was put back as it was, nothing changed" % hub_host.name
    assert live() == before
    assert open(hub_host.config).read() == config, "the wg-quick file would bring up other keys at boot"


def test_a_hub_that_runs_its_recorded_pool_needs_no_keys(hub_host, tmp_path):
    """The role's no-change path: the live pool vouched for by its digest, on a real wireguard-go."""
    deriver = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), base64.b64encode(b"gen-1").decode())
    record = str(tmp_path / "state" / "hub-pool.json")
    keyed = hub_args(hub_host, deriver, pool_fingerprint="gen-1", pool_record=record)
    bare = dict(keyed, pool_public_keys=[])
    first = run_module("wg_hub", keyed, netns=hub_host.netns)
    assert first["changes"][-1] == "write %s" % record and stat.S_IMODE(os.stat(record).st_mode) == 0o600
    assert deriver.private_key(HUB_ADDRESS) not in open(record).read()

    again = run_module("wg_hub", bare, netns=hub_host.netns)
    assert again["changed"] is False and again["pool_keys_needed"] is False, again.get("msg")
    assert again["interface"]["peer_count"] == 253
    predicted = run_module("wg_hub", dict(bare, listen_port=51821), check_mode=True, netns=hub_host.netns)
    assert predicted["changes"] == ["set listen_port 51821", "write %s" % hub_host.config]

    show = ["ip", "netns", "exec", hub_host.netns, "wg", "show", hub_host.name]
    removed = deriver.public_key("10.79.0.7")
    sh(*show[:-2], "set", hub_host.name, "peer", removed, "remove")
    needed = run_module("wg_hub", bare, netns=hub_host.netns)
    assert needed["pool_keys_needed"] and not needed["changed"]
    assert needed["pool_keys_reason"] == "the live pool peers of %s differ from those recorded in %s" % (hub_host.name, record)
    assert removed not in sh(*show, "peers").stdout
    back = run_module("wg_hub", keyed, netns=hub_host.netns)
    assert back["changes"] == ["add peer %s" % removed]
    assert [p["public_key"] for p in back["diff"]["after"]["peers"]] == [removed] and back["diff"]["before"]["peers"] == []
    assert run_module("wg_hub", bare, netns=hub_host.netns)["changed"] is False


def test_the_hub_says_whether_its_generation_record_is_current_and_never_writes_it(hub_host, tmp_path):
    """The hub role writes hub-generation.json only when the hub's answer says it does not hold the generation."""
    deriver = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), base64.b64encode(b"gen-1").decode())
    path = tmp_path / "state" / "hub-generation.json"
    args = hub_args(hub_host, deriver, generation="0123456789abcdef", generation_path=str(path))
    first = run_module("wg_hub", args, netns=hub_host.netns)
    assert first["generation_recorded"] is False and first["changed"] is True, first.get("msg")
    assert not path.exists()
    assert run_module("wg_generation_record", {"path": str(path), "generation": "0123456789abcdef"})["changed"] is True
    asked = run_module("wg_hub", args, check_mode=True, netns=hub_host.netns)
    assert asked["generation_recorded"] is True and asked["changed"] is False
    newer = run_module("wg_hub", dict(args, generation="fedcba9876543210"), check_mode=True, netns=hub_host.netns)
    assert newer["generation_recorded"] is False
