"""Benchmark: how long after `docker restart` a container on a wgnet network has its tunnel back.

Runs the network driver as tests/integration/drivertest.py does (its own plugin name, a
wireguard-go hub in a namespace, a real dockerd), starts --count containers on one network, then
restarts one of them --rounds times. For each restart it records:
  - the `docker restart -t 0` command's own time;
  - the time from issuing it to the first echo reply from the container's address, the hub pinging
    it through the tunnel every 10 ms (a reply needs the new interface, with the same key, to have
    made a session with the hub);
and checks that the address is the same afterwards.

Run as root from the repo root: .venv/bin/python bench/driver_restart.py [--count 5] [--rounds 20]
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from collection_link import link_collection  # noqa: E402

link_collection()

from drivertest import DriverHost  # noqa: E402
from wgtest import sh  # noqa: E402

POLL = 0.01


def hub_reaches(host, address):
    return subprocess.run(["ip", "netns", "exec", host.hub.netns, "ping", "-c", "1", "-W", "0.1", address],
                          capture_output=True, check=False).returncode == 0


def load_average():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def time_restart(host, container, address, limit=10.0):
    start = time.monotonic()
    sh("docker", "restart", "-t", "0", container)
    command = time.monotonic() - start
    while not hub_reaches(host, address):
        if time.monotonic() - start > limit:
            raise AssertionError("no tunnel %.0f s after the restart" % limit)
        time.sleep(POLL)
    total = time.monotonic() - start
    if host.address_of(container) != address:
        raise AssertionError("the address changed")
    return command, total


def summary(values):
    values = sorted(values)
    return "median %.0f ms, min %.0f ms, max %.0f ms" % (statistics.median(values) * 1000, values[0] * 1000,
                                                         values[-1] * 1000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    host = DriverHost(hub_subnet=61)
    try:
        host.start()
        network, result = host.network("-o", "hub=main")
        assert result.returncode == 0, result.stderr
        containers = [host.run(network)[0] for _i in range(args.count)]
        target = containers[0]
        address = host.address_of(target)
        assert all(hub_reaches(host, host.address_of(c)) for c in containers)
        load_before = load_average()
        rounds = [time_restart(host, target, address) for _i in range(args.rounds)]
        print("machine: %s, %d cores, %s, Python %s" % (platform.node(), os.cpu_count(), platform.release(),
                                                        platform.python_version()))
        print("%d containers on the network, %d restarts of one" % (args.count, args.rounds))
        print("docker restart -t 0 command: " + summary([c for c, _t in rounds]))
        print("restart issued -> hub's ping answered: " + summary([t for _c, t in rounds]))
        print("command returned -> hub's ping answered: " + summary([t - c for c, t in rounds]))
        print("load average before / after: %s / %s" % (load_before, load_average()))
        print("same address every time: %s" % address)
    finally:
        host.close()


if __name__ == "__main__":
    main()
