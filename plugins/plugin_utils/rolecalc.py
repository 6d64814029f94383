# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the roles compute on the controller, as plain functions of plain data.

The filters of ``plugins/filter/wgroles.py`` are thin adapters over these functions, so that the roles'
task files read as plans: which containers, which slice, which interfaces, which libraries from where.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.common.installstate import too_old
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver, public_key
from ansible_collections.wgnet.containers.plugins.module_utils.keys.fleet import host_slice, whole_number
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import paired_addresses


def pools_of(pool):
    """``wgnet_pool`` as a list: one CIDR, or an IPv4 and an IPv6 CIDR."""
    return [pool] if isinstance(pool, str) else list(pool)


def select_containers(containers, labelled_lines):
    """The containers to attach: the labelled ones, then the inventory's, which win for a name in both.

    ``labelled_lines`` are wg_attach_read's ``labelled``: a container's name, then its ``wgnet.address``
    label if it has one.
    """
    named = set(container["name"] for container in containers)
    selected = []
    for line in labelled_lines:
        words = line.split()
        if not words or words[0] in named:
            continue
        container = {"name": words[0]}
        if len(words) > 1:
            container["address"] = words[1]
        selected.append(container)
    return selected + list(containers)


def docker_host_slice(hosts, host, pool, given="", index="", prefix=""):
    """A Docker host's slice of the (first) pool: ``given``, else cut from its place among ``hosts``.

    ``index`` replaces the host's position in ``hosts`` when given; ``prefix`` the fewest equal slices.
    """
    if given:
        return given
    if index in (None, ""):
        if host not in hosts:
            raise WgnetError.about("wgnet_host_index", "%s is not in docker_hosts; give wgnet_host_slice or wgnet_host_index"
                                   % host)
        index = hosts.index(host)
    return host_slice(pools_of(pool)[0], whole_number(index, "wgnet_host_index"), len(hosts),
                      None if prefix in (None, "") else whole_number(prefix, "wgnet_slice_prefix"))


def fleet_entry(host, slice_cidr, selected, record, reslice):
    """One host's part of the fleet plan that ``keys.fleet.conflicts`` checks.

    ``record`` is the text of the host's allocations.json ('' where there is none).
    """
    return {"host": host, "slice": slice_cidr, "explicit": [c for c in selected if c.get("address")],
            "record": record, "reslice": reslice}


def hub_public_key(seed, additional, address, private_key=""):
    """The hub's public key: from its given private key, else derived from its address."""
    if private_key:
        return public_key(private_key)
    return KeyDeriver(seed, additional).public_key(address)


def attach_interfaces(allocation, derived_keys, selected, settings):
    """The ``interfaces`` of ``wg_container_ifaces`` for one host: attach each allocated container, detach the rest.

    ``allocation`` is what ``wg_address_alloc`` returned (``addresses``: {name: address}, ``detach``: [name]);
    ``derived_keys`` what ``wg_derived_key`` returned for those addresses, in the same order; ``selected``
    the containers' specs ({name, mtu?, dns?}); ``settings`` the role's: pool, mtu, dns, backend, and the
    hub's public key, endpoint, allowed_ips and persistent_keepalive. Error messages never hold a key.
    """
    addresses = allocation.get("addresses") or {}
    if len(derived_keys) != len(addresses):
        raise WgnetError.about("derived_keys", "%d keys for %d addresses" % (len(derived_keys), len(addresses)))
    specs = dict((container["name"], container) for container in selected)
    pools = pools_of(settings["pool"])
    hub = {"public_key": settings["hub_public_key"], "endpoint": settings["hub_endpoint"],
           "allowed_ips": settings["hub_allowed_ips"],
           "persistent_keepalive": settings["persistent_keepalive"]}
    interfaces = []
    for (name, address), key in zip(addresses.items(), derived_keys):
        spec = specs.get(name, {})
        interfaces.append({
            "container": name,
            "address": paired_addresses(address, pools, True),
            "private_key": key["private_key"],
            "mtu": settings["mtu"] if spec.get("mtu") is None else spec["mtu"],
            "dns": settings["dns"] if spec.get("dns") is None else spec["dns"],
            "backend": settings["backend"],
            "peers": [dict(hub)],
        })
    return interfaces + [{"container": name, "state": "absent"} for name in allocation.get("detach") or []]


def python_missing(libs, found):
    """The libraries ({name, min_version}) that ``found`` ({name: version or None}) lacks or has too old.

    Each comes back with ``found``, the version there (None when missing).
    """
    return [dict(lib, found=found.get(lib["name"])) for lib in libs if too_old(found.get(lib["name"]), lib["min_version"])]


def python_sources(candidates, packages, version_pattern):
    """Where each missing library comes from: ``{'distro': [package], 'pip': ['name>=min_version']}``.

    ``candidates`` are the results of asking the package manager, one per missing library (``item``), with
    ``rc`` and ``stdout`` where it was asked (the library has a package in ``packages``, {name: package});
    ``version_pattern`` reads the version it would install from that output (its first group, multiline).
    The distribution's package wins when it would install a new enough version; pip into the venv otherwise.
    """
    sources = {"distro": [], "pip": []}
    for result in candidates:
        lib = result["item"]
        match = re.search(version_pattern, result.get("stdout") or "", re.MULTILINE)
        version = match.group(1) if match else ""
        if result.get("rc", 1) == 0 and not too_old(version, lib["min_version"]):
            sources["distro"].append(packages[lib["name"]])
        else:
            sources["pip"].append("%s>=%s" % (lib["name"], lib["min_version"]))
    return sources
