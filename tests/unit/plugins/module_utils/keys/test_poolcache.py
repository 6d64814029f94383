"""The pool-key cache: reused only for the same inputs, and only while its MAC holds."""


def test_cached_pool_keys_reuse_only_the_same_inputs(tmp_path):
    import base64
    import os
    import stat
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.poolcache import cached_pool_keys
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
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.poolcache import cached_pool_keys
    deriver = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), "")
    folder = tmp_path / "cache"
    return deriver, folder, lambda: cached_pool_keys(deriver, "10.0.42.0/29", [], str(folder))


def test_a_replaced_or_malformed_cache_entry_is_derived_again(tmp_path):
    import base64
    import json
    import os
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver
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
    from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
    deriver, folder, cached_keys = _pool_cache(tmp_path)
    cached_keys()
    assert stat_mode(folder) == 0o700
    os.chmod(str(folder), 0o1777)
    with pytest.raises(WgnetError, match=r"^cache_dir: .* mode 1777; give a folder of your own"):
        cached_keys()
    os.chmod(str(folder), 0o700)
    os.chown(str(folder), 65534, 65534)
    with pytest.raises(WgnetError, match=r"^cache_dir: .* belongs to uid 65534"):
        cached_keys()
    os.chown(str(folder), os.geteuid(), os.getegid())
    assert cached_keys()[1] is True


def stat_mode(path):
    import stat
    return stat.S_IMODE(path.stat().st_mode)
