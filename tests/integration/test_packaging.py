"""Packaging as the ecosystem expects: an execution environment's metadata, and a changelog kept by antsibull-changelog.

- ``meta/execution-environment.yml``: ``ansible-builder create`` makes the build context of an execution
  environment that installs the built collection, and the context's own introspection (the step its
  builder stage runs) gathers the collection's controller-side requirements, and not the managed hosts'.
- ``changelogs/``: ``antsibull-changelog lint`` passes, and ``CHANGELOG.md`` is what antsibull-changelog
  generates from ``changelogs/``, so the two cannot drift. Regenerate it with
  ``.venv/bin/python tests/integration/test_packaging.py``.

Nothing here needs a network or a container runtime: no image is built. The tools write only under the
test's temporary folder (their home, caches and Ansible's folders are pointed there).
"""

import datetime
import os
import shutil
import subprocess
import sys
import tarfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
COLLECTION = "wgnet.containers"
# What only the managed hosts need (requirements.txt): an execution environment must not get them.
HOST_ONLY = {"pyroute2", "pycryptodome", "docker"}


def tool_env(scratch):
    """The environment for ansible-builder, ansible-galaxy and antsibull-changelog: every folder they may
    write (home, caches, Ansible's home and collections) under ``scratch``."""
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"], HOME=os.path.join(scratch, "home"),
               XDG_CACHE_HOME=os.path.join(scratch, "xdg"), ANSIBLE_HOME=os.path.join(scratch, "ansible"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(scratch, "collections"), ANSIBLE_NOCOLOR="1", NO_COLOR="1")
    env.pop("ANSIBLE_CONFIG", None)
    return env


def run(args, env, cwd):
    result = subprocess.run(args, env=env, cwd=cwd, check=False, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, "%s failed:\n%s\n%s" % (args, result.stdout[-4000:], result.stderr[-4000:])
    return result.stdout


def galaxy_version(source=REPO):
    with open(os.path.join(source, "galaxy.yml")) as handle:
        return str(yaml.safe_load(handle)["version"])


# Execution environment ---------------------------------------------------------------------------------

def requirement_names(lines):
    from packaging.requirements import Requirement
    return {Requirement(line.split("#", 1)[0]).name.lower() for line in lines}


def introspect(context, collections):
    """Runs the build context's introspection on ``collections`` (a folder holding ansible_collections), as
    the builder stage of the image build does, and returns the pip and bindep lines it writes."""
    out = os.path.join(os.path.dirname(collections), "introspected")
    shutil.rmtree(out, ignore_errors=True)
    run([sys.executable, os.path.join(context, "_build", "scripts", "introspect.py"), "introspect",
         "--write-pip=%s/requirements.txt" % out, "--write-bindep=%s/bindep.txt" % out, collections],
        env=tool_env(os.path.dirname(collections)), cwd=os.path.dirname(collections))
    found = {}
    for kind in ("requirements.txt", "bindep.txt"):
        path = os.path.join(out, kind)
        found[kind] = open(path).read().splitlines() if os.path.exists(path) else []
    return [line for line in found["requirements.txt"] if line.strip()], [line for line in found["bindep.txt"] if line.strip()]


def bindep_packages(lines, platform):
    """The packages bindep installs from ``lines`` on a platform (``dpkg`` or ``rpm``), without a profile."""
    from bindep.depends import Depends
    depends = Depends("\n".join(line.split("  # from collection", 1)[0] for line in lines) + "\n")
    return {rule[0] for rule in depends.active_rules(["platform:" + platform, "default"])}


def test_the_collection_metadata_follows_ansible_builder_schema():
    from ansible_builder.ee_schema import validate_schema
    with open(os.path.join(REPO, "meta", "execution-environment.yml")) as handle:
        meta = yaml.safe_load(handle)
    validate_schema(meta)  # raises on an unknown key or a wrong type
    # ansible-builder reads these relative to the collection's root.
    assert meta["dependencies"] == {"python": "meta/ee-requirements.txt", "system": "bindep.txt"}
    with open(os.path.join(REPO, "meta", "ee-requirements.txt")) as handle:
        lines = [line for line in handle.read().splitlines() if line.strip() and not line.startswith("#")]
    assert requirement_names(lines) == {"cryptography"}
    with open(os.path.join(REPO, "bindep.txt")) as handle:
        lines = [line for line in handle.read().splitlines() if line.strip() and not line.startswith("#")]
    assert bindep_packages(lines, "dpkg") == {"openssh-client"}
    assert bindep_packages(lines, "rpm") == {"openssh-clients"}


def test_ansible_builder_context_gathers_the_controller_requirements(tmp_path):
    scratch = str(tmp_path)
    env = tool_env(scratch)
    version = galaxy_version()
    tarball_name = "wgnet-containers-%s.tar.gz" % version
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", "dist", REPO], env=env, cwd=scratch)
    with tarfile.open(os.path.join(scratch, "dist", tarball_name)) as archive:
        names = set(archive.getnames())
    assert {"meta/execution-environment.yml", "meta/ee-requirements.txt", "bindep.txt", "CHANGELOG.md",
            "changelogs/changelog.yaml", "changelogs/config.yaml"} <= names
    assert "changelogs/.plugin-cache.yaml" not in names

    # An execution environment as a user would define it: any base image (create never pulls it), and
    # the collection installed from the tarball, which the context carries in _build.
    definition = {
        "version": 3,
        "images": {"base_image": {"name": "quay.io/ansible/awx-ee:latest"}},
        "dependencies": {
            "ansible_core": {"package_pip": "ansible-core"},
            "ansible_runner": {"package_pip": "ansible-runner"},
            "galaxy": {"collections": [{"name": "/build/collections/" + tarball_name, "type": "file"}]},
        },
        "additional_build_files": [{"src": "dist/" + tarball_name, "dest": "collections"}],
    }
    with open(os.path.join(scratch, "execution-environment.yml"), "w") as handle:
        yaml.safe_dump(definition, handle)
    run([os.path.join(BIN, "ansible-builder"), "create", "--file", "execution-environment.yml", "--context", "context",
         "--output-filename", "Containerfile"], env=env, cwd=scratch)

    context = os.path.join(scratch, "context")
    with open(os.path.join(context, "Containerfile")) as handle:
        containerfile = handle.read()
    with open(os.path.join(context, "_build", "requirements.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    # The galaxy stage copies _build to /build and installs what requirements.yml names into
    # /usr/share/ansible/collections; the builder stage introspects that folder with _build/scripts.
    assert galaxy == {"collections": [{"name": "/build/collections/" + tarball_name, "type": "file"}]}
    assert os.path.isfile(os.path.join(context, "_build", "collections", tarball_name))
    assert "COPY _build /build" in containerfile
    assert '--collections-path "/usr/share/ansible/collections"' in containerfile
    assert "COPY _build/scripts/ /output/scripts/" in containerfile
    assert "/output/scripts/introspect.py introspect --write-bindep=" in containerfile

    # The galaxy stage, here: the context's tarball into a folder of our own, offline.
    collections = os.path.join(scratch, "usr-share-ansible", "collections")
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p", collections,
         os.path.join(context, "_build", "collections", tarball_name)], env=env, cwd=scratch)
    # The builder stage's introspection, with the context's own script.
    pip_lines, bindep_lines = introspect(context, collections)
    assert pip_lines and all(line.endswith("# from collection " + COLLECTION) for line in pip_lines), pip_lines
    assert requirement_names(pip_lines) == {"cryptography"}, pip_lines
    assert not requirement_names(pip_lines) & HOST_ONLY
    assert bindep_lines and all(line.endswith("# from collection " + COLLECTION) for line in bindep_lines), bindep_lines
    assert bindep_packages(bindep_lines, "dpkg") == {"openssh-client"}
    assert bindep_packages(bindep_lines, "rpm") == {"openssh-clients"}

    # The check can fail: without meta/execution-environment.yml ansible-builder falls back to the root's
    # requirements.txt, the managed hosts' libraries, and the same introspection finds them.
    installed = os.path.join(collections, "ansible_collections", "wgnet", "containers")
    os.unlink(os.path.join(installed, "meta", "execution-environment.yml"))
    pip_lines = introspect(context, collections)[0]
    assert HOST_ONLY <= requirement_names(pip_lines), pip_lines


# Changelog ---------------------------------------------------------------------------------------------

def render_changelog(scratch, source=REPO):
    """CHANGELOG.md as antsibull-changelog generates it from ``source``'s changelogs/, made in ``scratch``.

    A version that galaxy.yml names and changelogs/changelog.yaml does not list yet is not released: its
    changes are the fragments. They are shown as antsibull-changelog's ``release`` would record them,
    in a copy (the checkout is not touched); the lists of new modules, plugins and roles, which ``release``
    reads from the plugins' documentation, are left to the real release.
    """
    os.makedirs(scratch, exist_ok=True)
    shutil.copy(os.path.join(source, "galaxy.yml"), scratch)
    changelogs = os.path.join(scratch, "changelogs")
    shutil.rmtree(changelogs, ignore_errors=True)
    shutil.copytree(os.path.join(source, "changelogs"), changelogs, ignore=shutil.ignore_patterns(".plugin-cache.yaml"))
    env = tool_env(scratch)
    version = galaxy_version(source)
    with open(os.path.join(changelogs, "changelog.yaml")) as handle:
        released = yaml.safe_load(handle).get("releases") or {}
    fragments = [name for name in os.listdir(os.path.join(changelogs, "fragments")) if name.endswith((".yml", ".yaml"))]
    if version not in released and fragments:
        with open(os.path.join(changelogs, ".plugin-cache.yaml"), "w") as handle:
            yaml.safe_dump({"version": version, "plugins": {}, "objects": {}}, handle)
        # The date goes into changelog.yaml only, not into CHANGELOG.md.
        run([os.path.join(BIN, "antsibull-changelog"), "release", "--version", version,
             "--date", datetime.date.today().isoformat()], env=env, cwd=scratch)
    else:
        run([os.path.join(BIN, "antsibull-changelog"), "generate"], env=env, cwd=scratch)
    with open(os.path.join(scratch, "CHANGELOG.md")) as handle:
        return handle.read()


def test_antsibull_changelog_lint(tmp_path):
    out = run([os.path.join(BIN, "antsibull-changelog"), "lint"], env=tool_env(str(tmp_path)), cwd=REPO)
    assert out.strip() == "", out


def test_changelog_md_is_what_antsibull_changelog_generates(tmp_path):
    with open(os.path.join(REPO, "CHANGELOG.md")) as handle:
        current = handle.read()
    generated = render_changelog(str(tmp_path / "changelog"))
    assert current == generated, (
        "CHANGELOG.md differs from what antsibull-changelog generates from changelogs/; regenerate it with "
        ".venv/bin/python tests/integration/test_packaging.py")
    # Every fragment's text is in it, and no release date (it reads the same before and after a release).
    assert "wgnet\\.containers Release Notes" in current and datetime.date.today().isoformat() not in current


def test_the_changelog_check_sees_a_new_fragment(tmp_path):
    """The comparison can fail: a fragment that CHANGELOG.md lacks changes what antsibull-changelog generates."""
    source = tmp_path / "source"
    shutil.copytree(os.path.join(REPO, "changelogs"), source / "changelogs", ignore=shutil.ignore_patterns(".plugin-cache.yaml"))
    shutil.copy(os.path.join(REPO, "galaxy.yml"), source)
    (source / "changelogs" / "fragments" / "probe.yml").write_text("---\nbugfixes:\n  - A probe fragment.\n")
    generated = render_changelog(str(tmp_path / "changelog"), source=str(source))
    assert "A probe fragment" in generated
    with open(os.path.join(REPO, "CHANGELOG.md")) as handle:
        assert handle.read() != generated


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory(prefix="wgnet-changelog-") as work:
        text = render_changelog(work)
    with open(os.path.join(REPO, "CHANGELOG.md"), "w") as handle:
        handle.write(text)
    print("wrote %s" % os.path.join(REPO, "CHANGELOG.md"))
