"""Derived container ports, for a hub pair."""

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.keys.ports import check_port_base, container_port


def test_a_port_is_the_base_plus_the_offset_in_the_pool():
    assert container_port("10.0.42.5", "10.0.42.0/24", 20000) == 20005
    assert container_port("10.0.43.1/32", "10.0.42.0/23", 20000) == 20257
    assert container_port("fd00:42::5", "fd00:42::/120", 1000) == 1005


@pytest.mark.parametrize("pool, base", [("10.0.0.0/16", 20000), ("10.0.42.0/24", 65281)])
def test_a_pool_that_does_not_fit_above_the_base_is_refused_by_name(pool, base):
    with pytest.raises(WgnetError, match="^wgnet_container_port_base: %d leaves no port for the" % base):
        check_port_base(pool, base)


def test_the_last_port_may_be_65535():
    assert container_port("10.0.42.255", "10.0.42.0/24", 65280) == 65535


@pytest.mark.parametrize("base", [0, -1, True, "20000"])
def test_a_base_that_is_not_a_port_is_refused(base):
    with pytest.raises(WgnetError, match="^wgnet_container_port_base: .* is not a port number$"):
        check_port_base("10.0.42.0/24", base)


def test_an_address_outside_the_pool_is_refused():
    with pytest.raises(WgnetError, match="^address: 10.0.43.5 is not in the pool 10.0.42.0/24$"):
        container_port("10.0.43.5", "10.0.42.0/24", 20000)
