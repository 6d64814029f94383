# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses across the fleet: each Docker host's slice of the pool, allocation inside a slice,
and the checks that make addresses unique by construction."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.keys.alloc import owner_name
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import parse_address
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import parse_pool


def whole_number(value, option):
    """An int from an int or its decimal text (inventories give either), else WgnetError naming ``option``."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise WgnetError.about(option, "%r is not a whole number" % (value,))
    return int(value)


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
        raise WgnetError.about("wgnet_slice_prefix", "/%d does not fit in the pool %s" % (prefix, network))
    slices = 1 << (prefix - network.prefixlen)
    if not 0 <= index < slices:
        raise WgnetError.about("wgnet_host_index", "%d is outside the %d slices /%d of %s" % (index, slices, prefix, network))
    size = 1 << (network.max_prefixlen - prefix)
    start = network.network_address + index * size
    return str(ipaddress.ip_network("%s/%d" % (start, prefix)))


class Slice:
    """The addresses one Docker host may give: the one place that decides.

    An address may be given when it lies in the host's slice, is one of the
    slice's host addresses (never its network or broadcast address, which the
    allocator has never given), is a host address of the pool (the hub has a
    peer for those only), and is not excluded (the hub's own address). Who
    already holds an address is the caller's record: see ``owner_refusal``.
    """

    def __init__(self, slice_cidr, pool=None, exclude=(), option="slice"):
        self.network = parse_pool(slice_cidr, option)
        self.pool = parse_pool(pool, "pool") if pool else None
        self.excluded = {parse_address(a, "exclude") for a in exclude}

    def refusal(self, address):
        """Why ``address`` (an ip_address) may not be given in this slice, or None."""
        if address in self.excluded:
            return "%s is excluded (the hub's address is never a container's)" % address
        if address not in self.network:
            return "%s is outside this host's slice %s" % (address, self.network)
        if not self._host_address(address, self.network):
            return "%s is the network or broadcast address of the slice %s" % (address, self.network)
        if self.pool is not None and not self._host_address(address, self.pool):
            return "%s is the network or broadcast address of the pool %s (the hub has no peer for it)" % (
                address, self.pool)
        return None

    def free(self, taken):
        """The addresses that may be given, lowest first, minus ``taken``."""
        return (a for a in self.network.hosts() if a not in taken and self.refusal(a) is None)

    @staticmethod
    def _host_address(address, network):
        # IPv4 networks of 4 addresses or more reserve their first and last; /31, /32 and IPv6 do not.
        if network.version == 6 or network.prefixlen >= network.max_prefixlen - 1:
            return True
        return address not in (network.network_address, network.broadcast_address)


def owner_refusal(address, owner, owners):
    """Why ``owner`` may not hold ``address`` when ``owners`` maps addresses to who holds them, or None."""
    holder = owners.get(address)
    if holder is not None and holder != owner:
        return "%s is already the address of %s" % (address, owner_name(holder))
    return None


def recorded_slice(text):
    """The slice an allocations record (its JSON text) holds while it holds addresses, else None."""
    try:
        record = json.loads(text) if text else {}
    except ValueError:
        return None  # wg_address_alloc names the broken record on its host
    if isinstance(record, dict) and record.get("allocations"):
        return record.get("slice")
    return None


def slice_move(recorded, wanted, host="this host"):
    """Why a host may not move from its ``recorded`` slice to ``wanted``, or None.

    Computed slices change when docker_hosts grows or changes order: every container of a moved
    host would get a new address, and so a new key, and the slices would overlap until every host
    has run again.
    """
    if not recorded or parse_pool(recorded, "recorded slice") == parse_pool(wanted, "slice"):
        return None
    return ("%s: its containers have addresses in the slice %s, and the inventory now gives it %s (docker_hosts "
            "grew or changed order). Set wgnet_host_slice: %s for %s to keep every address and key, or "
            "wgnet_reslice: true to give its containers new addresses, and so new keys" % (
                host, recorded, wanted, recorded, host))


def conflicts(pool, hosts, exclude=()):
    """Messages for every clash in a fleet plan; empty when addresses are unique by construction.

    ``hosts`` is a list of {"host", "slice", "explicit": [{"name", "address"}], "record"?, "reslice"?},
    the names being the containers' and "record" the text of the host's allocations record, if any.
    ``exclude``: addresses no container may have (the hub's). A host's slice may differ from the one
    its record holds only with "reslice".
    """
    network = parse_pool(pool, "wgnet_pool")
    problems = [moved for moved in (slice_move(recorded_slice(entry.get("record")), entry["slice"], entry["host"])
                                    for entry in hosts if not entry.get("reslice")) if moved]
    slices = []
    for entry in hosts:
        piece = parse_pool(entry["slice"], "slice of %s" % entry["host"])
        if not piece.subnet_of(network):
            problems.append("%s: slice %s is not inside the pool %s" % (entry["host"], piece, network))
        for other_host, other in slices:
            if piece.overlaps(other):
                problems.append("slices overlap: %s has %s and %s has %s" % (other_host, other, entry["host"], piece))
        slices.append((entry["host"], piece))
    owners = {}
    for entry in hosts:
        allowed = Slice(entry["slice"], pool, exclude, "slice of %s" % entry["host"])
        for item in entry.get("explicit", []):
            address = parse_address(item["address"], "address of %s on %s" % (item["name"], entry["host"]))
            owner = "%s on %s" % (item["name"], entry["host"])
            if address in owners:
                problems.append("%s is given to both %s and %s" % (address, owners[address], owner))
            owners[address] = owner
            refusal = allowed.refusal(address)
            if refusal:
                problems.append("%s: %s" % (owner, refusal))
            for slice_host, piece in slices:
                if address in piece and slice_host != entry["host"]:
                    problems.append("%s (%s) lies in the slice %s of %s" % (address, owner, piece, slice_host))
    return problems


def allocate(slice_cidr, wanted, explicit, recorded, exclude=(), pool=None):
    """Addresses for containers: explicit ones when ``Slice`` allows them and no one else holds them,
    the others kept from ``recorded`` when still allowed, else the lowest free address of the slice.

    ``wanted`` lists the container names; returns {name: address}. ``recorded`` maps every owner
    on the host (containers, and the network driver's endpoints) to its address: an explicit address
    never takes another owner's, and addresses of owners not wanted now stay reserved for them, so
    that a container that comes back gets its address (and so its key) back. An explicit address that
    is refused raises WgnetError naming ``explicit``.
    """
    allowed = Slice(slice_cidr, pool, exclude)
    wanted = sorted(wanted)  # new addresses go in name order, whatever the input order
    owners = {parse_address(a, "recorded address of %s" % name): name for name, a in recorded.items()}
    result = {}
    for name in sorted(n for n in wanted if n in explicit):
        address = parse_address(explicit[name], "explicit address of %s" % name)
        refusal = allowed.refusal(address) or owner_refusal(address, name, owners)
        if refusal:
            raise WgnetError.about("explicit", "%s for %s: %s" % (explicit[name], name, refusal))
        owners[address] = name
        result[name] = str(address)
    for name in wanted:
        previous = recorded.get(name)
        if name in result or not previous:
            continue
        address = parse_address(previous, "recorded address of %s" % name)
        if allowed.refusal(address) is None and owners.get(address) == name:
            owners[address] = name
            result[name] = str(address)
    free = allowed.free(owners)
    for name in wanted:
        if name not in result:
            address = next(free, None)
            if address is None:
                raise WgnetError.about("slice", "%s has no free address left for %s" % (allowed.network, name))
            owners[address] = name
            result[name] = str(address)
    return result


def plan_allocation(before, slice_cidr, containers, explicit, exclude=(), pool=None, reslice=False):
    """What wg_address_alloc makes of the allocations record ``before``: (addresses, detach, after).

    ``addresses`` {name: address} for ``containers``, by ``allocate``; ``detach`` the containers attached
    before and not listed now; ``after`` the record to write (equal to ``before`` when nothing changes).
    A record that holds addresses in another slice is refused, naming ``slice``, unless ``reslice``.
    """
    moved = None if reslice or not before["allocations"] else slice_move(before.get("slice"), slice_cidr)
    if moved:
        raise WgnetError.about("slice", moved)
    wanted = sorted(set(containers))
    addresses = allocate(slice_cidr, wanted, explicit, before["allocations"], exclude, pool)
    after = {"allocations": dict(before["allocations"], **addresses), "attached": wanted,
             "slice": str(Slice(slice_cidr).network)}
    return addresses, sorted(set(before["attached"]) - set(wanted)), after
