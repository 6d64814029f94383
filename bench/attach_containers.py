"""Benchmark: attach 100 containers on this machine with the userspace backend.

Prints, for N containers started with --network none and a wireguard-go hub, each beside the anchor
measured in the same run (bench/attach_by_hand.sh: the same work by hand in a shell loop) as a ratio:
  - wg_container_ifaces, one task via ansible-playbook, from nothing, then with nothing to change;
  - the same module run alone, as Ansible runs it on a host (no ansible-playbook around it);
  - the naive way: wg_container_iface in an Ansible loop, one round-trip each;
  - the floor under all of them: the kernel moving N TUN devices into N namespaces, alone, in one
    `ip -batch` (every way of attaching makes its interface on the host and moves it; the kernel
    serializes the moves under its RTNL lock);
  - wireguard-go memory (RSS) per attached container, and the load average before each figure.
Every container is checked to reach the hub through its tunnel, after the shell loop and after the module.

Run as root from the repo root: .venv/bin/python bench/attach_containers.py [--count 100] [--no-naive]
Past 250 containers, they share several hubs (a hub is a /24). Past 128 wireguard-go processes,
fs.inotify.max_user_instances must be raised first (the install role's install_inotify_instances).
"""

import argparse
import base64
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from collection_link import link_collection  # noqa: E402

link_collection()

from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver  # noqa: E402
from wgtest import Hub, in_container, remove_container, run_module, sh, start_container, wait_for  # noqa: E402

PER_HUB = 250  # containers per hub: a hub's tunnel network is a /24
BY_HAND = os.path.join(REPO, "bench", "attach_by_hand.sh")

BATCH = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Attach every container in one task
      wgnet.containers.wg_container_ifaces:
        interfaces: "{{ interfaces }}"
      register: attached
    - ansible.builtin.assert:
        that: attached is %s
"""

LOOP = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Attach one container per loop item
      wgnet.containers.wg_container_iface: "{{ item }}"
      loop: "{{ interfaces }}"
      loop_control:
        label: "{{ item.container }}"
      no_log: true
"""


class Figures:
    """Each figure with the load average just before it was measured."""

    def __init__(self):
        self.rows = []

    def measure(self, label, work):
        load = os.getloadavg()[0]
        start = time.perf_counter()
        work()
        self.rows.append((label, time.perf_counter() - start, load))
        return self.rows[-1][1]

    def print(self, anchor):
        for label, seconds, load in self.rows:
            print("%-52s %8.2f s  %5.2f x the shell loop  (load %.2f)" % (label, seconds, seconds / anchor, load))


def playbook(workdir, text, vars_file):
    path = os.path.join(workdir, "play.yml")
    with open(path, "w") as handle:
        handle.write(text)
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0")
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                          "-c", "local", "-e", "@" + vars_file, path], env=env, check=False, capture_output=True,
                         text=True)
    if run.returncode:
        sys.exit("ansible-playbook failed:\n" + run.stdout[-3000:] + run.stderr[-2000:])


def module_alone(interfaces, changed):
    """The module as Ansible runs it on a host; returns the pids of its wireguard-go processes."""
    result = run_module("wg_container_ifaces", {"interfaces": interfaces})
    if result.get("failed") or result["changed"] != changed:
        sys.exit("wg_container_ifaces: changed=%s, expected %s: %s" % (result.get("changed"), changed,
                                                                       result.get("msg", result["_raw"][-2000:])))
    return [one["interface"]["pid"] for one in result["results"]]


def by_hand(workdir, names, interfaces):
    """Run the shell loop; returns the pids of the wireguard-go processes it started."""
    table, pidfile = os.path.join(workdir, "table"), os.path.join(workdir, "pids")
    rows = []
    for index, (name, one) in enumerate(zip(names, interfaces)):
        key_file = os.path.join(workdir, "%d.key" % index)
        with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write(one["private_key"])
        hub = one["peers"][0]
        fields = (name, index, key_file, one["address"][0], hub["public_key"], hub["endpoint"], hub["allowed_ips"][0])
        rows.append("%s wgattach%d %s %s %s %s %s\n" % fields)
    with open(table, "w") as handle:
        handle.writelines(rows)
    sh("bash", BY_HAND, table, pidfile)
    with open(pidfile) as handle:
        return [int(pid) for pid in handle.read().split()]


def kernel_moves(figures, count, workdir):
    """The floor: ``count`` TUN devices made on the host beforehand, then moved into as many new namespaces."""
    tag = uuid.uuid4().hex[:6]
    moves = [("wgmv%s%d" % (tag, i), "wgmv-%s-%d" % (tag, i)) for i in range(count)]
    batch = os.path.join(workdir, "moves")
    with open(batch, "w") as handle:
        handle.writelines("link set %s netns %s\n" % move for move in moves)
    try:
        for link, space in moves:
            sh("ip", "netns", "add", space)
            sh("ip", "tuntap", "add", "dev", link, "mode", "tun")
        figures.measure("floor: the kernel's moves alone (ip -batch)", lambda: sh("ip", "-batch", batch))
    finally:
        for link, space in moves:
            sh("ip", "link", "del", link, check=False)
            sh("ip", "-n", space, "link", "del", link, check=False)
            sh("ip", "netns", "del", space, check=False)


def stop(pids):
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not any(alive(pid) for pid in pids), "the shell loop's wireguard-go to end")


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def unreachable(names, hub_of):
    with ThreadPoolExecutor(8) as pool:
        replies = pool.map(lambda pair: in_container(pair[0], "ping", "-c", "1", "-W", "3", pair[1].address),
                           zip(names, hub_of))
        return [name for name, reply in zip(names, replies) if reply.returncode]


def wireguard_go_rss(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/status" % pid) as handle:
            total += next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
    return total / len(pids)


def detach_all(workdir, names):
    vars_file = os.path.join(workdir, "absent.json")
    with open(vars_file, "w") as handle:
        json.dump({"interfaces": [{"container": n, "state": "absent"} for n in names]}, handle)
    playbook(workdir, BATCH % "changed", vars_file)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--no-naive", dest="naive", action="store_false",
                        help="skip the loop of wg_container_iface tasks (minutes at 500 containers)")
    args = parser.parse_args()
    hubs = [Hub(subnet=5 + i) for i in range(-(-args.count // PER_HUB))]
    names = []
    try:
        with ThreadPoolExecutor(8) as pool:
            names = list(pool.map(lambda _: start_container("wgattach-" + uuid.uuid4().hex[:8]), range(args.count)))
        deriver = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), "")
        hub_of = [hubs[i // PER_HUB] for i in range(args.count)]
        addresses = ["10.77.%d.%d" % (hub.subnet, i % PER_HUB + 2) for i, hub in enumerate(hub_of)]
        keys = deriver.derive_many(addresses, include_private=True)
        for key, hub in zip(keys, hub_of):
            hub.add_peer(key["public_key"], key["address"])
        interfaces = [{"container": name, "address": [key["address"] + "/32"], "private_key": key["private_key"],
                       "backend": "userspace", "peers": [hub.peer_spec()]} for name, key, hub in zip(names, keys, hub_of)]
        figures = Figures()
        failures = {}
        with tempfile.TemporaryDirectory() as workdir:
            pids = []
            anchor = figures.measure("anchor: the shell loop (attach_by_hand.sh)",
                                     lambda: pids.extend(by_hand(workdir, names, interfaces)))
            failures["the shell loop"] = unreachable(names, hub_of)
            stop(pids)
            vars_file = os.path.join(workdir, "vars.json")
            with os.fdopen(os.open(vars_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
                json.dump({"interfaces": interfaces}, handle)
            figures.measure("wg_container_ifaces, one task, from nothing", lambda: playbook(
                workdir, BATCH % "changed", vars_file))
            figures.measure("wg_container_ifaces, one task, no change", lambda: playbook(
                workdir, BATCH % "not changed", vars_file))
            failures["wg_container_ifaces"] = unreachable(names, hub_of)
            detach_all(workdir, names)
            figures.measure("the module alone, from nothing", lambda: module_alone(interfaces, True))
            pids = []
            figures.measure("the module alone, no change", lambda: pids.extend(module_alone(interfaces, False)))
            rss = wireguard_go_rss(pids)
            detach_all(workdir, names)
            kernel_moves(figures, args.count, workdir)
            if args.naive:
                figures.measure("naive: wg_container_iface in a loop", lambda: playbook(workdir, LOOP, vars_file))
                detach_all(workdir, names)
        print("machine: %s, %d cores, Python %s" % (platform.platform(), os.cpu_count(), platform.python_version()))
        print("containers: %d, backend userspace (%s)" % (args.count, sh("wireguard-go", "--version").stdout.split()[1]))
        figures.print(anchor)
        print("%-52s %8.0f KiB (%d processes)" % ("wireguard-go RSS per attached container", rss, len(pids)))
        for who, unreached in failures.items():
            print("containers that reached the hub after %s: %d of %d" % (who, args.count - len(unreached), args.count))
        if any(failures.values()):
            sys.exit("unreachable: %s" % failures)
    finally:
        for name in names:
            remove_container(name)
        for hub in hubs:
            hub.close()


if __name__ == "__main__":
    main()
