"""Benchmark: a no-change site.yml as the fleet grows, wall time and the controller's CPU.

Starts a hub and up to max(--hosts) Docker hosts, each a Docker-in-Docker container made as the
Molecule scenario `default` makes its own (the same image, capabilities and tmpfs; its prepare.yml
starts the inner dockerd and --apps app containers on --network none). For each fleet size in
--hosts, the first N Docker hosts form the inventory: site.yml converges them, runs once more (a
warm-up that must change nothing), then --runs no-change runs are timed. Beside each, the anchor of
the same moment: a bare ansible.builtin.ping play on the same hosts, the floor of Ansible itself.
Wall time is measured around ansible-playbook; the controller's CPU is resource.getrusage(
RUSAGE_CHILDREN) around it (ansible-playbook, its forks and the `docker exec` clients of the
connection; the hosts run in containers, so their own work is not counted). The load average is
printed with each row: the machine may be shared.

Its hosts and network are named with --prefix (default fsb-), so that it can run next to the
Molecule scenarios. --collection runs site.yml from another checkout of the collection (the code
before a change, in the same hour). Slices are fixed at /27 (up to 8 hosts in the /24), so that a
host keeps its slice as the fleet grows.

Run as root from the repo root, machine set up (scripts/machine-setup.sh, scripts/venv.sh,
scripts/molecule-deps.sh):
    .venv/bin/python bench/fleet_scale.py [--hosts 1,2,4,8] [--apps 10] [--runs 2] [--plot docs/fleet_scale.png]
        [--results figures.json] [--keep]
    .venv/bin/python bench/fleet_scale.py --from-results figures.json --plot docs/fleet_scale.png
"""

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
from collection_link import COLLECTIONS, link_collection  # noqa: E402

link_collection()

# The options of molecule/default/molecule.yml's platforms, as `docker run` arguments.
HOST_OPTIONS = ["--cap-add", "NET_ADMIN", "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined",
                "--security-opt", "apparmor=unconfined", "--device", "/dev/net/tun", "--tmpfs", "/var/lib/docker:exec"]
IMAGE = "wgnet/host:bookworm"
APP_IMAGE = "wgnet/app:bookworm"
PING_PLAY = [{"name": "The floor of Ansible: one ping a host", "hosts": "all", "gather_facts": False,
              "tasks": [{"name": "Ping", "ansible.builtin.ping": None}]}]
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def run(args, env=None, **kwargs):
    result = subprocess.run(args, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            check=False, **kwargs)
    if result.returncode != 0:
        sys.exit("%s failed (%d):\n%s%s" % (" ".join(args), result.returncode, result.stdout[-6000:], result.stderr[-3000:]))
    return result.stdout


def host_names(prefix, count):
    return prefix + "hub", ["%sd%d" % (prefix, i) for i in range(1, count + 1)]


def start_hosts(prefix, names):
    """Starts each named host that is not running yet, on the bench's own Docker network."""
    network = prefix + "net"
    if subprocess.run(["docker", "network", "inspect", network], capture_output=True, check=False).returncode != 0:
        run(["docker", "network", "create", network])
    running = set(run(["docker", "ps", "--format", "{{.Names}}"]).split())
    for name in names:
        if name not in running:
            run(["docker", "run", "-d", "--name", name, "--hostname", name, "--network", network] + HOST_OPTIONS + [IMAGE])


def remove_hosts(prefix, names):
    subprocess.run(["docker", "rm", "-f"] + names, capture_output=True, check=False)
    subprocess.run(["docker", "network", "rm", prefix + "net"], capture_output=True, check=False)


def write_inventory(path, hub, docker_hosts, apps):
    """The scenario `default`'s inventory, for these hosts (JSON is YAML)."""
    apps = ["app%d" % i for i in range(1, apps + 1)]
    connection = {"ansible_connection": "community.docker.docker"}
    inventory = {"all": {"vars": {
        # Test values only: a seed made for this benchmark, never used anywhere else.
        "wgnet_seed": "8m0rX3v0dV1kq2S0pJ4bS7mC0lqQ2sUQy3T9fZr6W1E=",
        "wgnet_additional": "ZmxlZXQtc2NhbGUtMQ==",
        "wgnet_pool": "10.0.42.0/24", "wgnet_hub_address": "10.0.42.254", "wgnet_hub_endpoint": hub + ":51820",
        "wgnet_hub_listen_port": 51820, "wgnet_backend": "auto", "wgnet_slice_prefix": 27}},
        "wg_hub": {"hosts": {hub: connection}},
        "docker_hosts": {"hosts": {name: connection for name in docker_hosts},
                         "vars": {"wgnet_containers": [{"name": app} for app in apps],
                                  "molecule_app_containers": apps, "molecule_app_image": APP_IMAGE}}}
    with open(path, "w") as handle:
        json.dump(inventory, handle, indent=1)


def playbook_env(collections, forks):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_PIPELINING="true", ANSIBLE_NOCOLOR="1",
               ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3", ANSIBLE_FORKS=str(forks), ANSIBLE_HOST_KEY_CHECKING="false")
    return env


def timed_playbook(playbook, inventory, env):
    """Runs ansible-playbook; returns (wall seconds, controller CPU seconds, {host: changed})."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    out = run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", inventory, playbook], env)
    wall, after = time.monotonic() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, {host: int(changed) for host, _ok, changed, _u, _f in RECAP.findall(out)}


def measure(size, options, work):
    """One fleet size: converge its hosts, then the timed no-change runs and their anchors."""
    hub, docker_hosts = host_names(options.prefix, size)
    start_hosts(options.prefix, [hub] + docker_hosts)
    inventory = os.path.join(work, "inventory-%d.json" % size)
    write_inventory(inventory, hub, docker_hosts, options.apps)
    env = playbook_env(COLLECTIONS, size + 1)
    # Another checkout's wgnet.containers first; community.docker (the connection) from this one's.
    site_env = playbook_env(os.pathsep.join(filter(None, [options.collection, COLLECTIONS])), size + 1)
    run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", inventory,
         os.path.join(REPO, "molecule", "default", "prepare.yml")], env)
    run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", inventory, "wgnet.containers.site"], site_env)
    timed_playbook("wgnet.containers.site", inventory, site_env)  # warm-up: its changes, if any, are not timed
    ping = os.path.join(work, "ping.json")
    with open(ping, "w") as handle:
        json.dump(PING_PLAY, handle)
    rows = []
    while len(rows) < options.runs:
        load = os.getloadavg()[0]
        site = timed_playbook("wgnet.containers.site", inventory, site_env)
        floor = timed_playbook(ping, inventory, env)
        rows.append({"hosts": size, "load": load, "site_wall": site[0], "site_cpu": site[1],
                     "changed": sum(site[2].values()), "ping_wall": floor[0], "ping_cpu": floor[1]})
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def print_table(rows, apps):
    print("%-6s %-10s %-9s %-9s %-9s %-9s %-13s %-8s %s" % (
        "hosts", "containers", "site s", "ping s", "site CPU", "ping CPU", "CPU/host site", "changed", "load"))
    for row in rows:
        print("%-6d %-10d %-9.2f %-9.2f %-9.2f %-9.2f %-13.2f %-8d %.2f" % (
            row["hosts"], row["hosts"] * apps, row["site_wall"], row["ping_wall"], row["site_cpu"], row["ping_cpu"],
            row["site_cpu"] / (row["hosts"] + 1), row["changed"], row["load"]))
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        extra = last["hosts"] - first["hosts"]
        print("marginal Docker host (%d to %d hosts): site.yml %.2f s wall, %.2f s controller CPU; ping %.2f s, %.2f s" % (
            first["hosts"], last["hosts"], (last["site_wall"] - first["site_wall"]) / extra,
            (last["site_cpu"] - first["site_cpu"]) / extra, (last["ping_wall"] - first["ping_wall"]) / extra,
            (last["ping_cpu"] - first["ping_cpu"]) / extra))


def plot(rows, apps, path):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    hosts = [row["hosts"] for row in rows]
    figure, (walls, cpus) = pyplot.subplots(1, 2, figsize=(10, 4))
    for axes, key, title in ((walls, "wall", "wall time (s)"), (cpus, "cpu", "controller CPU (s)")):
        axes.plot(hosts, [row["site_" + key] for row in rows], "o-", label="site.yml, nothing to change")
        axes.plot(hosts, [row["ping_" + key] for row in rows], "s--", label="anchor: one ping a host")
        axes.set_xlabel("Docker hosts (%d containers each) + the hub" % apps)
        axes.set_title(title)
        axes.set_xticks(hosts)
        axes.set_ylim(bottom=0)
        axes.grid(alpha=0.3)
    walls.legend()
    figure.suptitle("wgnet.containers: no-change site.yml by fleet size (%s, %d cores, shared; %s)" % (
        platform.node(), os.cpu_count(), time.strftime("%Y-%m-%d")), fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def measure_sizes(options):
    """The figures of each fleet size, printed (and saved with --results) as each one ends."""
    sizes = [int(size) for size in options.hosts.split(",")]
    run(["bash", os.path.join(REPO, "scripts", "molecule-deps.sh")])
    print("machine: %s, %d cores; %s; load before: %.2f (the machine is shared)" % (
        platform.node(), os.cpu_count(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()[0]))
    rows = []
    with tempfile.TemporaryDirectory(prefix="fleet-scale-") as work:
        try:
            for size in sizes:
                rows.append(measure(size, options, work))
                print_table(rows[-1:], options.apps)
                sys.stdout.flush()
                if options.results:
                    with open(options.results, "w") as handle:
                        json.dump(rows, handle, indent=1)
        finally:
            if not options.keep:
                hub, docker_hosts = host_names(options.prefix, max(sizes))
                remove_hosts(options.prefix, [hub] + docker_hosts)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1,2,4,8", help="fleet sizes, Docker hosts, comma-separated, growing")
    parser.add_argument("--apps", type=int, default=10, help="app containers per Docker host")
    parser.add_argument("--runs", type=int, default=2, help="timed no-change runs per size (the median is shown)")
    parser.add_argument("--prefix", default="fsb-", help="prefix of the bench's hosts and network")
    parser.add_argument("--collection", help="a collections path whose wgnet.containers runs the timed site.yml (the code before a change)")
    parser.add_argument("--plot", help="write the plot to this PNG")
    parser.add_argument("--keep", action="store_true", help="leave the hosts for another run")
    parser.add_argument("--results", help="append each size's figures to this JSON file as they come")
    parser.add_argument("--from-results", help="measure nothing: print and plot the figures of this JSON file")
    options = parser.parse_args()
    if options.from_results:
        with open(options.from_results) as handle:
            rows = json.load(handle)
    else:
        rows = measure_sizes(options)
    print()
    print_table(rows, options.apps)
    if options.plot:
        plot(rows, options.apps, options.plot)
        print("plot: %s" % options.plot)


if __name__ == "__main__":
    main()
