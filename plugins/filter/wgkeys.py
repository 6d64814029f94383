# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja filters over the collection's one key-derivation implementation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.utils.display import Display

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import (
    crypto_available,
    KeyDeriver,
    public_key,
)
from ansible_collections.wgnet.containers.plugins.module_utils.keys.fleet import conflicts, host_slice, whole_number
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import (
    generation_fingerprint,
    paired_addresses,
    peers_for,
    pool_hosts,
)


def _guarded(compute):
    """Run a computation, turning bad input into AnsibleFilterError."""
    if not crypto_available():
        raise AnsibleFilterError("cryptography, or pycryptodome >= 3.21, is required on the controller for the "
                                 "wgnet.containers key filters")
    try:
        return compute()
    except WgnetError as exc:
        raise AnsibleFilterError(str(exc))


def wg_derived_pubkey(address, seed, additional):
    return _guarded(lambda: KeyDeriver(seed, additional).public_key(address))


def wg_derived_privkey(address, seed, additional, require_strong_seed=False):
    def derive():
        deriver = KeyDeriver(seed, additional, boolean(require_strong_seed))
        for warning in deriver.warnings:
            Display().warning(warning)
        return deriver.private_key(address)
    return _guarded(derive)


def wg_pubkey(private_key):
    return _guarded(lambda: public_key(private_key))


def wg_pool_hosts(cidr, exclude=()):
    if isinstance(exclude, str):
        exclude = [exclude]
    return _guarded(lambda: pool_hosts(cidr, exclude))


def wg_peers(derived_keys):
    return _guarded(lambda: peers_for(derived_keys))


def wg_host_slice(pool, index, count, prefix=None):
    return _guarded(lambda: host_slice(pool, whole_number(index, "wgnet_host_index"), whole_number(count, "count"),
                                       None if prefix in (None, "") else whole_number(prefix, "wgnet_slice_prefix")))


def wg_paired_addresses(address, pools, host_routes=False):
    return _guarded(lambda: paired_addresses(address, [pools] if isinstance(pools, str) else pools, host_routes))


def wg_generation(seed, additional, overrides=None):
    return _guarded(lambda: generation_fingerprint(KeyDeriver(seed, additional), overrides))


def wg_fleet_conflicts(hosts, pool, exclude=()):
    return _guarded(lambda: conflicts(pool, hosts, [exclude] if isinstance(exclude, str) else exclude))


class FilterModule(object):
    def filters(self):
        return {
            "wg_derived_pubkey": wg_derived_pubkey,
            "wg_derived_privkey": wg_derived_privkey,
            "wg_pubkey": wg_pubkey,
            "wg_pool_hosts": wg_pool_hosts,
            "wg_peers": wg_peers,
            "wg_host_slice": wg_host_slice,
            "wg_fleet_conflicts": wg_fleet_conflicts,
            "wg_paired_addresses": wg_paired_addresses,
            "wg_generation": wg_generation,
        }
