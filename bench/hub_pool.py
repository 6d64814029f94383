"""Benchmark: the hub role with a /16 pool (65,534 peers), userspace backend.

Runs `ansible-playbook` with the wgnet.containers.hub role against a "hub host"
(a network namespace of this machine, reached through an interpreter wrapper):
  1. from nothing: keys derived on the controller, the hub brought up with every peer;
  2. again with nothing to change (the pool's public keys come from the controller's cache);
  3. again with nothing to change and an empty cache (every key derived again).
Run as root from the repo root: .venv/bin/python bench/hub_pool.py [--pool 10.80.0.0/16]
"""

import argparse
import base64
import os
import platform
import subprocess
import sys
import tempfile
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from collection_link import link_collection  # noqa: E402

link_collection()
from wgtest import run_role  # noqa: E402


def run(workdir, extra):
    result, elapsed = run_role("hub", workdir, extra)
    if result.returncode:
        sys.exit("ansible-playbook failed:\n" + result.stdout[-3000:] + result.stderr[-2000:])
    changed = result.stdout.rpartition("changed=")[2].split()[0]
    return elapsed, int(changed)


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
        print("machine: %s, %d cores, Python %s" % (platform.platform(), os.cpu_count(), platform.python_version()))
        print("pool: %s, hub peers live: %d" % (args.pool, len(peers)))
        print("%-58s %7.2f s (changed=%d)" % ("hub role from nothing (derive + apply)", *first))
        print("%-58s %7.2f s (changed=%d)" % ("hub role again, nothing to change (keys from cache)", *again))
        print("%-58s %7.2f s (changed=%d)" % ("hub role again, nothing to change, empty cache", *cold))
    finally:
        subprocess.run(["ip", "netns", "exec", netns, "pkill", "-f", "wireguard-go -f wg0"], check=False)
        subprocess.run(["ip", "netns", "del", netns], check=False)


if __name__ == "__main__":
    main()
