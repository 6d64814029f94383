# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address pools: the container addresses a CIDR holds."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import json
import socket

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
    return [text for _offset, text in _pool_hosts(network, exclude, option)]


def _pool_hosts(network, exclude, option):
    """(offset in the network, address text) of its usable hosts, as ipaddress's hosts() has them, minus
    ``exclude``: made from integers, 10 times faster than address objects for the 65,534 of a /16."""
    size = network.num_addresses
    if size > MAX_POOL_HOSTS:
        raise WgnetError.about(option, "%s holds %d addresses, more than the %d one hub can list; use a smaller prefix"
                               % (network, size, MAX_POOL_HOSTS))
    base = int(network.network_address)
    excluded = [parse_address(a, "exclude") for a in exclude]
    skipped = {int(a) - base for a in excluded if a.version == network.version}
    if size <= 2:
        offsets = range(size)  # /31, /32, /127, /128: every address is a host
    else:
        offsets = range(1, size - 1 if network.version == 4 else size)  # IPv6 has no broadcast address
    text = _address_text(network.version)
    return [(offset, text(base + offset)) for offset in offsets if offset not in skipped]


def _address_text(version):
    if version == 4:
        return lambda value: socket.inet_ntoa(value.to_bytes(4, "big"))
    return _ipv6_text


def _ipv6_text(value):
    # inet_ntop writes ::a.b.c.d where the first 96 bits are 0 or ::ffff: (IPv4-compatible and
    # -mapped), where ipaddress writes hex; elsewhere both compress the same (RFC 5952).
    if value >> 32 in (0, 0xFFFF):
        return str(ipaddress.IPv6Address(value))
    return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))


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
    first = networks[0]
    second = networks[1] if len(networks) == 2 else None
    if second is not None and second.num_addresses < first.num_addresses:
        raise WgnetError.about("pool", "%s is smaller than %s, so not every address has a pair" % (second, first))
    hosts = _pool_hosts(first, exclude, "pool[0]")
    if len(public_keys) != len(hosts):
        raise WgnetError.about("pool_public_keys", "has %d keys but pool %s has %d addresses (after pool_exclude)"
                               % (len(public_keys), pools[0], len(hosts)))
    suffix = "/%d" % first.max_prefixlen
    paired = _address_text(6)
    peers = {}
    for index, ((offset, address), key) in enumerate(zip(hosts, public_keys)):
        decode_key(key, "pool_public_keys[%d]" % index)
        if key in peers:
            raise WgnetError.about("pool_public_keys[%d]" % index, "%s is listed twice" % key)
        allowed = [address + suffix]
        if second is not None:
            allowed = sorted(allowed + ["%s/128" % paired(int(second.network_address) + offset)])
        peers[key] = {"endpoint": None, "allowed_ips": allowed, "persistent_keepalive": 0, "preshared_key": None}
    return peers


def pool_digest(peers):
    """Names a hub's pool peers as applied, {key: peer}, by their public keys and allowed IPs: no secret."""
    lines = sorted("%s %s" % (key, ",".join(peer["allowed_ips"])) for key, peer in peers.items())
    return hashlib.sha256("\n".join(lines).encode("ascii")).hexdigest()


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


def generation_fingerprint(deriver, overrides=None):
    """Names one key generation (seed, additional and the per-address overrides) without revealing them.

    Made of a public key, like pool_fingerprint: hosts record it to say which
    generation they run, and comparing two tells whether a host is behind.
    """
    canary = deriver.public_key("0.0.0.0")
    normal = sorted((str(parse_address(a, "additional_overrides")), v) for a, v in (overrides or {}).items())
    text = json.dumps([canary, normal])
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:GENERATION_LENGTH]
