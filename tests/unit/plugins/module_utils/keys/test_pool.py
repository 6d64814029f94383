"""Pool expansion."""

import ipaddress

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import pool_hosts


def test_pool_hosts_skip_network_broadcast_and_excluded():
    hosts = pool_hosts("10.0.42.0/25", exclude=["10.0.42.126"])
    assert hosts[0] == "10.0.42.1" and hosts[-1] == "10.0.42.125" and len(hosts) == 125


def test_ipv6_pool():
    assert pool_hosts("fd00:42::/126") == ["fd00:42::1", "fd00:42::2", "fd00:42::3"]


@pytest.mark.parametrize("cidr", ["10.0.0.0/32", "10.0.0.0/31", "10.0.0.0/30", "10.0.40.0/22", "fd00::/128", "fd00::/127",
                                  "fd00:1::/118", "::/120", "::ffff:0:0/120", "::1:0:0/120", "2001:db8:0:1::/120"])
def test_pool_hosts_from_integers_are_those_of_ipaddress(cidr):
    """Made from integers for speed; inet_ntop writes some IPv6 addresses otherwise than ipaddress."""
    assert pool_hosts(cidr) == [str(a) for a in ipaddress.ip_network(cidr).hosts()]


def test_an_exclude_of_the_other_version_or_outside_the_pool_excludes_nothing():
    assert pool_hosts("0.0.0.0/29", ["::3", "10.0.0.3"]) == ["0.0.0.%d" % i for i in range(1, 7)]


def test_pool_digest_names_keys_and_allowed_ips_only():
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import pool_digest
    peers = {"A": {"allowed_ips": ["10.0.0.1/32"], "endpoint": None, "persistent_keepalive": 0, "preshared_key": None},
             "B": {"allowed_ips": ["10.0.0.2/32", "fd00::2/128"], "endpoint": None, "persistent_keepalive": 0,
                   "preshared_key": None}}
    base = pool_digest(peers)
    assert pool_digest(dict(reversed(list(peers.items())))) == base
    assert pool_digest(dict(peers, A=dict(peers["A"], endpoint="192.0.2.1:1", persistent_keepalive=25))) == base
    others = {pool_digest({"A": peers["A"]}), pool_digest(dict(peers, C=peers["A"])),
              pool_digest(dict(peers, A=dict(peers["A"], allowed_ips=["10.0.0.3/32"]))),
              pool_digest({"A": peers["B"], "B": peers["A"]})}
    assert len(others) == 4 and base not in others


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
