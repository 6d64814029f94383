# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja filters over what the roles compute (plugin_utils/rolecalc.py): each one call, no logic of its own."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.utils.display import Display

from ansible_collections.wgnet.containers.plugins.plugin_utils import rolecalc
from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError


def _filter_error(compute):
    """Run a computation, turning bad input into AnsibleFilterError."""
    try:
        return compute()
    except WgnetError as exc:
        raise AnsibleFilterError(str(exc))


def wg_select_containers(containers, labelled_lines):
    return rolecalc.select_containers(containers, labelled_lines)


def wg_docker_host_slice(hosts, host, pool, given="", index="", prefix=""):
    return _filter_error(lambda: rolecalc.docker_host_slice(list(hosts), host, pool, given, index, prefix))


def _fleet_entry(host, facts, reslice):
    return rolecalc.fleet_entry(host, facts["wgnet_my_slice"], facts["wgnet_selected"],
                                rolecalc.recorded_text(facts.get("wgnet_record")) or "",
                                boolean(facts.get("wgnet_reslice", reslice), strict=False))


def wg_fleet_hosts(hosts, hostvars, reslice=False):
    return [_fleet_entry(host, hostvars[host], reslice) for host in hosts]


def wg_hub_pubkey(seed, additional, address, private_key=""):
    return _filter_error(lambda: rolecalc.hub_public_key(seed, additional, address, private_key))


def wg_address_plan(read, options):
    return _filter_error(lambda: rolecalc.address_plan(read, options))


def wg_attach_interfaces(allocation, keys, selected, settings):
    return _filter_error(lambda: rolecalc.attach_interfaces(allocation, keys, selected, settings, Display().warning))


def wg_ha_enabled(hubs, switch=""):
    return _filter_error(lambda: rolecalc.ha_enabled(switch, list(hubs)))


def wg_hub_endpoints(hosts, hostvars, pool, base):
    return _filter_error(lambda: rolecalc.hub_endpoints(list(hosts), pool, base, lambda host: hostvars[host]))


def wg_vrrp_instance(hubs, host, hostvars, vrrp, auth_pass=""):
    return _filter_error(lambda: rolecalc.vrrp_instance(list(hubs), host, vrrp, auth_pass, lambda h: hostvars[h]))


def wg_python_missing(libs, found):
    return rolecalc.python_missing(libs, found)


def wg_python_sources(candidates, packages, version_pattern):
    return rolecalc.python_sources(candidates, packages, version_pattern)


class FilterModule(object):
    def filters(self):
        return {
            "wg_select_containers": wg_select_containers,
            "wg_docker_host_slice": wg_docker_host_slice,
            "wg_fleet_hosts": wg_fleet_hosts,
            "wg_hub_pubkey": wg_hub_pubkey,
            "wg_address_plan": wg_address_plan,
            "wg_attach_interfaces": wg_attach_interfaces,
            "wg_ha_enabled": wg_ha_enabled,
            "wg_hub_endpoints": wg_hub_endpoints,
            "wg_vrrp_instance": wg_vrrp_instance,
            "wg_python_missing": wg_python_missing,
            "wg_python_sources": wg_python_sources,
        }
