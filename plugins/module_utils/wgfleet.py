# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses across the fleet: each Docker host's slice of the pool, allocation inside a slice,
and the checks that make addresses unique by construction."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import WgKeyError, parse_address
from ansible_collections.wgnet.containers.plugins.module_utils.wgpool import parse_pool


def host_slice(pool, index, count, prefix=None):
    """The slice of ``pool`` for the host at ``index`` of ``count`` hosts.

    Without ``prefix``, the pool is cut into the fewest equal power-of-two
    slices that give every host one. Give ``prefix`` to keep slices stable
    while the fleet grows.
    """
    network = parse_pool(pool, "wgnet_pool")
    if prefix is None:
        prefix = network.prefixlen + max(count - 1, 0).bit_length()
    if not network.prefixlen <= prefix <= network.max_prefixlen:
        raise WgKeyError("wgnet_slice_prefix", "/%d does not fit in the pool %s" % (prefix, network))
    slices = 1 << (prefix - network.prefixlen)
    if not 0 <= index < slices:
        raise WgKeyError("wgnet_host_index", "%d is outside the %d slices /%d of %s" % (index, slices, prefix, network))
    size = 1 << (network.max_prefixlen - prefix)
    start = network.network_address + index * size
    return str(ipaddress.ip_network("%s/%d" % (start, prefix)))


def conflicts(pool, hosts):
    """Messages for every clash in a fleet plan; empty when addresses are unique by construction.

    ``hosts`` is a list of {"host", "slice", "explicit": [{"name", "address"}]}, the names being
    the containers'.
    """
    network = parse_pool(pool, "wgnet_pool")
    problems = []
    slices = []
    for entry in hosts:
        piece = ipaddress.ip_network(entry["slice"])
        if not piece.subnet_of(network):
            problems.append("%s: slice %s is not inside the pool %s" % (entry["host"], piece, network))
        for other_host, other in slices:
            if piece.overlaps(other):
                problems.append("slices overlap: %s has %s and %s has %s" % (other_host, other, entry["host"], piece))
        slices.append((entry["host"], piece))
    owners = {}
    for entry in hosts:
        for item in entry.get("explicit", []):
            address = parse_address(item["address"], "address of %s on %s" % (item["name"], entry["host"]))
            owner = "%s on %s" % (item["name"], entry["host"])
            if address in owners:
                problems.append("%s is given to both %s and %s" % (address, owners[address], owner))
            owners[address] = owner
            if address not in network:
                problems.append("%s (%s) is outside the pool %s" % (address, owner, network))
            for slice_host, piece in slices:
                if address in piece and slice_host != entry["host"]:
                    problems.append("%s (%s) lies in the slice %s of %s" % (address, owner, piece, slice_host))
    return problems


def allocate(slice_cidr, wanted, explicit, recorded, exclude=()):
    """Addresses for containers: explicit ones as given, the others kept from ``recorded``
    when still valid, else the lowest free address of the slice.

    ``wanted`` lists the container names; returns {name: address}. Recorded
    addresses of containers not wanted now stay reserved for them, so that a
    container that comes back gets its address (and so its key) back.
    """
    piece = ipaddress.ip_network(slice_cidr)
    wanted = sorted(wanted)  # new addresses go in name order, whatever the input order
    taken = {parse_address(a) for a in exclude}
    taken.update(parse_address(a) for a in explicit.values())
    taken.update(parse_address(a) for name, a in recorded.items() if name not in wanted)
    result = {}
    for name in wanted:
        if name in explicit:
            result[name] = str(parse_address(explicit[name]))
            continue
        previous = recorded.get(name)
        if previous and parse_address(previous) in piece and parse_address(previous) not in taken:
            result[name] = previous
            taken.add(parse_address(previous))
    free = (a for a in piece.hosts() if a not in taken)
    for name in wanted:
        if name not in result:
            address = next(free, None)
            if address is None:
                raise WgKeyError("slice", "%s has no free address left for %s" % (piece, name))
            result[name] = str(address)
            taken.add(address)
    return result
