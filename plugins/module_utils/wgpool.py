# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address pools: the container addresses a CIDR holds."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import WgKeyError, parse_address

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
    return [{"public_key": entry["public_key"], "allowed_ips": [host_route(entry["address"])]}
            for entry in derived_keys]
