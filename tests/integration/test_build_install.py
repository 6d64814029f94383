"""The collection builds into a tarball that installs offline and works from there."""

import json
import os
import subprocess
import sys
import tarfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def run(args, env=None, cwd=None):
    result = subprocess.run([os.path.join(BIN, args[0]), *args[1:]], env=env, cwd=cwd,
                            check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, "%s failed:\n%s\n%s" % (args, result.stdout[-4000:], result.stderr[-4000:])
    return result.stdout


def test_build_then_offline_install(tmp_path):
    installed = tmp_path / "installed"
    # Only the fresh path: the checkout itself must not count as already installed.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(installed), ANSIBLE_NOCOLOR="1")
    run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path / "dist"), REPO], env=env)
    (tarball,) = (tmp_path / "dist").iterdir()
    assert tarball.name == "wgnet-containers-0.1.0.tar.gz"
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "plugins/modules/wg_derived_key.py" in names
    assert not [n for n in names if n.startswith((".venv", ".cache", ".git/"))]

    run(["ansible-galaxy", "collection", "install", "--offline", "--no-deps", "-p", str(installed), str(tarball)], env=env)
    module_utils = installed / "ansible_collections/wgnet/containers/plugins/module_utils"
    assert (module_utils / "keys/derive.py").is_file() and (module_utils / "device/__init__.py").is_file()

    doc = json.loads(run(["ansible-doc", "--json", "wgnet.containers.wg_derived_key"], env=env))
    options = doc["wgnet.containers.wg_derived_key"]["doc"]["options"]
    assert options["seed"]["required"] is True and "additional" in options

    out = run(["ansible", "localhost", "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable,
               "-m", "wgnet.containers.wg_derived_key",
               "-a", "seed=dGVzdHNlZWQK additional=dGVzdGFkZGl0aW9uYWwK address=192.168.5.2"],
              env=env, cwd=str(tmp_path))
    assert "+Pm8wi17cOoQ/QvaBq/WLcslAcgX1cCkrJA5dG57nU8=" in out


def test_hub_peers_playbook_by_its_collection_name(tmp_path):
    """`ansible-playbook wgnet.containers.hub_peers` writes one [Peer] per pool address, public keys only."""
    seed = "c2VlZC1mb3ItdGhlLWh1Yi1wZWVycy10ZXN0LW9ubHk="
    peers_file = tmp_path / "hub-peers.conf"
    out = run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable,
               "-e", "wgnet_seed=" + seed, "-e", "wgnet_additional=Z2VuLTE=", "-e", "wgnet_pool=10.0.42.0/29",
               "-e", "wgnet_hub_address=10.0.42.6", "-e", "wgnet_peers_file=%s" % peers_file,
               "-e", '{"wgnet_additional_overrides": {"10.0.42.4": "cmV2b2tlZA=="}}',
               "wgnet.containers.hub_peers"])
    text = peers_file.read_text()
    assert text.count("[Peer]") == 5
    assert "AllowedIPs = 10.0.42.1/32" in text and "10.0.42.6/32" not in text
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver
    deriver = KeyDeriver(seed, "Z2VuLTE=")
    assert "PublicKey = %s" % deriver.public_key("10.0.42.5") in text
    # A revoked key stays revoked: 10.0.42.4 has the key of its override, as on the hub.
    assert "PublicKey = %s" % KeyDeriver(seed, "cmV2b2tlZA==").public_key("10.0.42.4") in text
    assert deriver.public_key("10.0.42.4") not in text
    assert deriver.private_key("10.0.42.5") not in text + out and seed not in out
