"""The filters are thin: same keys as module_utils, errors as AnsibleFilterError."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wgnet.containers.plugins.filter import wgkeys as filters
from ansible_collections.wgnet.containers.plugins.filter.wgkeys import FilterModule

FILTERS = FilterModule().filters()
SEED = "dGVzdHNlZWQK"
ADDITIONAL = "dGVzdGFkZGl0aW9uYWwK"


def test_filters_give_the_article_keys():
    assert FILTERS["wg_derived_privkey"]("192.168.5.2", SEED, ADDITIONAL) == "IJftaHjgELSRD3PXllSPn3EpiVmrEjQupVynwcfu8FE="
    assert FILTERS["wg_derived_pubkey"]("192.168.5.2", SEED, ADDITIONAL) == "+Pm8wi17cOoQ/QvaBq/WLcslAcgX1cCkrJA5dG57nU8="
    assert FILTERS["wg_pubkey"]("IJftaHjgELSRD3PXllSPn3EpiVmrEjQupVynwcfu8FE=") == "+Pm8wi17cOoQ/QvaBq/WLcslAcgX1cCkrJA5dG57nU8="


def test_derived_privkey_refuses_a_weak_seed_only_when_asked_and_warns_otherwise(monkeypatch):
    warnings = []
    monkeypatch.setattr(filters.Display, "warning", lambda self, message: warnings.append(message))
    with pytest.raises(AnsibleFilterError, match="^seed: decodes to only 9 bytes"):
        FILTERS["wg_derived_privkey"]("192.168.5.2", SEED, ADDITIONAL, True)
    assert warnings == []
    assert FILTERS["wg_derived_privkey"]("192.168.5.2", SEED, ADDITIONAL, False) == "IJftaHjgELSRD3PXllSPn3EpiVmrEjQupVynwcfu8FE="
    assert len(warnings) == 1 and warnings[0].startswith("seed: decodes to only 9 bytes") and SEED not in warnings[0]


@pytest.mark.parametrize("call, fragment", [
    (lambda: FILTERS["wg_derived_pubkey"]("10.0.0.1", "bad seed", ADDITIONAL), "seed: is not valid base64"),
    (lambda: FILTERS["wg_derived_privkey"]("::ffff:1.2.3.4", SEED, ADDITIONAL), "address: '::ffff:1.2.3.4' is an IPv4-mapped"),
    (lambda: FILTERS["wg_pubkey"]("QUJD"), "private_key: must be 32 bytes"),
])
def test_filter_errors(call, fragment):
    with pytest.raises(AnsibleFilterError, match=fragment):
        call()


def test_generation_filter_is_the_module_utils_fingerprint():
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver
    from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import generation_fingerprint
    overrides = {"10.0.42.5": "cmV2b2tlZA=="}
    assert FILTERS["wg_generation"](SEED, ADDITIONAL, overrides) == generation_fingerprint(KeyDeriver(SEED, ADDITIONAL), overrides)
    assert FILTERS["wg_generation"](SEED, ADDITIONAL) != FILTERS["wg_generation"](SEED, "QQ==")
    with pytest.raises(AnsibleFilterError, match="additional_overrides"):
        FILTERS["wg_generation"](SEED, ADDITIONAL, {"nope": "QQ=="})


@pytest.mark.parametrize("call, message", [
    (lambda: filters.wg_host_slice("10.0.42.0/24", 0, 2, "abc"), "wgnet_slice_prefix: 'abc' is not a whole number"),
    (lambda: filters.wg_host_slice("10.0.42.0/24", "x", 2), "wgnet_host_index: 'x' is not a whole number"),
    (lambda: filters.wg_paired_addresses("10.0.42.5", []), "wgnet_pool: is empty"),
    (lambda: filters.wg_peers([{"address": "10.0.42.5"}]), "derived_keys[0]: must be a mapping with public_key"),
    (lambda: filters.wg_fleet_conflicts([{"host": "a", "slice": "nonsense", "explicit": []}], "10.0.42.0/24"),
     "slice of a: 'nonsense' is not a network in CIDR form"),
])
def test_bad_filter_input_is_a_named_filter_error(call, message):
    """The review's cases: raw ValueError, IndexError and KeyError."""
    with pytest.raises(AnsibleFilterError) as info:
        call()
    assert str(info.value).startswith(message)
