"""Namespaces and links: the checks that need no kernel."""

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import ifname_problem


@pytest.mark.parametrize("name, problem", [
    ("wg\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", "printable ASCII only"),  # 10 characters, 18 bytes
    ("wg 0", "without spaces"), ("wg:0", "'/' or ':'"), ("wg\n0", "printable ASCII only"), ("a/b", "'/' or ':'"),
    ("a" * 16, "16 characters, at most 15"), ("", "must not be empty"), ("..", "is reserved"),
])
def test_interface_names_are_checked_as_the_kernel_does(name, problem):
    assert problem in ifname_problem(name)


@pytest.mark.parametrize("name", ["wg0", "wg.h", "wgd" + "e" * 12, "x"])
def test_valid_interface_names_pass(name):
    assert ifname_problem(name) is None
