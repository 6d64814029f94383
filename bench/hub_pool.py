"""Benchmark: the hub role with a /16 pool (65,534 peers), userspace backend.

Runs `ansible-playbook` with the wgnet.containers.hub role against a "hub host"
(a network namespace of this machine, reached through an interpreter wrapper):
  1. from nothing: keys derived on the controller, the hub brought up with every peer;
  2. again with nothing to change (the hub's live pool matches its record: nothing derived, no cache);
  3. again after one pool peer was removed by hand (the live pool no longer matches the record:
     every key derived again, the peer put back);
and, in the same run, the anchors by hand: `wg setconf` of the same peers on a fresh wireguard-go
plus the derivation in process (OpenSSL), and `wg show dump` of the live hub; each run of the role
is printed as a ratio to its anchor, with the load average before it (the machine may be shared), and
with the CPU seconds it cost: this process's, its children's (ansible-playbook, the modules, the derivation
workers, wg) and the hub's wireguard-go's. On a shared machine the CPU seconds say more than the wall time.
Run as root from the repo root: .venv/bin/python bench/hub_pool.py [--pool 10.80.0.0/16]
"""

import argparse
import base64
import ipaddress
import os
import platform
import signal
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


def load():
    return os.getloadavg()[0]


def namespace_cpu(netns):
    """CPU seconds of the processes in the namespace (the hub's wireguard-go, which is no child of ours)."""
    pids = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, check=False).stdout.split()
    ticks = 0
    for pid in pids:
        try:
            with open("/proc/%s/stat" % pid) as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measured(netns, work):
    """(load before, wall seconds, CPU seconds, work's result) of ``work()``."""
    before, wall, cpu = load(), time.monotonic(), namespace_cpu(netns)
    times = os.times()
    result = work()
    after = os.times()
    cpu = sum(after[i] - times[i] for i in range(4)) + namespace_cpu(netns) - cpu
    return before, time.monotonic() - wall, cpu, result


def run(workdir, extra):
    result, _elapsed = run_role("hub", workdir, extra)
    if result.returncode:
        sys.exit("ansible-playbook failed:\n" + result.stdout[-3000:] + result.stderr[-2000:])
    return int(result.stdout.rpartition("changed=")[2].split()[0])


def timed(*command, **kwargs):
    start = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, **kwargs)
    return time.monotonic() - start


def anchor_from_nothing(netns, extra, config_path, name):
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
    process = subprocess.Popen(["ip", "netns", "exec", netns, "wireguard-go", "-f", name],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists("/var/run/wireguard/%s.sock" % name), "anchor socket")
        setconf = timed("ip", "netns", "exec", netns, "wg", "setconf", name, stripped)
    finally:
        process.terminate()
        process.wait()
    return derived + setconf, derived, setconf


def stop_processes_of(netns):
    """Stop the processes this run started in its namespace (the hub's wireguard-go), by their ids."""
    pids = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, check=False).stdout.split()
    for pid in pids:
        os.kill(int(pid), signal.SIGTERM)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", default="10.80.0.0/16")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:6]
    # wireguard-go's sockets are in one folder for every namespace of the machine: names of this run's own.
    netns, name = "wgt-hubbench-" + tag, "wgbh" + tag
    subprocess.run(["ip", "netns", "add", netns], check=True)
    workdir = tempfile.mkdtemp()
    wrapper = os.path.join(workdir, "python-on-hub")
    with open(wrapper, "w") as handle:
        handle.write("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n" % (netns, sys.executable))
    os.chmod(wrapper, 0o755)
    hub_address = str(ipaddress.ip_network(args.pool).broadcast_address - 1)
    extra = {"wgnet_seed": base64.b64encode(os.urandom(32)).decode(), "wgnet_additional": "Z2VuLTE=",
             "wgnet_pool": args.pool, "wgnet_hub_address": hub_address, "wgnet_python": wrapper,
             "wgnet_backend": "userspace", "wgnet_hub_forward": False,
             "wgnet_hub_config_path": os.path.join(workdir, "etc", name + ".conf"), "wgnet_hub_interface": name,
             "wgnet_state_dir": os.path.join(workdir, "state")}
    wg = ["ip", "netns", "exec", netns, "wg"]
    try:
        first = measured(netns, lambda: run(workdir, extra))
        again = measured(netns, lambda: run(workdir, extra))
        peers = subprocess.run(wg + ["show", name, "peers"], check=True, capture_output=True, text=True).stdout.split()
        subprocess.run(wg + ["set", name, "peer", peers[0], "remove"], check=True)
        drift = measured(netns, lambda: run(workdir, extra))
        dump = measured(netns, lambda: timed(*wg, "show", name, "dump"))
        anchor = measured(netns, lambda: anchor_from_nothing(netns, extra, extra["wgnet_hub_config_path"], "wgba" + tag))
        print("machine: %s, %d cores, Python %s; shared with other jobs: the load average before each line"
              % (platform.platform(), os.cpu_count(), platform.python_version()))
        print("pool: %s, hub peers live: %d" % (args.pool, len(peers)))
        line = "%-56s %6.2f s, CPU %6.2f s (%s; load %.1f)"
        print(line % ("anchor: by hand from nothing", anchor[1], anchor[2],
                      "derive %.2f s + wg setconf %.2f s" % anchor[3][1:], anchor[0]))
        print(line % ("anchor: wg show dump of the live hub", dump[1], dump[2], "", dump[0]))
        print(line % ("hub role from nothing (derive + apply)", first[1], first[2], "changed=%d, %.2f x its anchor, CPU %.2f x"
                      % (first[3], first[1] / anchor[1], first[2] / anchor[2]), first[0]))
        for label, (before, wall, cpu, changed) in (("hub role again, nothing to change (nothing derived)", again),
                                                    ("hub role again, one pool peer removed by hand", drift)):
            print(line % (label, wall, cpu, "changed=%d, %.2f x wg show dump, CPU %.2f x" % (changed, wall / dump[1], cpu / max(dump[2], 0.01)),
                          before))
    finally:
        stop_processes_of(netns)
        subprocess.run(["ip", "netns", "del", netns], check=False)


if __name__ == "__main__":
    main()
