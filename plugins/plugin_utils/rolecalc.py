# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the roles compute on the controller, as plain functions of plain data.

The filters of ``plugins/filter/wgroles.py`` are thin adapters over these functions, so that the roles'
task files read as plans: which containers, which slice, which interfaces, which libraries from where.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import ipaddress
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.common.installstate import too_old
from ansible_collections.wgnet.containers.plugins.module_utils.keys.alloc import ALLOCATIONS_PATH, parse_record
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import (
    KeyDeriver,
    override_derivers,
    parse_address,
    public_key,
)
from ansible_collections.wgnet.containers.plugins.module_utils.keys.fleet import host_slice, plan_allocation, whole_number
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import paired_addresses
from ansible_collections.wgnet.containers.plugins.module_utils.keys.ports import check_port_base, container_port

# VRRPv2's PASS authentication reads 8 characters only (RFC 2338 5.3.6).
MAX_AUTH_PASS = 8


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


def recorded_text(read):
    """The text of the allocation record in a ``wg_attach_read`` result, or None when the host has none."""
    content = (read or {}).get("content")
    return None if content is None else base64.b64decode(content).decode("utf-8")


def address_plan(read, options):
    """What ``wg_address_alloc`` with ``options`` (its arguments) would return, from the record ``wg_attach_read`` read.

    {addresses: {name: address}, detach: [name], record_changes}: a run in which ``record_changes`` is false needs no
    ``wg_address_alloc`` on the host, whose record already holds all of it.
    """
    before = parse_record(recorded_text(read), options.get("state_path") or ALLOCATIONS_PATH)
    addresses, detach, after = plan_allocation(
        before, options["slice"], [str(name) for name in options["containers"]], options.get("explicit") or {},
        options.get("exclude") or [], options.get("pool"), boolean(options.get("reslice") or False, strict=False))
    return {"addresses": addresses, "detach": detach, "record_changes": after != before}


def private_keys(addresses, keys, warn):
    """The private key of each address, in order, as ``wg_derived_key`` derives it, in the controller's process.

    ``keys``: {seed, additional, overrides (wgnet_additional_overrides), require_strong_seed}; ``warn``
    is given the deriver's advice (a short seed), never the seed.
    """
    fleet = KeyDeriver(keys["seed"], keys["additional"], boolean(keys.get("require_strong_seed") or False))
    own = override_derivers(keys["seed"], keys.get("overrides"))
    for warning in fleet.warnings:
        warn(warning)
    return [own.get(parse_address(address), fleet).private_key(address) for address in addresses]


def attach_interfaces(allocation, keys, selected, settings, warn):
    """The ``interfaces`` of ``wg_container_ifaces`` for one host: attach each allocated container, detach the rest.

    ``allocation`` is what ``wg_address_alloc`` returned (``addresses``: {name: address}, ``detach``: [name]);
    ``keys`` what derives their private keys (``private_keys``); ``selected`` the containers' specs ({name,
    mtu?, dns?}); ``settings`` the role's: pool, mtu, dns, backend, and the hub's public key, endpoint,
    allowed_ips and persistent_keepalive, and ``port_base``: 0 for a port the kernel picks, else each
    container listens on its derived port (keys.ports). Error messages never hold a key.
    """
    addresses = allocation.get("addresses") or {}
    specs = dict((container["name"], container) for container in selected)
    pools = pools_of(settings["pool"])
    base = whole_number(settings.get("port_base") or 0, "wgnet_container_port_base")
    hub = {"public_key": settings["hub_public_key"], "endpoint": settings["hub_endpoint"],
           "allowed_ips": settings["hub_allowed_ips"],
           "persistent_keepalive": settings["persistent_keepalive"]}
    interfaces = []
    for (name, address), key in zip(addresses.items(), private_keys(list(addresses.values()), keys, warn)):
        spec = specs.get(name, {})
        interface = {
            "container": name,
            "address": paired_addresses(address, pools, True),
            "private_key": key,
            "mtu": settings["mtu"] if spec.get("mtu") is None else spec["mtu"],
            "dns": settings["dns"] if spec.get("dns") is None else spec["dns"],
            "backend": settings["backend"],
            "peers": [dict(hub)],
        }
        if base:
            interface["listen_port"] = container_port(address, pools[0], base)
        interfaces.append(interface)
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


def ha_enabled(switch, hubs):
    """Whether the hubs run as a pair: ``switch`` (wgnet_ha) when set, else when ``wg_hub`` has two hosts or more."""
    if switch in (None, ""):
        return len(hubs) > 1
    try:
        return boolean(switch)
    except TypeError:
        raise WgnetError.about("wgnet_ha", "%r is not a boolean" % (switch,))


def _ip_of(value, option):
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise WgnetError.about(option, "%r is not an IP address" % (value,))


def hub_endpoints(hosts, pool, base, settings_of):
    """``wg_hub``'s pool_endpoints: each Docker host's slice and the address the hubs dial it at.

    ``settings_of(host)`` gives a host's inventory variables (hostvars); its address is
    ``wgnet_endpoint_address``, else ``ansible_host``.
    """
    check_port_base(pools_of(pool)[0], whole_number(base, "wgnet_container_port_base"))
    endpoints = []
    for host in hosts:
        settings = settings_of(host)
        address = settings.get("wgnet_endpoint_address") or settings.get("ansible_host")
        if not address:
            raise WgnetError.about("wgnet_endpoint_address", "Docker host %s has none, nor ansible_host: give the "
                                   "address the hubs reach it at" % host)
        owned = docker_host_slice(hosts, host, pool, settings.get("wgnet_host_slice", ""),
                                  settings.get("wgnet_host_index", ""), settings.get("wgnet_slice_prefix", ""))
        endpoints.append({"slice": owned, "address": str(address)})
    return endpoints


def vrrp_instance(hubs, host, vrrp, auth_pass, settings_of):
    """The keepalived instance of hub ``host`` of the pair ``hubs`` (docs/high-availability.md), checked.

    ``vrrp`` is wgnet_vrrp: {vip, interface, virtual_router_id, advert_int, version}; a hub's own address
    is its ``wgnet_vrrp_address`` (else ``ansible_host``), its priority ``wgnet_vrrp_priority`` (else 100
    minus its place in ``hubs``). A password forces VRRPv2 (v3 has no authentication) and whole-second adverts.
    """
    if not isinstance(vrrp, dict) or not vrrp.get("vip"):
        raise WgnetError.about("wgnet_vrrp.vip", "is missing: give the virtual address the Docker hosts dial "
                               "(wgnet_hub_endpoint's host)")
    vip = ipaddress.ip_interface(_vip_text(vrrp["vip"]))
    if auth_pass and len(auth_pass) > MAX_AUTH_PASS:
        raise WgnetError.about("wgnet_vrrp_auth_pass", "has %d characters; VRRP reads %d at most"
                               % (len(auth_pass), MAX_AUTH_PASS))
    version = 2 if auth_pass else whole_number(vrrp.get("version", 3), "wgnet_vrrp.version")
    if version not in (2, 3):
        raise WgnetError.about("wgnet_vrrp.version", "%d is not a VRRP version (2 or 3)" % version)
    advert = _advert_int(vrrp.get("advert_int", 0.5), version, bool(auth_pass))
    router_id = whole_number(vrrp.get("virtual_router_id", 42), "wgnet_vrrp.virtual_router_id")
    if not 1 <= router_id <= 255:
        raise WgnetError.about("wgnet_vrrp.virtual_router_id", "%d is outside 1-255" % router_id)
    addresses = {}
    for hub in hubs:
        settings = settings_of(hub)
        addresses[hub] = _ip_of(settings.get("wgnet_vrrp_address") or settings.get("ansible_host") or "",
                                "wgnet_vrrp_address")
    priority = settings_of(host).get("wgnet_vrrp_priority")
    priority = 100 - hubs.index(host) if priority in (None, "") else whole_number(priority, "wgnet_vrrp_priority")
    if not 1 <= priority <= 254:
        raise WgnetError.about("wgnet_vrrp_priority", "%d is outside 1-254" % priority)
    return {"vip": str(vip), "vip_address": str(vip.ip), "interface": vrrp.get("interface", "eth0"), "virtual_router_id": router_id,
            "version": version, "advert_int": advert, "priority": priority, "auth": bool(auth_pass),
            "unicast_src_ip": addresses[host], "unicast_peers": [addresses[h] for h in hubs if h != host]}


def _vip_text(vip):
    text = str(vip).strip()
    try:
        ipaddress.ip_interface(text)
    except ValueError:
        raise WgnetError.about("wgnet_vrrp.vip", "%r is not an address (192.0.2.10 or 192.0.2.10/24)" % (vip,))
    return text


def _advert_int(value, version, auth):
    try:
        advert = float(value)
    except (TypeError, ValueError):
        raise WgnetError.about("wgnet_vrrp.advert_int", "%r is not a number of seconds" % (value,))
    if version == 2:
        if auth:
            return max(1, int(advert))  # PASS authentication: VRRPv2, whose adverts are whole seconds
        if advert != int(advert) or advert < 1:
            raise WgnetError.about("wgnet_vrrp.advert_int", "%s: VRRPv2 sends whole seconds" % value)
    if not 0.01 <= advert <= 255:
        raise WgnetError.about("wgnet_vrrp.advert_int", "%s is outside 0.01-255 s" % value)
    return int(advert) if advert == int(advert) else advert
