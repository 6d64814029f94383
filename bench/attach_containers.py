"""Benchmark: attach 100 containers on this machine with the userspace backend.

Prints, for N containers started with --network none and a wireguard-go hub:
  - wg_container_ifaces, one task via ansible-playbook, from nothing;
  - the same task again, with nothing to change;
  - the naive way: wg_container_iface in an Ansible loop, one round-trip each;
  - wireguard-go memory (RSS) per attached container.
Every container is checked to reach the hub through its tunnel.

Run as root from the repo root: .venv/bin/python bench/attach_containers.py [--count 100] [--no-naive]
Past 250 containers, they share several hubs (a hub is a /24). Past 128 wireguard-go processes,
fs.inotify.max_user_instances must be raised first (the install role's install_inotify_instances).
"""

import argparse
import base64
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from collection_link import link_collection  # noqa: E402

link_collection()

from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver  # noqa: E402
from wgtest import Hub, in_container, remove_container, sh, start_container  # noqa: E402

PER_HUB = 250  # containers per hub: a hub's tunnel network is a /24

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


def playbook(workdir, text, vars_file):
    path = os.path.join(workdir, "play.yml")
    with open(path, "w") as handle:
        handle.write(text)
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0")
    start = time.perf_counter()
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                          "-c", "local", "-e", "@" + vars_file, path], env=env, check=False, capture_output=True,
                         text=True)
    if run.returncode:
        sys.exit("ansible-playbook failed:\n" + run.stdout[-3000:] + run.stderr[-2000:])
    return time.perf_counter() - start


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
            names = list(pool.map(lambda _: start_container(), range(args.count)))
        deriver = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), "")
        hub_of = [hubs[i // PER_HUB] for i in range(args.count)]
        addresses = ["10.77.%d.%d" % (hub.subnet, i % PER_HUB + 2) for i, hub in enumerate(hub_of)]
        keys = deriver.derive_many(addresses, include_private=True)
        for key, hub in zip(keys, hub_of):
            hub.add_peer(key["public_key"], key["address"])
        interfaces = [{"container": name, "address": [key["address"] + "/32"], "private_key": key["private_key"],
                       "backend": "userspace", "peers": [hub.peer_spec()]} for name, key, hub in zip(names, keys, hub_of)]
        with tempfile.TemporaryDirectory() as workdir:
            vars_file = os.path.join(workdir, "vars.json")
            with os.fdopen(os.open(vars_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
                json.dump({"interfaces": interfaces}, handle)
            first = playbook(workdir, BATCH % "changed", vars_file)
            rerun = playbook(workdir, BATCH % "not changed", vars_file)
            with ThreadPoolExecutor(8) as pool:
                failures = [n for n, r in zip(names, pool.map(
                    lambda pair: in_container(pair[0], "ping", "-c", "1", "-W", "3", pair[1].address),
                    zip(names, hub_of))) if r.returncode]
            pids = [int(p) for p in sh("pgrep", "-f", "wireguard-go -f wgn").stdout.split()]
            rss = wireguard_go_rss(pids)
            detach_all(workdir, names)
            naive = None
            if args.naive:
                naive = playbook(workdir, LOOP, vars_file)
                detach_all(workdir, names)
        print("machine: %s, %d cores, Python %s" % (platform.platform(), os.cpu_count(), platform.python_version()))
        print("containers: %d, backend userspace (%s)" % (args.count, sh("wireguard-go", "--version").stdout.split()[1]))
        print("%-48s %8.2f s" % ("wg_container_ifaces, one task, from nothing", first))
        print("%-48s %8.2f s" % ("wg_container_ifaces, one task, no change", rerun))
        if naive is not None:
            print("%-48s %8.2f s" % ("naive: wg_container_iface in a loop", naive))
        print("%-48s %8.0f KiB (%d processes)" % ("wireguard-go RSS per attached container", rss, len(pids)))
        print("containers that reached the hub: %d of %d" % (args.count - len(failures), args.count))
        if failures:
            sys.exit("unreachable: %s" % ", ".join(failures))
    finally:
        for name in names:
            remove_container(name)
        for hub in hubs:
            hub.close()


if __name__ == "__main__":
    main()
