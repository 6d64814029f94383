"""Real things for integration tests: a wireguard-go hub in its own namespace,
containers on a real dockerd, and the collection's modules run as Ansible runs them.

The hub is built with wg(8) and ip(8), not with the code under test. Its
UDP socket stays on the host's loopback (wireguard-go is started in the
host namespace, then its interface is moved), so tunnel traffic never
leaves this machine.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

from collection_link import COLLECTIONS

APP_IMAGE = "wgnet/app:bookworm"
TUNNEL_NET = "10.77.%d.%d"


def sh(*args, check=True, input_text=None):
    result = subprocess.run(args, input=input_text, capture_output=True, text=True, check=False, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (" ".join(args), result.returncode, result.stdout, result.stderr))
    return result


def genkey():
    private = sh("wg", "genkey").stdout.strip()
    return private, sh("wg", "pubkey", input_text=private + "\n").stdout.strip()


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Hub:
    """A WireGuard hub: tunnel address 10.77.<subnet>.1/24 in namespace ``netns``."""

    def __init__(self, subnet):
        tag = uuid.uuid4().hex[:6]
        self.subnet = subnet
        self.netns = "wgt-hub-" + tag
        self.host_name = "wgthub" + tag
        self.address = TUNNEL_NET % (subnet, 1)
        self.port = free_udp_port()
        self.endpoint = "127.0.0.1:%d" % self.port
        self.private_key, self.public_key = genkey()
        sh("ip", "netns", "add", self.netns)
        log = open(os.path.join(tempfile.gettempdir(), self.host_name + ".log"), "w")
        self.process = subprocess.Popen(["wireguard-go", "-f", self.host_name], stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: os.path.exists("/var/run/wireguard/%s.sock" % self.host_name), "hub socket")
        with tempfile.NamedTemporaryFile("w", delete=False) as key_file:
            key_file.write(self.private_key)
        os.chmod(key_file.name, 0o600)
        sh("wg", "set", self.host_name, "private-key", key_file.name, "listen-port", str(self.port))
        os.unlink(key_file.name)
        sh("ip", "link", "set", self.host_name, "netns", self.netns, "name", "hub0")
        sh("ip", "-n", self.netns, "addr", "add", self.address + "/24", "dev", "hub0")
        sh("ip", "-n", self.netns, "link", "set", "hub0", "up")

    def peer_spec(self, **extra):
        spec = {"public_key": self.public_key, "endpoint": self.endpoint,
                "allowed_ips": ["10.77.%d.0/24" % self.subnet], "persistent_keepalive": 25}
        spec.update(extra)
        return spec

    def add_peer(self, public_key, address, preshared_key=None):
        extra = []
        if preshared_key:  # from a 0600 file: wg(8) reads keys from files, never from its arguments
            with tempfile.NamedTemporaryFile("w", delete=False) as psk_file:
                psk_file.write(preshared_key)
            os.chmod(psk_file.name, 0o600)
            extra = ["preshared-key", psk_file.name]
        try:
            sh("wg", "set", self.host_name, "peer", public_key, "allowed-ips", address + "/32", *extra)
        finally:
            if extra:
                os.unlink(extra[1])

    def remove_peer(self, public_key):
        sh("wg", "set", self.host_name, "peer", public_key, "remove")

    def handshakes(self):
        """{peer public key: latest handshake (unix seconds)} as the hub sees it."""
        out = sh("wg", "show", self.host_name, "latest-handshakes").stdout
        return {line.split()[0]: int(line.split()[1]) for line in out.splitlines() if line.strip()}

    def ping(self, address, count=1):
        return sh("ip", "netns", "exec", self.netns, "ping", "-c", str(count), "-W", "2", address, check=False)

    def close(self):
        self.process.terminate()
        self.process.wait(10)
        sh("ip", "netns", "del", self.netns, check=False)


def wait_for(condition, what, timeout=10.0):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def start_container(name=None, network="none"):
    name = name or "wgt-" + uuid.uuid4().hex[:8]
    sh("docker", "run", "-d", "--name", name, "--network", network, APP_IMAGE, "sleep", "infinity")
    return name


def remove_container(name):
    sh("docker", "rm", "-f", name, check=False)


def in_container(name, *command, check=False):
    return sh("docker", "exec", name, *command, check=check)


def run_module(module, args, check_mode=False, diff=True, netns=None):
    """Run a module the way Ansible does on a managed host, return its JSON result.

    The module reads the same ANSIBLE_MODULE_ARGS (with check and diff mode
    flags) that ansible-playbook sends; its no_log handling is its own. With
    ``netns``, the module runs inside that named namespace, as on another host.
    """
    payload = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": payload}, handle)
    os.chmod(handle.name, 0o600)
    try:
        env = dict(os.environ, PYTHONPATH=COLLECTIONS)
        prefix = ["ip", "netns", "exec", netns] if netns else []
        result = subprocess.run(prefix + [sys.executable, "-m", "ansible_collections.wgnet.containers.plugins.modules."
                                          + module, handle.name],
                                capture_output=True, text=True, env=env, check=False, timeout=300)
    finally:
        os.unlink(handle.name)
    try:
        output = json.loads(result.stdout)
    except ValueError:
        raise AssertionError("module printed no JSON: %s %s" % (result.stdout[-2000:], result.stderr[-2000:]))
    output["_raw"] = result.stdout + result.stderr
    return output


ROLE_PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - wgnet.containers.%s
"""


def run_role(role, workdir, extra, timeout=900):
    """Run one of the collection's roles on localhost (connection local) with ansible-playbook.

    The variables go in a 0600 file (a seed is among them), never on a command
    line. Tasks use this Python unless the role names another for them.
    Returns the finished process and its wall time in seconds.
    """
    playbook = os.path.join(workdir, "play-%s.yml" % role)
    with open(playbook, "w") as handle:
        handle.write(ROLE_PLAY % role)
    inventory = os.path.join(workdir, "hosts")
    with open(inventory, "w") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    vars_file = os.path.join(workdir, "vars.json")
    with os.fdopen(os.open(vars_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump(extra, handle)
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "ansible.cli.playbook", "-i", inventory, "-e", "@" + vars_file,
                             playbook], capture_output=True, text=True, check=False, timeout=timeout,
                            env=dict(os.environ, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_NOCOLOR="1"))
    return result, time.monotonic() - start


def wireguard_go_pids():
    """wireguard-go processes in this machine's PID namespace: not those of Molecule's hosts, which may run meanwhile."""
    out = sh("pgrep", "--ns", str(os.getpid()), "--nslist", "pid", "-f", "wireguard-go -f wgn", check=False).stdout
    return {int(p) for p in out.split()}


def random_b64(size=32):
    return base64.b64encode(os.urandom(size)).decode()
