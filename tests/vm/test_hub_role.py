"""The hub role on the kernel backend: ansible-playbook inside the test VM, a pool of 2,045 peers.

The VM is the controller and the hub host at once (connection local): the
role derives the pool's keys, then wg_hub brings the hub up in the VM's root
namespace with ``backend: auto``, which picks the kernel here. A namespace
attached with the key of one pool address reaches the hub through the tunnel.
"""

import base64
import os
import stat
import sys

from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver
from ifacecases import assert_ok
from vmtest import Netns, record
from wgtest import run_module, run_role, sh

POOL = "10.91.0.0/21"  # 2,046 addresses: the hub and 2,045 peers
HUB_ADDRESS = "10.91.7.254"
PEERS = 2045
NAME = "wgrole0"
PORT = 51821


def play(tmp_path, extra):
    """The hub role, run by ansible-playbook: its PLAY RECAP and how long the run took."""
    run, seconds = run_role("hub", str(tmp_path), extra)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert extra["wgnet_seed"] not in run.stdout + run.stderr
    return run.stdout.rpartition("PLAY RECAP")[2].strip(), round(seconds, 2)


def test_the_hub_role_brings_up_a_pool_on_the_kernel(tmp_path):
    seed, additional = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(b"gen-1").decode()
    config = tmp_path / (NAME + ".conf")
    extra = {"wgnet_seed": seed, "wgnet_additional": additional, "wgnet_pool": POOL, "wgnet_hub_address": HUB_ADDRESS,
             "wgnet_hub_interface": NAME, "wgnet_hub_listen_port": PORT, "wgnet_backend": "auto",
             "wgnet_python": sys.executable, "wgnet_hub_forward": False, "wgnet_hub_config_path": str(config),
             "wgnet_state_dir": str(tmp_path / "state")}
    ns = Netns()
    try:
        # One run: ansible-playbook costs about 2 minutes under TCG whatever the pool, and
        # wg_hub's own idempotence at scale is test_kernel_backend's test_hub_with_a_pool_on_the_kernel.
        first, first_seconds = play(tmp_path, extra)
        assert "failed=0" in first and "changed=0" not in first, first
        assert " wireguard " in sh("ip", "-d", "-o", "link", "show", NAME).stdout  # the kernel's, not a TUN
        assert len(sh("wg", "show", NAME, "peers").stdout.split()) == PEERS
        assert config.read_text().count("[Peer]") == PEERS and stat.S_IMODE(config.stat().st_mode) == 0o600
        record("hub_role_peers", PEERS)
        record("hub_role_seconds", first_seconds)

        deriver = KeyDeriver(seed, additional)
        attach = assert_ok(run_module("wg_container_iface", {
            "netns": ns.path, "address": ["10.91.0.1/32"], "private_key": deriver.private_key("10.91.0.1"),
            "backend": "kernel", "peers": [{"public_key": deriver.public_key(HUB_ADDRESS),
                                            "endpoint": "127.0.0.1:%d" % PORT, "allowed_ips": [POOL]}]}))
        assert attach["changed"]
        assert ns.ping(HUB_ADDRESS, count=2).returncode == 0
        handshakes = sh("wg", "show", NAME, "latest-handshakes").stdout.splitlines()
        assert [line.split()[0] for line in handshakes if not line.endswith("\t0")] == [
            deriver.public_key("10.91.0.1")]
    finally:
        ns.close()
        # The hub is left to the VM's power off: deleting a link of 2,045 peers takes the
        # kernel about 40 s under TCG (one RCU grace period per peer, bench/kernel_vm.py).
