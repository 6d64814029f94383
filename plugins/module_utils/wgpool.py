# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address pools: the container addresses a CIDR holds."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import ipaddress
import json
import os

from ansible_collections.wgnet.containers.plugins.module_utils.fileio import write_json
from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import WgKeyError, decode_key, parse_address

# A pool is expanded into one peer per address: beyond this it is a mistake
# (an IPv6 /64 written where a /112 was meant), not a plan.
MAX_POOL_HOSTS = 1 << 20


def parse_pool(cidr, option="pool"):
    if not isinstance(cidr, str):
        raise WgKeyError(option, "must be a CIDR string such as 10.0.42.0/24")
    try:
        return ipaddress.ip_network(cidr.strip(), strict=True)
    except ValueError as exc:
        raise WgKeyError(option, "%r is not a network in CIDR form (%s)" % (cidr, exc))


def pool_hosts(cidr, exclude=(), option="pool"):
    """The usable host addresses of a pool, as strings, minus ``exclude``."""
    network = parse_pool(cidr, option)
    size = network.num_addresses
    if size > MAX_POOL_HOSTS:
        raise WgKeyError(option, "%s holds %d addresses, more than the %d one hub can list; use a smaller prefix"
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
            raise WgKeyError("derived_keys[%d]" % index, "must be a mapping with public_key and address, as "
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
        raise WgKeyError("pool", "must list one network, or two (IPv4 and IPv6)")
    if len(pools) > 2:
        raise WgKeyError("pool", "lists %d networks; give one, or an IPv4 and an IPv6 one" % len(pools))
    networks = [parse_pool(p, "pool[%d]" % i) for i, p in enumerate(pools)]
    if len(networks) == 2 and networks[0].version == networks[1].version:
        raise WgKeyError("pool", "the two networks must be one IPv4 and one IPv6")
    hosts = pool_hosts(pools[0], exclude, "pool[0]")
    if len(public_keys) != len(hosts):
        raise WgKeyError("pool_public_keys", "has %d keys but pool %s has %d addresses (after pool_exclude)"
                         % (len(public_keys), pools[0], len(hosts)))
    first = networks[0]
    second = networks[1] if len(networks) == 2 else None
    if second is not None and second.num_addresses < first.num_addresses:
        raise WgKeyError("pool", "%s is smaller than %s, so not every address has a pair" % (second, first))
    peers = {}
    for index, (address, key) in enumerate(zip(hosts, public_keys)):
        decode_key(key, "pool_public_keys[%d]" % index)
        if key in peers:
            raise WgKeyError("pool_public_keys[%d]" % index, "%s is listed twice" % key)
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
        raise WgKeyError("wgnet_pool", "is empty; give the pool's CIDR, or an IPv4 and an IPv6 CIDR")
    networks = [parse_pool(p, "wgnet_pool[%d]" % i) for i, p in enumerate(pools)]
    parsed = parse_address(address)
    if parsed not in networks[0]:
        raise WgKeyError("address", "%s is not in the pool %s" % (parsed, networks[0]))
    offset = int(parsed) - int(networks[0].network_address)
    result = []
    for network in networks:
        if offset >= network.num_addresses:
            raise WgKeyError("wgnet_pool", "%s has no address at offset %d of %s" % (network, offset, networks[0]))
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


CACHE_MAC_PURPOSE = b"wgnet.containers pool cache entry"


def cached_pool_keys(deriver, pool, exclude, cache_dir):
    """derived_keys of a pool, read from ``cache_dir`` when derived before. Returns (keys, cached).

    An entry is used only if its MAC, keyed from the seed, holds: a replaced or malformed entry is
    derived again and rewritten. The folder must be the user's own and writable by no one else.
    """
    check_private_folder(cache_dir, "cache_dir")
    path = os.path.join(cache_dir, "pool-%s.json" % pool_fingerprint(deriver, pool, exclude))
    mac_key = deriver.mac_key(CACHE_MAC_PURPOSE)
    keys = _read_entry(path, mac_key)
    if keys is not None:
        return keys, True
    keys = deriver.derive_many(pool_hosts(pool, exclude), option="pool")
    write_json(path, {"keys": keys, "mac": _mac(mac_key, keys)})
    return keys, False


def _mac(mac_key, keys):
    return hmac.new(mac_key, json.dumps(keys, sort_keys=True).encode("ascii"), hashlib.sha256).hexdigest()


def _read_entry(path, mac_key):
    """The keys of an entry whose MAC holds; None for one that is missing, malformed or forged."""
    try:
        with open(path) as handle:
            entry = json.load(handle)
        keys, mac = entry["keys"], entry["mac"]
        authentic = hmac.compare_digest(_mac(mac_key, keys), mac)
    except (IOError, OSError, ValueError, KeyError, TypeError):
        return None
    return keys if authentic else None


def check_private_folder(path, option):
    """Make ``path`` 0700, or accept it only when it is the user's own and no one else may write to it."""
    if not os.path.isdir(path):
        if os.path.lexists(path):
            raise WgKeyError(option, "%s is not a folder" % path)
        os.makedirs(path, mode=0o700)
    info = os.stat(path)
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise WgKeyError(option, "%s belongs to uid %d with mode %04o; give a folder of your own (uid %d) that "
                                 "no one else may write, such as one of mode 0700"
                         % (path, info.st_uid, info.st_mode & 0o7777, os.geteuid()))
