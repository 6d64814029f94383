"""Benchmark: each container's outage while playbooks/rotate.yml re-keys the fleet.

Uses the Molecule scenario `rotation` (a hub and two Docker-in-Docker hosts) with --apps app
containers on each Docker host: creates and converges it on generation A (unless --reuse), starts
`ping -D -i 0.05` to the hub in every container, runs rotate.yml with a new additional, lets the
pings run 2 s more, and reads them back. A container's outage is the longest gap between two
consecutive replies, less the 50 ms interval. Every container must answer again at the end.

Run as root from the repo root, machine set up (scripts/machine-setup.sh, scripts/venv.sh):
    .venv/bin/python bench/rotation_outage.py [--apps 10] [--reuse] [--keep]
"""

import argparse
import base64
import os
import platform
import re
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from collection_link import link_collection  # noqa: E402

link_collection()

from test_molecule import molecule_env  # noqa: E402

SCENARIO = "rotation"
HOSTS = ("rot-docker1", "rot-docker2")
HUB_ADDRESS = "10.0.42.254"
INTERVAL = 0.05
REPLY = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from")


def bench_env(apps):
    env = molecule_env()
    # A fixed ephemeral directory: its inventory and ansible.cfg serve the rotate.yml run.
    env.update(MOLECULE_EPHEMERAL_DIRECTORY=os.path.join(REPO, ".cache", "molecule", "bench-rotation"),
               WGNET_ROTATION_APPS=str(apps))
    return env


def run(args, env, **kwargs):
    result = subprocess.run(args, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            check=False, **kwargs)
    if result.returncode != 0:
        sys.exit("%s failed (%d):\n%s%s" % (" ".join(args), result.returncode, result.stdout[-4000:], result.stderr[-4000:]))
    return result.stdout


def in_app(host, app, *command, detach=False):
    return ["docker", "exec", host, "docker", "exec"] + (["-d"] if detach else []) + [app] + list(command)


def app_names(host):
    return sorted(run(["docker", "exec", host, "docker", "ps", "--format", "{{.Names}}"], os.environ).split())


def start_pings(apps):
    for host in HOSTS:
        for app in apps[host]:
            run(in_app(host, app, "sh", "-c", "echo $$ > /tmp/bench-ping.pid; exec ping -D -i %s %s > /tmp/bench-ping.log 2>&1"
                       % (INTERVAL, HUB_ADDRESS), detach=True), os.environ)


def outages(apps):
    """{(host, app): seconds without a reply}, after stopping the pings."""
    found = {}
    for host in HOSTS:
        for app in apps[host]:
            run(in_app(host, app, "sh", "-c", 'kill -INT "$(cat /tmp/bench-ping.pid)"; sleep 0.2'), os.environ)
            log = run(in_app(host, app, "cat", "/tmp/bench-ping.log"), os.environ)
            replies = [float(m.group(1)) for m in map(REPLY.match, log.splitlines()) if m]
            if len(replies) < 2:
                sys.exit("%s/%s: fewer than two replies:\n%s" % (host, app, log[-2000:]))
            found[(host, app)] = max(b - a for a, b in zip(replies, replies[1:])) - INTERVAL
    return found


def rotate(env, additional):
    ephemeral = env["MOLECULE_EPHEMERAL_DIRECTORY"]
    with open(os.path.join(ephemeral, "wgnet_additional"), "w") as handle:
        handle.write(additional)
    env = dict(env, ANSIBLE_CONFIG=os.path.join(ephemeral, "ansible.cfg"))
    start = time.monotonic()
    run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", os.path.join(ephemeral, "inventory"),
         "wgnet.containers.rotate"], env)
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=10, help="app containers per Docker host")
    parser.add_argument("--reuse", action="store_true", help="the scenario is already converged with --apps")
    parser.add_argument("--keep", action="store_true", help="leave the hosts for another run")
    options = parser.parse_args()
    env = bench_env(options.apps)
    molecule = os.path.join(REPO, ".venv", "bin", "molecule")
    run(["bash", os.path.join(REPO, "scripts", "molecule-deps.sh")], env)
    if not options.reuse:
        for step in ("destroy", "create", "prepare", "converge"):
            run([molecule, step, "-s", SCENARIO], env)
    apps = {host: app_names(host) for host in HOSTS}
    start_pings(apps)
    time.sleep(2)
    additional = base64.b64encode(("bench-%d" % time.time()).encode()).decode()
    took = rotate(env, additional)
    time.sleep(2)
    found = outages(apps)
    if not options.keep:
        run([molecule, "destroy", "-s", SCENARIO], env)
    values = sorted(found.values())
    print("machine: %s, %d cores; %s" % (platform.node(), os.cpu_count(), time.strftime("%Y-%m-%d")))
    print("rotate.yml: %d Docker hosts x %d containers, run took %.1f s" % (len(HOSTS), options.apps, took))
    print("outage per container: max %.2f s, median %.2f s, min %.2f s" % (
        values[-1], statistics.median(values), values[0]))
    for (host, app), seconds in sorted(found.items()):
        print("  %-12s %-6s %.2f s" % (host, app, seconds))


if __name__ == "__main__":
    main()
