"""Pool expansion."""

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import WgKeyError
from ansible_collections.wgnet.containers.plugins.module_utils.wgpool import pool_hosts


def test_pool_hosts_skip_network_broadcast_and_excluded():
    hosts = pool_hosts("10.0.42.0/25", exclude=["10.0.42.126"])
    assert hosts[0] == "10.0.42.1" and hosts[-1] == "10.0.42.125" and len(hosts) == 125


def test_ipv6_pool():
    assert pool_hosts("fd00:42::/126") == ["fd00:42::1", "fd00:42::2", "fd00:42::3"]


@pytest.mark.parametrize("cidr, fragment", [
    ("10.0.42.1/24", "has host bits set"),
    ("10.0.42.0/33", "not a network in CIDR form"),
    ("fd00::/64", "more than the 1048576 one hub can list"),
])
def test_bad_pool(cidr, fragment):
    with pytest.raises(WgKeyError, match=fragment) as info:
        pool_hosts(cidr)
    assert info.value.option == "pool"


def test_peers_for_derived_keys():
    from ansible_collections.wgnet.containers.plugins.module_utils.wgpool import peers_for
    entries = [{"address": "10.0.42.5", "public_key": "A"}, {"address": "fd00::5/64", "public_key": "B"}]
    assert peers_for(entries) == [{"public_key": "A", "allowed_ips": ["10.0.42.5/32"]},
                                  {"public_key": "B", "allowed_ips": ["fd00::5/128"]}]
