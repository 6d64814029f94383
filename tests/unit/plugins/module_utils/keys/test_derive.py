"""Key derivation: ground-truth vectors, an independent cross-check, bad input."""

import base64
import hashlib
import ipaddress
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ansible_collections.wgnet.containers.plugins.module_utils.keys import derive as wgkeys
from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver

ARTICLE_SEED = "dGVzdHNlZWQK"  # base64("testseed\n")
ARTICLE_ADDITIONAL = "dGVzdGFkZGl0aW9uYWwK"  # base64("testadditional\n")
REFERENCE_DEFAULT_ADDITIONAL = "YmVzdG92Lmlv"  # base64("bestov.io")


def test_article_vector():
    deriver = KeyDeriver(ARTICLE_SEED, ARTICLE_ADDITIONAL)
    assert deriver.private_key("192.168.5.2") == "IJftaHjgELSRD3PXllSPn3EpiVmrEjQupVynwcfu8FE="
    assert deriver.public_key("192.168.5.2") == "+Pm8wi17cOoQ/QvaBq/WLcslAcgX1cCkrJA5dG57nU8="


def test_reference_default_additional_vector():
    deriver = KeyDeriver(ARTICLE_SEED, REFERENCE_DEFAULT_ADDITIONAL)
    assert deriver.public_key("192.168.5.2") == "bU3rddZR+2plYDLLgpXlm9RUYX0rR0OTGovqv0wTqys="


def independent_pair(seed_b64, additional_b64, address):
    """privkeys.py's recipe written out with hashlib and the cryptography package."""
    message = base64.b64decode(seed_b64) + base64.b64decode(additional_b64) + ipaddress.ip_address(address).packed
    key = bytearray(hashlib.sha3_256(message).digest())
    key[0] &= 248
    key[31] = (key[31] & 127) | 64
    public = X25519PrivateKey.from_private_bytes(bytes(key)).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(bytes(key)).decode(), base64.b64encode(public).decode()


def test_independent_implementation_agrees_with_ground_truth():
    # The cross-check below is only worth something if the checker itself is right.
    assert independent_pair(ARTICLE_SEED, ARTICLE_ADDITIONAL, "192.168.5.2") == (
        "IJftaHjgELSRD3PXllSPn3EpiVmrEjQupVynwcfu8FE=", "+Pm8wi17cOoQ/QvaBq/WLcslAcgX1cCkrJA5dG57nU8=")
    assert independent_pair(ARTICLE_SEED, REFERENCE_DEFAULT_ADDITIONAL, "192.168.5.2")[1] == \
        "bU3rddZR+2plYDLLgpXlm9RUYX0rR0OTGovqv0wTqys="


@pytest.mark.parametrize("address", ["10.0.42.1", "10.0.42.254", "0.0.0.0", "255.255.255.255",
                                     "fd00:42::5", "2001:db8::1", "::1"])
def test_cross_check_random_seeds(address):
    for _round in range(8):
        seed = base64.b64encode(os.urandom(32)).decode()
        additional = base64.b64encode(os.urandom(7)).decode()
        deriver = KeyDeriver(seed, additional)
        assert (deriver.private_key(address), deriver.public_key(address)) == independent_pair(seed, additional, address)


def test_prefix_is_ignored_and_batch_matches_single():
    deriver = KeyDeriver(ARTICLE_SEED, ARTICLE_ADDITIONAL)
    assert deriver.public_key("192.168.5.2/24") == deriver.public_key("192.168.5.2")
    assert deriver.public_key("fd00::5/64") == deriver.public_key("fd00::5")
    batch = deriver.derive_many(["192.168.5.2", "fd00::5", "192.168.5.3/30"], include_private=True)
    assert [e["address"] for e in batch] == ["192.168.5.2", "fd00::5", "192.168.5.3/30"]
    for entry in batch:
        assert entry == deriver.derive(entry["address"], include_private=True)


def test_parallel_batch_matches_serial(monkeypatch):
    deriver = KeyDeriver(base64.b64encode(os.urandom(32)).decode(), "")
    addresses = ["10.1.%d.%d" % (i // 250, i % 250 + 1) for i in range(600)]
    monkeypatch.setattr(wgkeys, "PARALLEL_THRESHOLD", 100)
    parallel = deriver.derive_many(addresses)
    assert parallel == [deriver.derive(a) for a in addresses]


def test_empty_additional_is_allowed():
    seed = base64.b64encode(b"x" * 32).decode()
    assert KeyDeriver(seed, "").public_key("10.0.0.1") == independent_pair(seed, "", "10.0.0.1")[1]


def test_additional_changes_every_key():
    a = KeyDeriver(ARTICLE_SEED, "QQ==").derive_many(["10.0.0.1", "10.0.0.2"])
    b = KeyDeriver(ARTICLE_SEED, "Qg==").derive_many(["10.0.0.1", "10.0.0.2"])
    assert all(x["public_key"] != y["public_key"] for x, y in zip(a, b))


def test_short_seed_warns_with_advice_and_strong_seed_does_not():
    assert "head -c 32 /dev/urandom | base64" in KeyDeriver("testseed", "").warnings[0]
    assert KeyDeriver(base64.b64encode(b"s" * 16).decode(), "").warnings == []


def test_public_key_of_private_key():
    assert wgkeys.public_key("IJftaHjgELSRD3PXllSPn3EpiVmrEjQupVynwcfu8FE=") == \
        "+Pm8wi17cOoQ/QvaBq/WLcslAcgX1cCkrJA5dG57nU8="


SECRET_SEED = "c2VjcmV0c2VlZHNlY3JldHNlZWQ="


@pytest.mark.parametrize("seed, additional, address, option, fragment", [
    ("not base64!", "", "10.0.0.1", "seed", "not valid base64"),
    ("dGVzdHNlZWQ", "", "10.0.0.1", "seed", "not valid base64"),          # bad padding
    ("dGVzdH NlZWQK", "", "10.0.0.1", "seed", "not valid base64"),       # whitespace
    ("dGVzdHNlZWQK\n", "", "10.0.0.1", "seed", "not valid base64"),      # trailing newline
    ("dGVzd-Nl_WQK", "", "10.0.0.1", "seed", "not valid base64"),        # urlsafe alphabet
    ("", "", "10.0.0.1", "seed", "must not be empty"),
    (SECRET_SEED, "%%%", "10.0.0.1", "additional", "not valid base64"),
    (SECRET_SEED, "", "10.0.0.300", "address", "not an IP address"),
    (SECRET_SEED, "", "container-a", "address", "not an IP address"),
    (SECRET_SEED, "", "10.0.42.5/33", "address", "invalid prefix /33"),
    (SECRET_SEED, "", "10.0.42.5/abc", "address", "invalid prefix 'abc'"),
    (SECRET_SEED, "", "fd00::1/129", "address", "invalid prefix /129"),
    (SECRET_SEED, "", "::ffff:10.0.42.5", "address", "plain IPv4 form 10.0.42.5"),
    (SECRET_SEED, "", "fe80::1%eth0", "address", "scope id"),
])
def test_bad_input_names_option_and_problem(seed, additional, address, option, fragment):
    with pytest.raises(WgnetError) as info:
        KeyDeriver(seed, additional).public_key(address)
    assert info.value.option == option
    assert str(info.value).startswith(option + ": ")
    assert fragment in str(info.value)
    if seed:
        assert seed not in str(info.value)


def test_bad_entry_in_a_parallel_batch_names_its_index(monkeypatch):
    monkeypatch.setattr(wgkeys, "PARALLEL_THRESHOLD", 10)
    addresses = ["10.0.0.%d" % i for i in range(1, 100)]
    addresses[77] = "10.0.0.999"
    with pytest.raises(WgnetError, match=r"^addresses\[77\]: '10.0.0.999' is not an IP address"):
        KeyDeriver(SECRET_SEED, "").derive_many(addresses)


def test_empty_batch_and_bad_batch_entry():
    deriver = KeyDeriver(SECRET_SEED, "")
    with pytest.raises(WgnetError, match=r"^addresses: must not be empty"):
        deriver.derive_many([])
    with pytest.raises(WgnetError, match=r"^addresses\[1\]: 'nope' is not an IP address"):
        deriver.derive_many(["10.0.0.1", "nope"])


@pytest.mark.parametrize("key, fragment", [
    ("", "must not be empty"),
    ("QUJD", "must be 32 bytes"),
    ("IJftaHjgELSRD3PXllSPn3EpiVmrEjQupVynwcfu8F", "not valid base64"),
])
def test_bad_private_key(key, fragment):
    with pytest.raises(WgnetError) as info:
        wgkeys.public_key(key)
    assert info.value.option == "private_key" and fragment in str(info.value)


@pytest.mark.skipif(wgkeys.X25519PrivateKey is None or wgkeys.EccXPoint is None, reason="needs both backends")
def test_both_x25519_backends_give_the_same_public_keys():
    deriver = wgkeys.KeyDeriver("dGVzdHNlZWQK", "dGVzdGFkZGl0aW9uYWwK")
    for address in ["192.168.5.2", "10.0.42.7", "fd00:42::9"] + ["10.1.%d.%d" % (i, i) for i in range(50)]:
        private_raw = deriver.private_raw(address)
        assert wgkeys.public_from_private(private_raw) == wgkeys._public_from_private_pycryptodome(private_raw)


def test_a_weak_seed_is_refused_only_when_a_strong_one_is_required():
    assert KeyDeriver("dGVzdHNlZWQK", "").warnings  # the article's seed: accepted, with advice
    with pytest.raises(WgnetError, match="^seed: decodes to only 9 bytes, fewer than the 16 required; make a strong"):
        KeyDeriver("dGVzdHNlZWQK", "", require_strong_seed=True)
    assert KeyDeriver(base64.b64encode(b"s" * 16).decode(), "", require_strong_seed=True).warnings == []
