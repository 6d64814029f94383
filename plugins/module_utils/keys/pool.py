# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address pools: the container addresses a CIDR holds."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import json

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import decode_key, parse_address

# A pool is expanded into one peer per address: beyond this it is a mistake
# (an IPv6 /64 written where a /112 was meant), not a plan.
MAX_POOL_HOSTS = 1 << 20


def parse_pool(cidr, option="pool"):
    if not isinstance(cidr, str):
        raise WgnetError.about(option, "must be a CIDR string such as 10.0.42.0/24")
    try:
        return ipaddress.ip_network(cidr.strip(), strict=True)
    except ValueError as exc:
        raise WgnetError.about(option, "%r is not a network in CIDR form (%s)" % (cidr, exc))


def pool_hosts(cidr, exclude=(), option="pool"):
    """The usable host addresses of a pool, as strings, minus ``exclude``."""
    network = parse_pool(cidr, option)
    size = network.num_addresses
    if size > MAX_POOL_HOSTS:
        raise WgnetError.about(option, "%s holds %d addresses, more than the %d one hub can list; use a smaller prefix"
                               % (network, size, MAX_POOL_HOSTS))
    skipped = {parse_address(a, "exclude") for a in exclude}
    return [str(a) for a in network.hosts() if a not in skipped]


def host_route(address):
    """The allowed IP of one peer: its address as /32 or /128."""
    parsed = parse_address(address)
    return "%s/%d" % (parsed, parsed.max_prefixlen)


def peers_for(derived_keys):
    """wg_derived_key's derived_keys as peer entries: one per address, AllowedIPs its host route."""
    peers = []
    for index, entry in enumerate(derived_keys):
        if not isinstance(entry, dict) or not {"public_key", "address"} <= set(entry):
            raise WgnetError.about("derived_keys[%d]" % index, "must be a mapping with public_key and address, as "
                                   "wg_derived_key returns them")
        peers.append({"public_key": entry["public_key"],
                      "allowed_ips": [host_route(entry["address"])]})
    return peers


def pool_peers(pools, exclude, public_keys):
    """Hub peers for a pool, in wgconfig's normal form: {public key: peer}.

    ``public_keys[i]`` is the key of the i-th host address of the first pool
    (after ``exclude``); with a second (IPv6) pool, each peer also gets its
    paired address. Built from address objects directly: a /16 is 65,534 peers.
    """
    if not pools:
        raise WgnetError.about("pool", "must list one network, or two (IPv4 and IPv6)")
    if len(pools) > 2:
        raise WgnetError.about("pool", "lists %d networks; give one, or an IPv4 and an IPv6 one" % len(pools))
    networks = [parse_pool(p, "pool[%d]" % i) for i, p in enumerate(pools)]
    if len(networks) == 2 and networks[0].version == networks[1].version:
        raise WgnetError.about("pool", "the two networks must be one IPv4 and one IPv6")
    hosts = pool_hosts(pools[0], exclude, "pool[0]")
    if len(public_keys) != len(hosts):
        raise WgnetError.about("pool_public_keys", "has %d keys but pool %s has %d addresses (after pool_exclude)"
                               % (len(public_keys), pools[0], len(hosts)))
    first = networks[0]
    second = networks[1] if len(networks) == 2 else None
    if second is not None and second.num_addresses < first.num_addresses:
        raise WgnetError.about("pool", "%s is smaller than %s, so not every address has a pair" % (second, first))
    peers = {}
    for index, (address, key) in enumerate(zip(hosts, public_keys)):
        decode_key(key, "pool_public_keys[%d]" % index)
        if key in peers:
            raise WgnetError.about("pool_public_keys[%d]" % index, "%s is listed twice" % key)
        allowed = ["%s/%d" % (address, first.max_prefixlen)]
        if second is not None:
            offset = int(ipaddress.ip_address(address)) - int(first.network_address)
            allowed.append("%s/128" % (second.network_address + offset))
        peers[key] = {"endpoint": None, "allowed_ips": sorted(allowed), "persistent_keepalive": 0,
                      "preshared_key": None}
    return peers


def paired_addresses(address, pools, host_routes=False):
    """An address and its pairs in the other pool networks, at the same offset as in the first.

    With ``host_routes`` each gets /32 or /128 (a container's addresses),
    else the prefix of its pool (a hub's addresses, whose prefixes route the pool).
    """
    if not pools:
        raise WgnetError.about("wgnet_pool", "is empty; give the pool's CIDR, or an IPv4 and an IPv6 CIDR")
    networks = [parse_pool(p, "wgnet_pool[%d]" % i) for i, p in enumerate(pools)]
    parsed = parse_address(address)
    if parsed not in networks[0]:
        raise WgnetError.about("address", "%s is not in the pool %s" % (parsed, networks[0]))
    offset = int(parsed) - int(networks[0].network_address)
    result = []
    for network in networks:
        if offset >= network.num_addresses:
            raise WgnetError.about("wgnet_pool", "%s has no address at offset %d of %s" % (network, offset, networks[0]))
        prefix = network.max_prefixlen if host_routes else network.prefixlen
        result.append("%s/%d" % (network.network_address + offset, prefix))
    return result


GENERATION_LENGTH = 16


def pool_fingerprint(deriver, pool, exclude):
    """Names one (seed, additional, pool, exclude): from a public key, so it reveals no more than one."""
    canary = deriver.public_key(str(parse_pool(pool).network_address))
    text = json.dumps([canary, str(parse_pool(pool)), sorted(str(parse_address(a, "exclude")) for a in exclude)])
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def generation_fingerprint(deriver, overrides=None):
    """Names one key generation (seed, additional and the per-address overrides) without revealing them.

    Made of a public key, like pool_fingerprint: hosts record it to say which
    generation they run, and comparing two tells whether a host is behind.
    """
    canary = deriver.public_key("0.0.0.0")
    normal = sorted((str(parse_address(a, "additional_overrides")), v) for a, v in (overrides or {}).items())
    text = json.dumps([canary, normal])
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:GENERATION_LENGTH]
