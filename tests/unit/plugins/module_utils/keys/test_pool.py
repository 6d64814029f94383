"""Pool expansion."""

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import pool_hosts


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
    with pytest.raises(WgnetError, match=fragment) as info:
        pool_hosts(cidr)
    assert info.value.option == "pool"


def test_peers_for_derived_keys():
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import peers_for
    entries = [{"address": "10.0.42.5", "public_key": "A"}, {"address": "fd00::5/64", "public_key": "B"}]
    assert peers_for(entries) == [{"public_key": "A", "allowed_ips": ["10.0.42.5/32"]},
                                  {"public_key": "B", "allowed_ips": ["fd00::5/128"]}]


def test_pool_peers_pair_ipv6_by_offset_and_check_counts():
    import base64
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import pool_peers
    keys = [base64.b64encode(bytes([i]) * 32).decode() for i in range(1, 4)]
    peers = pool_peers(["10.0.42.0/29", "fd00:42::/120"], ["10.0.42.2", "10.0.42.5", "10.0.42.6"], keys)
    assert len(peers) == 3 and peers[keys[0]]["allowed_ips"] == ["10.0.42.1/32", "fd00:42::1/128"]
    assert peers[keys[1]]["allowed_ips"] == ["10.0.42.3/32", "fd00:42::3/128"]
    with pytest.raises(WgnetError, match="has 2 keys but pool 10.0.42.0/29 has 5 addresses"):
        pool_peers(["10.0.42.0/29"], ["10.0.42.6"], keys[:2])
    with pytest.raises(WgnetError, match="one IPv4 and one IPv6"):
        pool_peers(["10.0.42.0/29", "10.0.43.0/29"], [], keys)


def test_generation_fingerprint_changes_with_every_key_input_and_hides_them():
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import generation_fingerprint
    seed, seed2 = "dGVzdHNlZWQtZm9yLWdlbmVyYXRpb25zLTAxMjM0NQ==", "b3RoZXItc2VlZC1mb3ItZ2VuZXJhdGlvbnMtMDEyMzQ="
    base = generation_fingerprint(KeyDeriver(seed, "QQ=="))
    assert len(base) == 16 and int(base, 16) >= 0
    assert generation_fingerprint(KeyDeriver(seed, "QQ==")) == base
    assert generation_fingerprint(KeyDeriver(seed, "QQ=="), {}) == base
    others = {
        generation_fingerprint(KeyDeriver(seed, "Qg==")),
        generation_fingerprint(KeyDeriver(seed2, "QQ==")),
        generation_fingerprint(KeyDeriver(seed, "QQ=="), {"10.0.42.5": "cmV2b2tlZA=="}),
        generation_fingerprint(KeyDeriver(seed, "QQ=="), {"10.0.42.6": "cmV2b2tlZA=="}),
    }
    assert base not in others and len(others) == 4
    # The same override written with a prefix is the same generation.
    assert generation_fingerprint(KeyDeriver(seed, "QQ=="), {"10.0.42.5/32": "cmV2b2tlZA=="}) in others
    assert seed not in base and "QQ==" not in base


def test_generation_fingerprint_names_a_bad_override():
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import generation_fingerprint
    with pytest.raises(WgnetError) as info:
        generation_fingerprint(KeyDeriver("dGVzdHNlZWQ=", "QQ=="), {"not-an-ip": "QQ=="})
    assert info.value.option == "additional_overrides"
