"""The secrets audit of a Molecule scenario: no seed, private or preshared key where it must not be.

The secrets come from the scenario's own inputs (molecule.yml): its seed, every `additional`
it uses, and the private key of every address of its pool under each of them, each in the
encodings the code handles (base64; hex, as the userspace UAPI carries keys). The scenarios
configure no preshared key, so there is none to look for.

Where they must not be: the scenario's output (run with -vvv and --diff), every log file, the
process lists (command lines and environments, sampled on this machine, which sees every
process of the hosts and of their containers, all through the run), any file on a host that is
not mode 0600, and `docker inspect` of every container and network, outer and inner.

A check that cannot fail proves nothing: audit_hosts() also requires each secret file it is told
must exist (the hub's 0600 wg-quick file holds the hub's private key) to be found by the scan.
"""

import base64
import binascii
import ipaddress
import os
import re
import subprocess
import threading

import yaml

from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Only the scan's own pattern file is here; /dev, /proc and /sys are not scanned.
PATTERNS_PATH = "/dev/shm/wgnet-audit-patterns"
SKIPPED_TREES = ("/proc", "/sys", "/dev")


def scenario_inputs(scenario):
    """(seed, [additional, ...], pool) from molecule/<scenario>/molecule.yml."""
    with open(os.path.join(REPO, "molecule", scenario, "molecule.yml")) as handle:
        config = yaml.safe_load(handle)
    group_vars = config["provisioner"]["inventory"]["group_vars"]["all"]
    additionals = list(group_vars.get("molecule_generations", []))
    if "{{" not in group_vars["wgnet_additional"]:
        additionals.append(group_vars["wgnet_additional"])
    additionals += list(group_vars.get("wgnet_additional_overrides", {}).values())
    return group_vars["wgnet_seed"], additionals, group_vars["wgnet_pool"]


def encodings(raw):
    return [base64.b64encode(raw).decode(), binascii.hexlify(raw).decode()]


def scenario_secrets(scenario):
    """{text: what it is} for every secret the scenario can produce."""
    seed, additionals, pool = scenario_inputs(scenario)
    secrets = {text: "the seed" for text in [seed] + encodings(base64.b64decode(seed))}
    for additional in additionals:
        deriver = KeyDeriver(seed, additional)
        for address in ipaddress.ip_network(pool).hosts():
            for text in encodings(deriver.private_raw(str(address))):
                secrets[text] = "private key of %s (additional %s)" % (address, additional)
    return secrets


def find(text, secrets):
    """The descriptions of the secrets in text.

    Every secret is a run of base64 (or hex) characters, so only such runs of text are searched.
    """
    shortest = min(len(secret) for secret in secrets)
    runs = set(re.findall(r"[A-Za-z0-9+/=]{%d,}" % shortest, text))
    return sorted({what for secret, what in secrets.items() for run in runs if secret in run})


class ProcessSampler(threading.Thread):
    """Every distinct command line and environment of this machine's processes, while running."""

    def __init__(self, interval=0.2):
        super().__init__(daemon=True)
        self.interval = interval
        self.seen = set()
        # The outer Docker containers in which a wireguard-go was seen: other tests may run meanwhile
        # (scripts/test.sh runs two at once), so seeing one proves nothing about a scenario's own hosts.
        self.wireguard_go_containers = set()
        self.samples = 0
        self._done = threading.Event()

    def run(self):
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def sample(self):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            for name in ("cmdline", "environ"):
                try:
                    with open("/proc/%s/%s" % (pid, name), "rb") as handle:
                        text = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
                except OSError:
                    continue  # the process ended meanwhile
                self.seen.add(text)
                if name == "cmdline" and os.path.basename(text.split(" ", 1)[0]) == "wireguard-go":
                    self.wireguard_go_containers.update(outer_container(pid))
        self.samples += 1

    def stop(self):
        self._done.set()
        self.join()


def outer_container(pid):
    """{the id of the outer Docker container that process pid runs in}, or an empty set."""
    try:
        with open("/proc/%s/cgroup" % pid) as handle:
            found = re.search(r"docker[-/]([0-9a-f]{64})", handle.read())
    except OSError:
        return set()
    return {found.group(1)} if found else set()


def sh(*args, stdin=None):
    result = subprocess.run(args, input=stdin, capture_output=True, text=True, errors="replace", check=False,
                            timeout=600)
    return result


def files_holding(instance, secrets):
    """{path: mode} of the files of a running instance that hold any of the secrets."""
    exclude = " ".join("--exclude-dir=%s" % tree.lstrip("/") for tree in SKIPPED_TREES)
    script = (
        "set -eu; umask 077; cat > %(p)s; cd /; "
        "grep -rlsF -f %(p)s %(exclude)s . | while read -r f; do stat -c '%%a %%n' \"$f\"; done; rm -f %(p)s"
        % {"p": PATTERNS_PATH, "exclude": exclude})
    result = sh("docker", "exec", "-i", instance, "sh", "-c", script, stdin="\n".join(secrets) + "\n")
    assert result.returncode == 0, result.stderr
    found = {}
    for line in result.stdout.splitlines():
        mode, path = line.split(" ", 1)
        found[path[1:]] = mode
    return found


def docker_inspect_texts(instances):
    """`docker inspect` of the instances and their networks, and of what each instance's dockerd runs."""
    texts = {}
    for instance in instances:
        texts["docker inspect %s" % instance] = sh("docker", "inspect", instance).stdout
        inner = "docker inspect $(docker ps -aq) $(docker network ls -q) 2>/dev/null || true"
        texts["docker inspect inside %s" % instance] = sh("docker", "exec", instance, "sh", "-c", inner).stdout
    networks = sh("docker", "network", "ls", "-q").stdout.split()
    texts["docker network inspect (outer)"] = sh("docker", "network", "inspect", *networks).stdout
    return texts


def log_texts(instances):
    """Every log: files named *.log or under a log folder on each instance, container logs inside and out."""
    texts = {}
    collect = ("find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type f "
               "\\( -name '*.log' -o -path '*/log/*' -o -path '*/logs/*' \\) -print0 | xargs -0r cat")
    for instance in instances:
        texts["log files on %s" % instance] = sh("docker", "exec", instance, "sh", "-c", collect).stdout
        texts["docker logs %s" % instance] = sh("docker", "logs", instance).stdout
        inner = "for c in $(docker ps -aq 2>/dev/null); do docker logs $c 2>&1; done"
        texts["container logs inside %s" % instance] = sh("docker", "exec", instance, "sh", "-c", inner).stdout
    # scripts/dockerd-start.sh's log; a dockerd that something else started logs elsewhere.
    if os.path.exists(os.environ["WGNET_DOCKERD_LOG"]):
        with open(os.environ["WGNET_DOCKERD_LOG"], errors="replace") as handle:
            texts["this machine's dockerd log"] = handle.read()
    return texts


def audit_hosts(instances, secrets, must_find):
    """Problems found on the running instances; must_find: {instance: path} that must hold a secret."""
    problems = []
    for where, text in list(docker_inspect_texts(instances).items()) + list(log_texts(instances).items()):
        leaked = find(text, secrets)
        if leaked:
            problems.append("%s holds %s" % (where, ", ".join(leaked)))
    for instance in instances:
        holding = files_holding(instance, secrets)
        for path, mode in sorted(holding.items()):
            if mode != "600":
                problems.append("%s:%s (mode %s) holds a secret" % (instance, path, mode))
        if instance in must_find and must_find[instance] not in holding:
            problems.append("the scan did not find %s:%s, which holds a secret: the audit is broken"
                            % (instance, must_find[instance]))
    return problems
