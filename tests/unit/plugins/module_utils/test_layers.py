"""The layers of module_utils, as the README draws them: a package imports only from packages above
it, nothing below the adapters imports Ansible, and only the device layer names a backend."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "module_utils"
PREFIX = "ansible_collections.wgnet.containers.plugins.module_utils."
LAYERS = ["common", "keys", "namespaces", "device", "engine", "driver", "adapters", "hostrun"]


def layer_of(name):
    """The rank of a file (keys/pool.py) or a module (keys.pool) in LAYERS."""
    return LAYERS.index(name.replace("/", ".").split(".")[0])


def imports(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


SOURCES = sorted(p for p in ROOT.rglob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_a_package_imports_only_from_the_layers_above_it(path):
    own = layer_of(str(path.relative_to(ROOT)))
    for module, names in imports(path):
        if module.startswith("ansible.") or module == "ansible":
            assert LAYERS[own] in ("adapters", "hostrun"), "%s imports %s" % (path.name, module)
        if not module.startswith(PREFIX.rstrip(".")):
            continue
        targets = [module[len(PREFIX):]] if module != PREFIX.rstrip(".") else names
        for target in targets:
            assert layer_of(target) <= own, "%s (%s) imports %s, a layer below it" % (path.name, LAYERS[own], target)


def test_only_the_device_layer_names_a_backend():
    for path in SOURCES:
        relative = str(path.relative_to(ROOT))
        if relative.startswith("device/"):
            continue
        for module, names in imports(path):
            named = [module] + ["%s.%s" % (module, n) for n in names]
            assert not any(n.endswith(("device.kernel", "device.userspace")) for n in named), relative
            assert not {"KernelBackend", "UserspaceBackend", "KernelDevice", "UserspaceDevice"} & set(names), relative


def test_the_layers_are_all_there_is():
    tops = {p.relative_to(ROOT).parts[0].replace(".py", "") for p in ROOT.iterdir() if p.name != "__init__.py"
            and p.name != "__pycache__"}
    assert tops == set(LAYERS)
