"""Benchmark: the hub role with a /16 pool (65,534 peers), userspace backend.

Runs `ansible-playbook` with the wgnet.containers.hub role against a "hub host"
(a network namespace of this machine, reached through an interpreter wrapper):
  1. from nothing: keys derived on the controller, the hub brought up with every peer;
  2. again with nothing to change (the pool's public keys come from the controller's cache);
  3. again with nothing to change and an empty cache (every key derived again);
and, in the same run, the anchors by hand: `wg setconf` of the same peers on a fresh wireguard-go
plus the derivation in process (OpenSSL), and `wg show dump` of the live hub; each run of the role
is printed as a ratio to its anchor.
Run as root from the repo root: .venv/bin/python bench/hub_pool.py [--pool 10.80.0.0/16]
"""

import argparse
import base64
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from collection_link import link_collection  # noqa: E402

link_collection()
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver  # noqa: E402
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import pool_hosts  # noqa: E402
from wgtest import run_role, wait_for  # noqa: E402

# wg-quick's own keys, which wg(8) does not take, and the port, which the live hub holds.
WG_QUICK_ONLY = ("ListenPort", "Address", "MTU", "Table", "DNS", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig")


def run(workdir, extra):
    result, elapsed = run_role("hub", workdir, extra)
    if result.returncode:
        sys.exit("ansible-playbook failed:\n" + result.stdout[-3000:] + result.stderr[-2000:])
    changed = result.stdout.rpartition("changed=")[2].split()[0]
    return elapsed, int(changed)


def timed(*command, **kwargs):
    start = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, **kwargs)
    return time.monotonic() - start


def anchor_from_nothing(netns, extra, config_path):
    """By hand: derive the pool's public keys in process, then `wg setconf` them on a new wireguard-go."""
    start = time.monotonic()
    KeyDeriver(extra["wgnet_seed"], extra["wgnet_additional"]).derive_many(
        pool_hosts(extra["wgnet_pool"], [extra["wgnet_hub_address"]]))
    derived = time.monotonic() - start
    with open(config_path) as handle:
        lines = [line for line in handle if line.split("=")[0].strip() not in WG_QUICK_ONLY]
    stripped = config_path + ".wg"
    with os.fdopen(os.open(stripped, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.writelines(lines)
    process = subprocess.Popen(["ip", "netns", "exec", netns, "wireguard-go", "-f", "wgbanchor"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists("/var/run/wireguard/wgbanchor.sock"), "anchor socket")
        setconf = timed("ip", "netns", "exec", netns, "wg", "setconf", "wgbanchor", stripped)
    finally:
        process.terminate()
        process.wait()
    return derived + setconf, derived, setconf


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", default="10.80.0.0/16")
    args = parser.parse_args()
    netns = "wgt-hubbench-" + uuid.uuid4().hex[:6]
    subprocess.run(["ip", "netns", "add", netns], check=True)
    workdir = tempfile.mkdtemp()
    wrapper = os.path.join(workdir, "python-on-hub")
    with open(wrapper, "w") as handle:
        handle.write("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n" % (netns, sys.executable))
    os.chmod(wrapper, 0o755)
    pool_base = args.pool.split("/")[0].rsplit(".", 2)[0]
    extra = {"wgnet_seed": base64.b64encode(os.urandom(32)).decode(), "wgnet_additional": "Z2VuLTE=",
             "wgnet_pool": args.pool, "wgnet_hub_address": pool_base + ".255.254", "wgnet_python": wrapper,
             "wgnet_backend": "userspace", "wgnet_hub_forward": False,
             "wgnet_hub_config_path": os.path.join(workdir, "etc", "wg0.conf"),
             "wgnet_controller_cache": os.path.join(workdir, "cache")}
    try:
        first = run(workdir, extra)
        again = run(workdir, extra)
        extra["wgnet_controller_cache"] = os.path.join(workdir, "cache-empty")
        cold = run(workdir, extra)
        peers = subprocess.run(["ip", "netns", "exec", netns, "wg", "show", "wg0", "peers"], check=True,
                               capture_output=True, text=True).stdout.split()
        dump = timed("ip", "netns", "exec", netns, "wg", "show", "wg0", "dump")
        anchor, derived, setconf = anchor_from_nothing(netns, extra, extra["wgnet_hub_config_path"])
        print("machine: %s, %d cores, Python %s" % (platform.platform(), os.cpu_count(), platform.python_version()))
        print("pool: %s, hub peers live: %d" % (args.pool, len(peers)))
        print("%-58s %7.2f s (derive %.2f s + wg setconf %.2f s)"
              % ("anchor: by hand from nothing", anchor, derived, setconf))
        print("%-58s %7.2f s" % ("anchor: wg show dump of the live hub", dump))
        print("%-58s %7.2f s (changed=%d, %.2f x its anchor)"
              % ("hub role from nothing (derive + apply)", first[0], first[1], first[0] / anchor))
        for label, (elapsed, changed) in (("hub role again, nothing to change (keys from cache)", again),
                                          ("hub role again, nothing to change, empty cache", cold)):
            print("%-58s %7.2f s (changed=%d, %.2f x wg show dump)" % (label, elapsed, changed, elapsed / dump))
    finally:
        subprocess.run(["ip", "netns", "exec", netns, "pkill", "-f", "wireguard-go -f wg0"], check=False)
        subprocess.run(["ip", "netns", "del", netns], check=False)


if __name__ == "__main__":
    main()
