# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic WireGuard keys: clamp(SHA3-256(seed || additional || address)).

Bit-for-bit compatible with the reference script privkeys.py from the article
"Using WireGuard as the network for a Docker container" for IPv4. IPv6 (the 16
packed bytes) is this collection's extension. The one implementation used by
the modules, the filters and the network driver.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import ipaddress
import itertools
import multiprocessing
import os

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError

# X25519 from OpenSSL (the cryptography package, which ansible-core itself needs) where it can be
# imported: about four times faster than pycryptodome's, which stays the fallback on managed hosts.
try:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError:
    X25519PrivateKey = None
try:
    from Crypto.PublicKey.ECC import EccXPoint
except ImportError:  # reported by the callers with missing_required_lib
    EccXPoint = None

KEY_LEN = 32
MIN_STRONG_SEED_LEN = 16
SEED_ADVICE = "make a strong one with: head -c 32 /dev/urandom | base64"
# Batches above this size are split over one process per core: the scalar
# multiplications dominate, and processes run them without sharing a GIL.
PARALLEL_THRESHOLD = 2048


def crypto_available():
    return X25519PrivateKey is not None or EccXPoint is not None


def decode_b64(value, option, allow_empty=False):
    """Strict base64: whitespace, a foreign alphabet or bad padding is an error.

    The reference silently drops such characters; silently different bytes
    would silently give different keys, so we refuse them. The value is never
    quoted in the message because it may be the seed.
    """
    if not isinstance(value, str):
        raise WgnetError.about(option, "must be a base64 string, got %s" % type(value).__name__)
    if value == "":
        if allow_empty:
            return b""
        raise WgnetError.about(option, "must not be empty")
    try:
        return binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise WgnetError.about(option, "is not valid base64 (%s)" % _b64_reason(exc))


def _b64_reason(exc):
    if isinstance(exc, UnicodeEncodeError):
        return "non-ASCII character"
    # binascii's messages describe the defect, never the data.
    return str(exc).rstrip(".")


def decode_key(value, option):
    """A WireGuard key: 32 bytes as base64 (44 characters)."""
    raw = decode_b64(value, option)
    if len(raw) != KEY_LEN:
        raise WgnetError.about(option, "must be %d bytes of base64 (a WireGuard key), got %d bytes" % (KEY_LEN, len(raw)))
    return raw


def parse_address(value, option="address"):
    """Return the ip_address of a bare or prefixed address (10.0.42.5/24)."""
    if not isinstance(value, str):
        raise WgnetError.about(option, "must be an IP address string, got %s" % type(value).__name__)
    text = value.strip()
    if "%" in text:
        raise WgnetError.about(option, "%r has a scope id; give the address without %%scope" % value)
    if "/" in text:
        host, prefix = text.split("/", 1)
        if not prefix.isdigit():
            raise WgnetError.about(option, "%r has an invalid prefix %r (not a number)" % (value, prefix))
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise WgnetError.about(option, "%r is not an IP address" % value)
        if int(prefix) > address.max_prefixlen:
            raise WgnetError.about(option, "%r has an invalid prefix /%s (at most /%d for IPv%d)" % (
                value, prefix, address.max_prefixlen, address.version))
    else:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise WgnetError.about(option, "%r is not an IP address" % value)
    if address.version == 6 and address.ipv4_mapped is not None:
        raise WgnetError.about(option, "%r is an IPv4-mapped IPv6 address; use the plain IPv4 form %s, so that "
                               "one container cannot have two keys" % (value, address.ipv4_mapped))
    return address


def clamp(digest):
    key = bytearray(digest)
    key[0] &= 248
    key[31] = (key[31] & 127) | 64
    return bytes(key)


def public_from_private(private_raw):
    """X25519 public key of a 32-byte private key, as raw bytes."""
    if X25519PrivateKey is not None:
        public = X25519PrivateKey.from_private_bytes(private_raw).public_key()
        return public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _public_from_private_pycryptodome(private_raw)


def _public_from_private_pycryptodome(private_raw):
    if EccXPoint is None:
        raise RuntimeError("cryptography, or pycryptodome with EccXPoint (3.21 or later), is required")
    # X25519 clamps the scalar and reads it little-endian; the base point is u=9.
    point = EccXPoint(9, "curve25519") * int.from_bytes(clamp(private_raw), "little")
    return point.x.to_bytes(KEY_LEN, "little")


def b64(raw):
    return base64.b64encode(raw).decode("ascii")


def public_key(private_key_b64, option="private_key"):
    """Base64 public key of a base64 private key."""
    return b64(public_from_private(decode_key(private_key_b64, option)))


class KeyDeriver:
    """Derives keys for one (seed, additional) pair.

    Decodes and checks the inputs once; ``warnings`` holds advice for the
    caller to show (a short seed), never the seed itself.
    """

    def __init__(self, seed, additional, require_strong_seed=False):
        seed_raw = decode_b64(seed, "seed")
        additional_raw = decode_b64(additional, "additional", allow_empty=True)
        self.warnings = []
        if require_strong_seed and len(seed_raw) < MIN_STRONG_SEED_LEN:
            raise WgnetError.about("seed", "decodes to only %d bytes, fewer than the %d required; %s (the roles accept a "
                                   "weak seed only with wgnet_allow_weak_seed: true)"
                                   % (len(seed_raw), MIN_STRONG_SEED_LEN, SEED_ADVICE))
        if len(seed_raw) < MIN_STRONG_SEED_LEN:
            self.warnings.append(
                "seed: decodes to only %d bytes (fewer than %d), which is weak; %s"
                % (len(seed_raw), MIN_STRONG_SEED_LEN, SEED_ADVICE))
        # Hashing the shared prefix once and copying the state saves work per address.
        self._prefix = hashlib.sha3_256(seed_raw + additional_raw)

    def private_raw(self, address, option="address"):
        digest = self._prefix.copy()
        digest.update(parse_address(address, option).packed)
        return clamp(digest.digest())

    def private_key(self, address, option="address"):
        return b64(self.private_raw(address, option))

    def public_key(self, address, option="address"):
        return b64(public_from_private(self.private_raw(address, option)))

    def derive(self, address, include_private=False, option="address"):
        private_raw = self.private_raw(address, option)
        entry = {"address": address, "public_key": b64(public_from_private(private_raw))}
        if include_private:
            entry["private_key"] = b64(private_raw)
        return entry

    def derive_many(self, addresses, include_private=False, option="addresses"):
        """Keys for a list of addresses, in input order.

        A bad address fails the whole batch, naming its index; large batches
        are computed on every core.
        """
        if not addresses:
            raise WgnetError.about(option, "must not be empty")
        pairs, error = _derive_batch(self, addresses, option)
        if error:
            raise WgnetError(*error)
        result = []
        for address, (private_raw, public_raw) in zip(addresses, pairs):
            entry = {"address": address, "public_key": b64(public_raw)}
            if include_private:
                entry["private_key"] = b64(private_raw)
            result.append(entry)
        return result


def override_derivers(seed, overrides):
    """{address: KeyDeriver} for the addresses that have an additional of their own (wgnet_additional_overrides)."""
    return dict((parse_address(address, "additional_overrides"), KeyDeriver(seed, additional))
                for address, additional in (overrides or {}).items())


def _derive_chunk(deriver, offset, addresses, option):
    """(private, public) raw pairs of a slice, or the (message, option) of its first bad address."""
    pairs = []
    for index, address in enumerate(addresses, offset):
        try:
            private_raw = deriver.private_raw(address, "%s[%d]" % (option, index))
        except WgnetError as exc:
            return pairs, (str(exc), exc.option)
        pairs.append((private_raw, public_from_private(private_raw)))
    return pairs, None


# The deriver of the batch in progress: forked workers inherit it, so the seed
# is never pickled or sent to them.
_FORKED_DERIVER = None


def _derive_forked(job):
    return _derive_chunk(_FORKED_DERIVER, *job)


def _derive_batch(deriver, addresses, option):
    global _FORKED_DERIVER
    workers = os.cpu_count() or 1
    if len(addresses) <= PARALLEL_THRESHOLD or workers == 1:
        return _derive_chunk(deriver, 0, addresses, option)
    size = -(-len(addresses) // (workers * 4))
    jobs = [(start, addresses[start:start + size], option) for start in range(0, len(addresses), size)]
    _FORKED_DERIVER = deriver
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_derive_forked, jobs)
    finally:
        _FORKED_DERIVER = None
    errors = [error for _pairs, error in results if error]
    return list(itertools.chain.from_iterable(pairs for pairs, _error in results)), (errors[0] if errors else None)
