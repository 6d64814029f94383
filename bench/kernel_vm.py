"""Benchmark: the kernel backend on a real WireGuard kernel, inside the test VM (qemu, TCG).

Run as root from the repo root:
  .venv/bin/python bench/kernel_vm.py [--count 20] [--pools 22,20] [--hub-backends kernel,userspace]
It boots the VM with scripts/vm-run.sh and runs itself inside (WGNET_IN_VM=1),
where it measures, with the modules run as Ansible runs them on a managed host
(one Python process per module run, no ansible-playbook):
  - a module run with nothing to do (the floor: Python start-up and imports);
  - attaching namespaces: wg_container_iface once per namespace, then
    wg_container_ifaces for all of them in one run, from nothing and again,
    with the kernel backend and, on the same VM, the userspace one (wireguard-go);
  - wg_hub with a pool per --pools prefix length: from nothing, again with
    nothing to change, and re-keying one address (one peer out, one in),
    per --hub-backends backend; and, kernel backend, the same device operations in process
    (KernelBackend.create, KernelDevice.get), which leave out the module's
    start-up and its key handling.
TCG emulates the CPU: the figures are slow in absolute terms and only their
ratios mean something. The table is printed and left in .cache/vm/bench/.
"""

import argparse
import base64
import ipaddress
import json
import os
import platform
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for sub in ("tests", os.path.join("tests", "integration"), os.path.join("tests", "vm")):
    sys.path.insert(0, os.path.join(REPO, sub))
from collection_link import link_collection  # noqa: E402

link_collection()

IN_VM = os.environ.get("WGNET_IN_VM") == "1"
ROWS = []


def row(what, seconds, note=""):
    ROWS.append((what, seconds, note))
    print("%-72s %8.2f s %s" % (what, seconds, note), flush=True)


def timed_module(module, args, **kwargs):
    from wgtest import run_module
    start = time.monotonic()
    result = run_module(module, args, **kwargs)
    elapsed = time.monotonic() - start
    if result.get("failed"):
        sys.exit("%s failed: %s" % (module, result.get("msg", result["_raw"][-2000:])))
    return result, elapsed


def bench_attach(count):
    from vmtest import Netns, RootHub
    from wgtest import genkey

    hub = RootHub("wgbhub", subnet=7)
    namespaces = [Netns("wgb") for _index in range(count)]
    keys = [genkey() for _index in range(count)]
    for index, (_private, public) in enumerate(keys):
        hub.add_peer(public, "10.88.7.%d" % (index + 2))

    def spec(index, backend, name="wg0"):
        return {"netns": namespaces[index].path, "name": name, "address": ["10.88.7.%d/32" % (index + 2)],
                "private_key": keys[index][0], "peers": [hub.peer_spec()], "backend": backend}

    try:
        _result, floor = timed_module("wg_container_iface", {"netns": namespaces[0].path, "state": "absent"})
        row("module run with nothing to do (Python start-up, imports)", floor)

        one = [timed_module("wg_container_iface", spec(i, "kernel"))[1] for i in range(count)]
        row("wg_container_iface, kernel, one run per namespace: mean of %d" % count, sum(one) / count)
        again = [timed_module("wg_container_iface", spec(i, "kernel"))[1] for i in range(min(count, 5))]
        row("wg_container_iface, kernel, again with nothing to change: mean", sum(again) / len(again))
        for ns in namespaces:
            ns.run("ip", "link", "del", "wg0", check=True)

        for backend in ("kernel", "userspace"):
            name = "wg0" if backend == "kernel" else "wg1"
            interfaces = [spec(i, backend, name) for i in range(count)]
            result, first = timed_module("wg_container_ifaces", {"interfaces": interfaces})
            assert all(r["changed"] for r in result["results"])
            result, rerun = timed_module("wg_container_ifaces", {"interfaces": interfaces})
            assert not result["changed"]
            row("wg_container_ifaces, %s, %d namespaces in one run" % (backend, count), first,
                "(%.2f s per interface)" % (first / count))
            row("wg_container_ifaces, %s, again with nothing to change" % backend, rerun)
            reached = sum(ns.ping(hub.address).returncode == 0 for ns in namespaces[:3])
            assert reached == 3, "only %d of 3 namespaces reach the hub" % reached
            timed_module("wg_container_ifaces", {"interfaces": [dict(i, state="absent") for i in interfaces]})
    finally:
        for ns in namespaces:
            ns.close()
        hub.close()


def bench_hub(prefix, backends):
    from wgtest import genkey, sh

    pool = "10.%d.0.0/%d" % (96 + prefix, prefix)
    hub_address = str(ipaddress.ip_network(pool)[-2])
    count = 2 ** (32 - prefix) - 3  # the pool's hosts but the hub
    keys = [genkey()[1]] + [base64.b64encode(os.urandom(32)).decode() for _index in range(count - 1)]
    for backend in backends:
        args = {"name": "wgbpool", "address": [hub_address + "/%d" % prefix], "private_key": genkey()[0],
                "listen_port": 51830, "pool": [pool], "pool_exclude": [hub_address],
                "pool_public_keys_text": "\n".join(keys), "config_path": "/run/wgbpool.conf", "backend": backend,
                "forward": False}
        try:
            result, first = timed_module("wg_hub", args)
            assert result["interface"]["peer_count"] == count and result["interface"]["backend"] == backend
            row("wg_hub, %s, /%d pool (%d peers), from nothing" % (backend, prefix, count), first)
            result, again = timed_module("wg_hub", args)
            assert not result["changed"]
            row("wg_hub, %s, /%d pool, again with nothing to change" % (backend, prefix), again)
            rekeyed = dict(args, pool_public_keys_text="\n".join([keys[0], genkey()[1]] + keys[2:]))
            result, rekey = timed_module("wg_hub", rekeyed)
            assert [line.split()[0] for line in result["changes"][:2]] == ["add", "remove"], result["changes"]
            row("wg_hub, %s, /%d pool, re-key one address" % (backend, prefix), rekey)
            result, gone = timed_module("wg_hub", dict(args, state="absent"))
            assert result["changed"]
            row("wg_hub, %s, /%d pool, state=absent" % (backend, prefix), gone)
        finally:
            sh("ip", "link", "del", "wgbpool", check=False)
    if "kernel" in backends:
        bench_device(prefix, count)


def bench_device(prefix, count):
    """The device layer alone, in process: what the module adds on top is start-up and key handling."""
    from ansible_collections.wgnet.containers.plugins.module_utils.device.backends import choose
    from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import Namespace
    from ansible_collections.wgnet.containers.plugins.module_utils.device.config import normalize_peers
    from pyroute2 import IPRoute
    from wgtest import genkey

    peers = normalize_peers([{"public_key": base64.b64encode(os.urandom(32)).decode(),
                              "allowed_ips": ["10.200.%d.%d/32" % divmod(i, 256)]} for i in range(count)])
    config = {"private_key": genkey()[0], "listen_port": 51831, "fwmark": 0, "peers": peers}
    ns = Namespace("/proc/self/ns/net")
    with IPRoute() as ipr:
        try:
            start = time.monotonic()
            device = choose("kernel", None).create(ns, None, "wgbdev", config, ipr)
            made = time.monotonic() - start
            start = time.monotonic()
            read, _stats = device.get()
            got = time.monotonic() - start
            assert len(read["peers"]) == count
        finally:
            start = time.monotonic()
            ipr.link("del", ifname="wgbdev")
            deleted = time.monotonic() - start
            ns.close()
    row("  in process: KernelBackend.create, %d peers (batched, wggenl)" % count, made,
        "(%.2f ms per peer)" % (made * 1000 / count))
    row("  in process: KernelDevice.get, %d peers (one dump)" % count, got)
    row("  in process: RTM_DELLINK of the link with %d peers" % count, deleted)


def inside(args):
    print("kernel %s, %d vCPUs (qemu TCG), Python %s" % (platform.release(), os.cpu_count(),
                                                         platform.python_version()), flush=True)
    if args.count:
        bench_attach(args.count)
    for prefix in args.pools:
        bench_hub(prefix, args.hub_backends)
    results = os.environ.get("WGNET_VM_RESULTS")
    if results:
        with open(os.path.join(results, "bench.json"), "w") as handle:
            json.dump({"kernel": platform.release(), "rows": ROWS}, handle, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="namespaces to attach (0: none)")
    parser.add_argument("--pools", default="22,20", help="hub pool prefix lengths, comma-separated")
    parser.add_argument("--hub-backends", default="kernel,userspace", help="wg_hub backends, comma-separated")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds the VM may run")
    args = parser.parse_args()
    args.pools = [int(p) for p in args.pools.split(",") if p]
    args.hub_backends = [b for b in args.hub_backends.split(",") if b]
    if IN_VM:
        return inside(args)
    results = os.path.join(REPO, ".cache", "vm", "bench")
    command = [os.path.join(REPO, "scripts", "vm-run.sh"), "--results", results, "--timeout", str(args.timeout),
               "--", "python3", "bench/kernel_vm.py", "--count", str(args.count),
               "--pools", ",".join(str(p) for p in args.pools), "--hub-backends", ",".join(args.hub_backends)]
    load = os.getloadavg()[0]
    code = subprocess.call(command)
    print("host: %s, %d cores, load average %.2f at the start" % (platform.platform(), os.cpu_count(), load))
    return code


if __name__ == "__main__":
    sys.exit(main())
