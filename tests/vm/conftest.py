"""The VM tier: these tests need a kernel with WireGuard and run only inside the test VM.

tests/integration/test_kernel_vm.py boots the VM (scripts/vm-run.sh), which
runs them with WGNET_IN_VM=1; on any other machine they are skipped.
"""

import os

import pytest

IN_VM = os.environ.get("WGNET_IN_VM") == "1"
HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    if IN_VM:
        return
    skip = pytest.mark.skip(reason="runs inside the test VM only (tests/integration/test_kernel_vm.py boots it)")
    for item in items:
        if str(item.path).startswith(HERE + os.sep):
            item.add_marker(skip)
