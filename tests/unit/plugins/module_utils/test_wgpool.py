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


def test_pool_peers_pair_ipv6_by_offset_and_check_counts():
    import base64
    from ansible_collections.wgnet.containers.plugins.module_utils.wgpool import pool_peers
    keys = [base64.b64encode(bytes([i]) * 32).decode() for i in range(1, 4)]
    peers = pool_peers(["10.0.42.0/29", "fd00:42::/120"], ["10.0.42.2", "10.0.42.5", "10.0.42.6"], keys)
    assert len(peers) == 3 and peers[keys[0]]["allowed_ips"] == ["10.0.42.1/32", "fd00:42::1/128"]
    assert peers[keys[1]]["allowed_ips"] == ["10.0.42.3/32", "fd00:42::3/128"]
    with pytest.raises(WgKeyError, match="has 2 keys but pool 10.0.42.0/29 has 5 addresses"):
        pool_peers(["10.0.42.0/29"], ["10.0.42.6"], keys[:2])
    with pytest.raises(WgKeyError, match="one IPv4 and one IPv6"):
        pool_peers(["10.0.42.0/29", "10.0.43.0/29"], [], keys)


def test_cached_pool_keys_reuse_only_the_same_inputs(tmp_path):
    import base64
    import os
    import stat
    from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import KeyDeriver
    from ansible_collections.wgnet.containers.plugins.module_utils.wgpool import cached_pool_keys
    seed = base64.b64encode(os.urandom(32)).decode()
    first, cached = cached_pool_keys(KeyDeriver(seed, ""), "10.0.42.0/28", ["10.0.42.14"], str(tmp_path))
    assert not cached and len(first) == 13
    again, cached = cached_pool_keys(KeyDeriver(seed, ""), "10.0.42.0/28", ["10.0.42.14"], str(tmp_path))
    assert cached and again == first
    (entry,) = tmp_path.iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600 and seed not in entry.read_text()
    rekeyed, cached = cached_pool_keys(KeyDeriver(seed, "QQ=="), "10.0.42.0/28", ["10.0.42.14"], str(tmp_path))
    assert not cached and rekeyed[0]["public_key"] != first[0]["public_key"]
    other_seed, cached = cached_pool_keys(KeyDeriver(base64.b64encode(os.urandom(32)).decode(), ""),
                                          "10.0.42.0/28", ["10.0.42.14"], str(tmp_path))
    assert not cached and other_seed[0]["public_key"] != first[0]["public_key"]
    assert first == KeyDeriver(seed, "").derive_many(["10.0.42.%d" % i for i in range(1, 14)])


def _pool_cache(tmp_path):
    import base64
    import os
    from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import KeyDeriver
    from ansible_collections.wgnet.containers.plugins.module_utils.wgpool import cached_pool_keys
    deriver = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), "")
    folder = tmp_path / "cache"
    return deriver, folder, lambda: cached_pool_keys(deriver, "10.0.42.0/29", [], str(folder))


def test_a_replaced_or_malformed_cache_entry_is_derived_again(tmp_path):
    import base64
    import json
    import os
    from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import KeyDeriver
    deriver, folder, cached_keys = _pool_cache(tmp_path)
    genuine = cached_keys()[0]
    (entry,) = folder.iterdir()
    forged = json.loads(entry.read_text())
    attacker = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), "")
    forged["keys"][2]["public_key"] = attacker.public_key("10.0.42.3")  # a key whose private half they hold
    for content in [json.dumps(forged), json.dumps(genuine), "[]", '{"keys": 1, "mac": null}', "{"]:
        entry.write_text(content)
        keys, cached = cached_keys()
        assert not cached and keys == genuine, content[:40]
        assert cached_keys() == (genuine, True)  # rewritten, with its MAC


def test_a_cache_folder_others_may_write_is_refused(tmp_path):
    import os
    import pytest
    from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import WgKeyError
    deriver, folder, cached_keys = _pool_cache(tmp_path)
    cached_keys()
    assert stat_mode(folder) == 0o700
    os.chmod(str(folder), 0o1777)
    with pytest.raises(WgKeyError, match=r"^cache_dir: .* mode 1777; give a folder of your own"):
        cached_keys()
    os.chmod(str(folder), 0o700)
    os.chown(str(folder), 65534, 65534)
    with pytest.raises(WgKeyError, match=r"^cache_dir: .* belongs to uid 65534"):
        cached_keys()
    os.chown(str(folder), os.geteuid(), os.getegid())
    assert cached_keys()[1] is True


def stat_mode(path):
    import stat
    return stat.S_IMODE(path.stat().st_mode)


def test_generation_fingerprint_changes_with_every_key_input_and_hides_them():
    from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import KeyDeriver
    from ansible_collections.wgnet.containers.plugins.module_utils.wgpool import generation_fingerprint
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
    from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import KeyDeriver
    from ansible_collections.wgnet.containers.plugins.module_utils.wgpool import generation_fingerprint
    with pytest.raises(WgKeyError) as info:
        generation_fingerprint(KeyDeriver("dGVzdHNlZWQ=", "QQ=="), {"not-an-ip": "QQ=="})
    assert info.value.option == "additional_overrides"
