"""The wgnet network driver against a real dockerd, real containers and a real wireguard-go hub."""

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from collection_link import COLLECTIONS
from drivertest import DriverHost, driver_processes, host_links
from wgtest import APP_IMAGE, in_container, sh, wait_for

from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import public_key


@pytest.fixture(scope="module")
def host():
    host = DriverHost(hub_subnet=60)
    host.start()
    yield host
    host.close()


@pytest.fixture(autouse=True)
def clean(host):
    yield
    host.remove_all()
    assert host_links() == [] and driver_processes() == set()


def ping_hub(host, container):
    return in_container(container, "ping", "-c", "1", "-W", "2", host.hub.address).returncode == 0


def driver_allocations(host):
    """The addresses the driver recorded in the allocations file it shares with the attach role."""
    with open(host.allocations) as handle:
        record = json.load(handle)["allocations"]
    return sorted(a for owner, a in record.items() if owner.startswith("wgnet-driver:"))


def links_of(container):
    out = sh("docker", "exec", container, "ip", "-o", "link", "show").stdout
    return sorted(line.split(":")[1].strip() for line in out.splitlines())


@pytest.mark.parametrize("options, subnet, expected", [
    ([], None, "hub: missing"),
    (["-o", "hub=nowhere"], None, "hub: 'nowhere' is neither the name nor the endpoint"),
    (["-o", "hub=main", "-o", "mtu=big"], None, "mtu: 'big' is not a number"),
    (["-o", "hub=main", "-o", "mtu=100"], None, "mtu: 100 is out of range"),
    (["-o", "hub=main", "-o", "dns=10.0.0.1,resolver"], None, "dns: 'resolver' is not an IP address"),
    (["-o", "hub=main", "-o", "seed=c2VjcmV0"], None, "seed: unknown option"),
    (["-o", "hub=main"], "10.99.0.0/24", "subnet: 10.99.0.0/24 is not inside this host's slice"),
])
def test_bad_network_option_is_a_clean_err(host, options, subnet, expected):
    name, result = host.network(*options, subnet=subnet)
    assert result.returncode != 0
    assert "remote: wgnet: " + expected in result.stderr
    assert sh("docker", "network", "inspect", name, check=False).returncode != 0
    assert "Traceback" not in host.driver_log() and '" 500 ' not in host.driver_log()


def test_hub_by_endpoint_and_containers_in_parallel(host):
    network, result = host.network("-o", "hub=" + host.hub.endpoint)
    assert result.returncode == 0, result.stderr
    results = [None] * 4

    def start(index):
        results[index] = host.run(network)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.returncode for _name, r in results] == [0] * len(results), [r.stderr for _n, r in results]
    containers = [name for name, _r in results]
    addresses = {host.address_of(c) for c in containers}
    assert len(addresses) == len(containers)
    for container in containers:
        assert links_of(container) == ["lo", "wg0"]
        assert ping_hub(host, container)
    assert driver_allocations(host) == sorted(addresses)
    host.remove_all()
    assert host_links() == [] and driver_processes() == set()
    assert driver_allocations(host) == []


def test_restart_stop_remove(host):
    network, result = host.network("-o", "hub=main", "-o", "mtu=1380")
    assert result.returncode == 0, result.stderr
    container, result = host.run(network)
    assert result.returncode == 0, result.stderr
    address = host.address_of(container)
    public_key = host.public_keys[address]
    assert ping_hub(host, container)
    assert "mtu 1380" in sh("docker", "exec", container, "ip", "link", "show", "wg0").stdout
    assert sh("docker", "exec", container, "ip", "route").stdout.startswith("default dev wg0")

    before = host.hub.handshakes()[public_key]
    time.sleep(1.1)  # a new handshake must show as a later second
    sh("docker", "restart", "-t", "0", container)
    wait_for(lambda: ping_hub(host, container), "the tunnel after a restart", timeout=5)
    assert host.address_of(container) == address
    assert host.hub.handshakes()[public_key] > before  # the same key, so the same hub peer, made a new session
    assert len(driver_processes()) == 1

    sh("docker", "stop", "-t", "0", container)
    assert host_links() == [] and driver_processes() == set()
    sh("docker", "start", container)
    wait_for(lambda: ping_hub(host, container), "the tunnel after a start", timeout=5)
    sh("docker", "rm", "-f", container)
    assert host_links() == [] and driver_processes() == set()


def network_with_a_container(host):
    """A network of the driver and a container running on it: (network, container)."""
    network, result = host.network("-o", "hub=main")
    assert result.returncode == 0, result.stderr
    container, result = host.run(network)
    assert result.returncode == 0, result.stderr
    return network, container


def test_state_survives_a_driver_restart(host):
    _network, container = network_with_a_container(host)
    host.stop()
    host.start()
    assert ping_hub(host, container)  # the tunnel does not depend on the driver process
    sh("docker", "stop", "-t", "0", container)  # Leave and DeleteEndpoint reach the new driver
    assert host_links() == [] and driver_processes() == set()
    sh("docker", "start", container)
    wait_for(lambda: ping_hub(host, container), "the tunnel after a start", timeout=5)


def test_address_of_the_attach_role_is_refused(host):
    network, result = host.network("-o", "hub=main", subnet=host.slice.replace(".0/26", ".32/27"))
    assert result.returncode == 0, result.stderr
    with open(host.allocations, "w") as handle:  # .33 is the network's gateway: the first address given is .34
        json.dump({"allocations": {"web": "10.77.60.34"}, "attached": ["web"]}, handle)
    container, result = host.run(network)
    assert result.returncode != 0
    assert "address: 10.77.60.34 is already the address of the container web;" in result.stderr
    assert host_links() == [] and driver_processes() == set()


def test_dns_and_ipv6(host):
    network, result = host.network("-o", "hub=main", "-o", "dns=" + host.hub.address, "--ipv6",
                                   "--subnet", "fd77:60::/64")
    assert result.returncode == 0, result.stderr
    container, result = host.run(network)
    assert result.returncode == 0, result.stderr
    wait_for(lambda: "nameserver %s" % host.hub.address in in_container(container, "cat", "/etc/resolv.conf").stdout,
             "the network's resolver in resolv.conf")
    # Docker's IPAM gave 10.77.60.2 and fd77:60::2: the pair the hub accepts for that key.
    assert "inet6 fd77:60::2/64" in sh("docker", "exec", container, "ip", "-6", "addr", "show", "wg0").stdout
    assert "default dev wg0" in sh("docker", "exec", container, "ip", "-6", "route").stdout
    assert ping_hub(host, container)
    assert in_container(container, "ping", "-6", "-c", "1", "-W", "2", host.hub_address6).returncode == 0


def test_the_driver_records_the_slice_it_gives_addresses_from(host):
    """So that a role run that computes another slice (the fleet grew) refuses to move it."""
    network, result = host.network("-o", "hub=main")
    assert result.returncode == 0, result.stderr
    _container, result = host.run(network)
    assert result.returncode == 0, result.stderr
    with open(host.allocations) as handle:
        assert json.load(handle)["slice"] == host.slice


def test_without_dns_the_container_gets_no_resolver(host):
    """Docker's embedded resolver may send queries on from the host's namespace, outside the tunnel."""
    network, result = host.network("-o", "hub=main")
    assert result.returncode == 0, result.stderr
    container, result = host.run(network)
    assert result.returncode == 0, result.stderr
    wait_for(lambda: "no resolver" in in_container(container, "cat", "/etc/resolv.conf").stdout,
             "resolv.conf without a resolver")
    assert "nameserver" not in in_container(container, "cat", "/etc/resolv.conf").stdout
    assert ping_hub(host, container)


def test_rekey_switches_running_containers_live_at_the_signal(host, tmp_path):
    """A rotation: every joined endpoint gets the new file's key at the signal, without a restart."""
    network, result = host.network("-o", "hub=main")
    assert result.returncode == 0, result.stderr
    containers = [host.run(network)[0], host.run(network)[0]]
    started = [sh("docker", "inspect", "-f", "{{.State.StartedAt}}", c).stdout for c in containers]
    assert all(ping_hub(host, c) for c in containers)
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)

    def rekey(new_config, *extra):
        return subprocess.run(host.driver_command("--rekey", new_config, *extra), env=env, capture_output=True,
                              text=True, timeout=60, check=False)

    # Aborted: nothing changes, and the new file is gone.
    aborted, signal_path = str(tmp_path / "aborted.json"), str(tmp_path / "signal")
    host.write_config(aborted)
    with open(signal_path, "w") as handle:
        handle.write("abort: the hub did not switch")
    result = rekey(aborted, "--switch-signal", signal_path, "--switch-timeout", "5")
    assert result.returncode != 0 and "says abort: the hub did not switch; nothing was changed" in result.stderr
    assert not os.path.exists(aborted) and all(ping_hub(host, c) for c in containers)

    new_config = str(tmp_path / "next.json")
    new_keys = host.write_config(new_config)
    dry = rekey(new_config)
    assert dry.returncode == 0 and json.loads(dry.stdout) == {"changed": True, "endpoints": 2}, dry.stderr
    assert all(ping_hub(host, c) for c in containers)  # the dry run changed nothing

    waiting = subprocess.Popen(host.driver_command("--rekey", new_config, "--switch-signal", signal_path), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    host.hub_accepts(new_keys)  # the hub switches: the containers are cut off until the signal
    host.public_keys = new_keys
    with open(signal_path, "w") as handle:
        handle.write("switch")
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0 and json.loads(out) == {"changed": True, "endpoints": 2}, err
    assert all(ping_hub(host, c) for c in containers)
    assert [sh("docker", "inspect", "-f", "{{.State.StartedAt}}", c).stdout for c in containers] == started
    with open(host.config) as handle:
        assert new_keys == {a: public_key(k) for a, k in json.load(handle)["keys"].items()}
    assert not os.path.exists(new_config)
    later, result = host.run(network)  # a Join after the switch takes the new key file's key
    assert result.returncode == 0 and ping_hub(host, later), result.stderr
    assert rekey_count(host, env) == 0


def rekey_count(host, env):
    """What a rotation to the current key file would change: nothing, once every endpoint has its key."""
    copy = host.config + ".same"
    shutil.copy(host.config, copy)
    result = subprocess.run(host.driver_command("--rekey", copy), env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    os.unlink(copy)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["endpoints"]


def test_ipv6_address_that_is_not_the_pair_is_refused(host):
    network, result = host.network("-o", "hub=main", "--ipv6", "--subnet", "fd77:60::100/120")
    assert result.returncode == 0, result.stderr
    container, result = host.run(network)
    assert result.returncode != 0
    assert ("ipv6: Docker gave fd77:60::102, but the IPv6 address paired with 10.77.60.2 is fd77:60::2"
            in result.stderr)


COMPOSE_FILE = """
version: "2.4"
services:
  web:
    image: {image}
    command: sleep infinity
    networks:
      default: {{ipv4_address: {web}}}
  worker:
    image: {image}
    command: sleep infinity
networks:
  default:
    driver: {plugin}
    driver_opts: {{hub: main, mtu: "1400"}}
    ipam:
      config: [{{subnet: {subnet}}}]
"""
WEB_ADDRESS = "10.77.60.40"


def test_docker_compose_up_restart_down(host, tmp_path):
    """Debian's docker-compose 1.29 (scripts/machine-setup.sh installs it): the project's own network.

    `restart` restarts both at once, so Docker's IPAM may swap the addresses of containers without a
    fixed one (each still gets the key of its address); web has a fixed one and keeps it.
    """
    project = "wgtdrv" + host.tag
    (tmp_path / "docker-compose.yml").write_text(
        COMPOSE_FILE.format(image=APP_IMAGE, plugin=host.plugin, subnet=host.slice, web=WEB_ADDRESS))
    compose = ["docker-compose", "--project-directory", str(tmp_path), "-f", str(tmp_path / "docker-compose.yml"),
               "-p", project]
    try:
        sh(*compose, "up", "-d")
        containers = ["%s_%s_1" % (project, service) for service in ("web", "worker")]
        for container in containers:
            assert links_of(container) == ["lo", "wg0"]
            assert ping_hub(host, container)
        assert host.address_of(containers[0]) == WEB_ADDRESS
        sh(*compose, "restart", "-t", "0")
        for container in containers:
            wait_for(lambda: ping_hub(host, container), "the tunnel after compose restart", timeout=5)
        assert host.address_of(containers[0]) == WEB_ADDRESS
    finally:
        sh(*compose, "down", "-t", "0", check=False)
    assert sh("docker", "ps", "-aq", "--filter", "name=" + project).stdout.strip() == ""
    assert project not in sh("docker", "network", "ls", "--format", "{{.Name}}").stdout
    assert host_links() == [] and driver_processes() == set()
    assert driver_allocations(host) == []


def test_failure_in_join_is_a_clean_err_and_leaves_nothing(host):
    with open(host.config) as handle:
        config = json.load(handle)
    broken = dict(config, userspace_binary="wgnet-no-such-wireguard-go")
    with open(host.config, "w") as handle:
        json.dump(broken, handle)
    try:
        network, result = host.network("-o", "hub=main")
        assert result.returncode == 0, result.stderr
        container, result = host.run(network)
        assert result.returncode != 0
        assert "remote: wgnet: userspace_binary: wireguard-go not found at 'wgnet-no-such-wireguard-go'" in result.stderr
        assert driver_allocations(host) == []
    finally:
        with open(host.config, "w") as handle:
            json.dump(config, handle)


def test_a_corrupt_state_is_set_aside_and_rebuilt_from_docker(host):
    """The review's case: a corrupt state.json stopped the driver at every start, and every wgnet container."""
    network, container = network_with_a_container(host)
    host.stop()
    with open(host.state, "w") as handle:
        handle.write('{"networks": {"trunc')
    host.start()
    assert "set aside as %s.corrupt-" % host.state in host.driver_log()
    assert ping_hub(host, container)
    sh("docker", "stop", "-t", "0", container)  # Leave and DeleteEndpoint find the rebuilt endpoint
    assert host_links() == [] and driver_processes() == set()
    again, result = host.run(network)  # CreateEndpoint and Join on the rebuilt network
    assert result.returncode == 0, result.stderr
    assert ping_hub(host, again)


def read_reply(connection):
    """One whole HTTP reply: its head, then as many body bytes as its Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + int(
            re.search(rb"Content-Length: (\d+)", data).group(1)):
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_a_stalled_request_does_not_hold_the_driver(host):
    """The review's case: Content-Length 100000 with a short body, or -1, hung a thread."""
    stalled = socket.socket(socket.AF_UNIX)
    stalled.connect(host.socket)
    stalled.sendall(b"POST /Plugin.Activate HTTP/1.1\r\nContent-Length: 100000\r\n\r\n{}")
    negative = socket.socket(socket.AF_UNIX)
    negative.connect(host.socket)
    negative.sendall(b"POST /Plugin.Activate HTTP/1.1\r\nContent-Length: -1\r\n\r\n")
    negative.settimeout(5)
    assert b"Content-Length -1 is not between 0 and" in read_reply(negative)
    stalled.settimeout(20)
    start = time.monotonic()
    assert stalled.recv(4096) == b""  # closed by the driver once its read timed out
    assert time.monotonic() - start < 15
    network, result = host.network("-o", "hub=main")
    assert result.returncode == 0, result.stderr
    stalled.close()
    negative.close()
