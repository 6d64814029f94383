"""The Molecule scenarios `default` and `scale-out` pass end to end on Docker-in-Docker hosts.

`molecule test -s default` creates a hub and two Docker hosts from
wgnet/host:bookworm, prepares them (inner dockerd, three app containers each),
runs converge.yml in check mode on the fresh hosts, converges, checks
idempotence, verifies, and destroys them. About three minutes.

Run it alone:

    scripts/test.sh tests/integration/test_molecule.py
    .venv/bin/python -m pytest tests/integration/test_molecule.py   # machine already set up

`scale-out` (the article's scenario 2) converges, then grows the pool from a
/24 to a /23 and adds a labelled container while every container pings the hub
five times a second; verify checks that no ping was lost and that no peer's
counters were reset on the hub (its session was never re-created).

`rotation` (the article's scenario 3) converges on one `additional`, rotates to a second with
rotate.yml under a continuous ping, to a third while one Docker host is paused (the run must
name it), completes the rotation once it is back, checks idempotence, then verifies that the
new keys carry traffic and that interfaces holding the old keys get no handshake.

`ha` (issue 17) runs two hubs behind a keepalived virtual address: the active hub is stopped,
brought back, its wireguard-go killed and repaired, and paused, while every container pings one on the
other host; verify checks each event's outage per container, the recovery, the containers' endpoint
(the virtual address) and which hub holds it; idempotence runs after the failovers.

`default` and `rotation` run with -vvv and --diff, and before their hosts are destroyed the
secrets audit (secrets_audit.py) looks for the scenario's seed and keys in that output, the
logs, the process lists, files not 0600 and `docker inspect`.

The full Molecule output is kept in .cache/molecule/<scenario>-test.log.
"""

import os
import re
import subprocess
import sys

import yaml
from collection_link import COLLECTIONS
from secrets_audit import ProcessSampler, audit_hosts, find, scenario_secrets

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
SCENARIO_STEPS = {
    "default": ("create", "prepare", "check", "converge", "idempotence", "side_effect", "verify"),
    "scale-out": ("create", "prepare", "converge", "side_effect", "verify", "destroy"),
    "driver": ("create", "prepare", "converge", "idempotence", "side_effect", "verify", "destroy"),
    "rotation": ("create", "prepare", "converge", "side_effect", "idempotence", "verify"),
    "ha": ("create", "prepare", "converge", "side_effect", "idempotence", "verify", "destroy"),
}


# Scenarios whose playbooks run ansible-playbook themselves, as an operator does: they run as in a
# terminal, where Molecule's colours reach those nested runs (ANSIBLE_FORCE_COLOR), which must not
# break what the scenario reads from them. The others run without colours, which is cheaper.
AS_IN_A_TERMINAL = ("rotation", "driver")


def molecule_env(terminal):
    """The environment of molecule/README.md's commands, as in a terminal or without colours.

    FORCE_COLOR turns Molecule's markup on (it then sets ANSIBLE_FORCE_COLOR for every
    ansible-playbook it runs, nested ones included), as a terminal does; a wide COLUMNS keeps its
    bordered lines whole, so that they can be read back (see ``plain``).
    """
    env = {name: value for name, value in os.environ.items()
           if name not in ("NO_COLOR", "ANSIBLE_NOCOLOR", "ANSIBLE_FORCE_COLOR", "PY_COLORS", "CLICOLOR",
                           "FORCE_COLOR")}
    env.update(PATH=BIN + os.pathsep + env.get("PATH", ""), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
               HOME=env["WGNET_MOLECULE_HOME"])
    os.makedirs(env["HOME"], exist_ok=True)
    if terminal:
        env.update(FORCE_COLOR="1", COLUMNS="1000000")
    else:
        env.update(NO_COLOR="1", ANSIBLE_NOCOLOR="1", PY_COLORS="0")
    return env


def plain(output):
    """Molecule's output without colours and without the border it draws before Ansible's lines."""
    return re.sub(r"(?m)^  \u2502 ?", "", re.sub(r"\x1b\[[0-9;]*m", "", output))


def run_scenario(scenario, audit=False):
    """molecule test -s SCENARIO; returns its output without colours, the log's path.

    With ``audit``: -vvv and --diff on every playbook, the hosts kept for the secrets
    audit, then destroyed.
    """
    log = os.path.join(REPO, ".cache", "molecule", "%s-test.log" % scenario)
    env = molecule_env(terminal=scenario in AS_IN_A_TERMINAL)
    if audit:
        env.update(ANSIBLE_VERBOSITY="3", ANSIBLE_DIFF_ALWAYS="true")
    # community.docker and ansible.posix for the docker driver, without Galaxy.
    deps = subprocess.run(["bash", os.path.join(REPO, "scripts", "molecule-deps.sh")], env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    assert deps.returncode == 0, deps.stdout + deps.stderr

    molecule = os.path.join(BIN, "molecule")
    destroy = [molecule, "destroy", "-s", scenario]
    # Fresh hosts, whatever ran before (the demo leaves the default scenario's hosts up):
    # with --destroy never, `molecule test` would reuse them and skip create and prepare.
    fresh = subprocess.run(destroy, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           check=False, timeout=300)
    assert fresh.returncode == 0, "molecule destroy -s %s failed:\n%s" % (scenario, (fresh.stdout + fresh.stderr)[-4000:])
    sampler = ProcessSampler()
    sampler.start()
    try:
        result = subprocess.run([molecule, "test", "-s", scenario] + (["--destroy", "never"] if audit else []),
                                cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, check=False, timeout=1500)
    except subprocess.TimeoutExpired:
        # Killed halfway: leave no hosts behind for the next run.
        subprocess.run(destroy, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False, timeout=300)
        raise
    finally:
        sampler.stop()
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "w") as handle:
        handle.write(result.stdout)
    out = plain(result.stdout)
    problems = []
    if audit:
        try:
            problems = secrets_audit(scenario, out, sampler)
        finally:
            subprocess.run(destroy, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False,
                           timeout=300)
    assert result.returncode == 0, "molecule test failed (%d), full log in %s:\n%s" % (
        result.returncode, log, out[-12000:])
    # Each step logs "[<scenario> > <step>] Executed: Successful" as it ends (the final
    # recap is not to be trusted: it has shown a failed idempotence as successful).
    assert "Executed: Failed" not in out, "a step failed, see %s" % log
    for step in SCENARIO_STEPS[scenario]:
        assert re.search(r"%s\W+%s\W+Executed: Successful" % (re.escape(scenario), step), out), \
            "step %s did not pass, see %s" % (step, log)
    assert not problems, "secrets audit of %s:\n%s" % (scenario, "\n".join(problems))
    return out, log


def secrets_audit(scenario, output, sampler):
    """What the audit finds wrong in a scenario that ran with -vvv --diff and whose hosts still run."""
    with open(os.path.join(REPO, "molecule", scenario, "molecule.yml")) as handle:
        platforms = [platform["name"] for platform in yaml.safe_load(handle)["platforms"]]
    secrets = scenario_secrets(scenario)
    hub = [p for p in platforms if p.endswith("hub")][0]
    problems = audit_hosts(platforms, secrets, must_find={hub: "/etc/wireguard/wg0.conf"})
    assert "ESTABLISH DOCKER CONNECTION" in output and "--- before" in output, "not run with -vvv and --diff"
    leaked = find(output, secrets)
    if leaked:
        problems.append("the -vvv --diff output holds %s" % ", ".join(leaked))
    hosts = set(subprocess.run(["docker", "inspect", "-f", "{{.Id}}", *platforms], capture_output=True, text=True,
                               check=False, timeout=60).stdout.split())
    assert sampler.samples > 100 and hosts & sampler.wireguard_go_containers, \
        "the process sampler did not see the hosts' processes"
    for line in sorted(sampler.seen):
        leaked = find(line, secrets)
        if leaked:
            problems.append("a process's command line or environment holds %s: %s" % (", ".join(leaked), line[:200]))
    return problems


def test_molecule_default_scenario():
    out, log = run_scenario("default", audit=True)
    # The second converge itself: every host ran and changed nothing.
    second = re.search(r"idempotence\W+Executing(.*?)idempotence\W+Executed", out, re.S)
    assert second, "no idempotence run in %s" % log
    recap = dict(re.findall(r"^\s*(\S+)\s+: ok=\d+\s+changed=(\d+)", second.group(1), re.M))
    assert set(recap) >= {"hub", "docker1", "docker2"}, recap
    assert set(recap.values()) == {"0"}, "not idempotent: %s" % recap
    assert "Idempotence test failed" not in out


def test_molecule_ha_scenario():
    out, log = run_scenario("ha")
    # The second converge, after the four failovers: neither hub nor Docker host changed anything.
    second = re.search(r"idempotence\W+Executing(.*?)idempotence\W+Executed", out, re.S)
    assert second, "no idempotence run in %s" % log
    recap = dict(re.findall(r"^\s*(\S+)\s+: ok=\d+\s+changed=(\d+)", second.group(1), re.M))
    assert set(recap) >= {"ha-hub1", "ha-hub2", "ha-docker1", "ha-docker2"}, recap
    assert set(recap.values()) == {"0"}, "not idempotent: %s" % recap
    assert "Check that every container recovered, within the bound, and saw no gap where none is due" in out, \
        "verify did not check the outages, see %s" % log


def test_molecule_scale_out_scenario():
    out, log = run_scenario("scale-out")
    assert "Check that every echo request was answered, but for at most one lost datagram" in out, "verify did not check the pings, see %s" % log


def test_molecule_rotation_scenario():
    out, log = run_scenario("rotation", audit=True)
    # The rotation to C with rot-docker2 paused named it, and the re-run completed it.
    assert "NOT ROTATED: rot-docker2." in out, "the partial failure was not reported, see %s" % log
    assert "Check that only the last generation's key got a handshake and an answer" in out, \
        "the old keys were not probed, see %s" % log
    # The faults of the hub and of the controller ran, and the repair run found the hub switched.
    assert "NOT ROTATED: rot-hub, rot-docker1, rot-docker2." in out, "the hub's fault was not reported, see %s" % log
    assert "kill_controller: killing the controller after" in out, "the controller was not killed, see %s" % log
    assert "Check that the hub was already on D and every Docker host switched now" in out, "no repair run, see %s" % log


def test_molecule_driver_scenario():
    """The network_driver role next to attach: restart, driver restart, dockerd restart, no leftovers."""
    out, log = run_scenario("driver")
    timed = re.search(r"restart to tunnel: (\d+) ms; address ([0-9a-f.:/]+) then ([0-9a-f.:/]+)", out)
    assert timed, "side_effect did not time the restart, see %s" % log
    assert timed.group(2) == timed.group(3)
    assert "Check that no container was restarted" in out, "the driver's containers were not rotated, see %s" % log
    assert "Idempotence test failed" not in out
