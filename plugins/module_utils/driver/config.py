# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The driver's inputs, checked: the role's key file, Docker's requests and their options.

Every refusal is a WgnetError that Docker shows to the user as it is, naming the option or the
object at fault.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os
import re
import stat

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.engine.spec import MAX_MTU, MIN_MTU, Wanted, desired_state
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import b64, decode_key, parse_address
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import paired_addresses
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import MAX_IFNAME

CONFIG_PATH = "/etc/wgnet/driver.json"
GENERIC = "com.docker.network.generic"
NETWORK_OPTIONS = ("hub", "mtu", "dns")
# The host-side name of an endpoint's interface, before Docker moves it and names it wg<N>.
HOST_PREFIX = "wgd"
DOCKER_ID = re.compile(r"\A[0-9A-Za-z]{1,64}\Z")


def read_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError):
        raise WgnetError("cannot read %s; run the wgnet.containers.network_driver role" % path)
    except ValueError:
        raise WgnetError("%s is not valid JSON; fix or remove it" % path)


def read_config(path):
    """The role's file: this host's slice, its hubs and the private key of every address of the slice."""
    try:
        info = os.stat(path)
    except OSError:
        raise WgnetError("cannot read %s; run the wgnet.containers.network_driver role" % path)
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise WgnetError("%s holds private keys and is accessible to group or others (mode %04o); chmod 600 it"
                         % (path, stat.S_IMODE(info.st_mode)))
    config = read_json(path)
    for field in ("slice", "hubs", "keys"):
        if field not in config:
            raise WgnetError("%s has no %r; run the wgnet.containers.network_driver role" % (path, field))
    return config


def find_hub(config, value):
    """A hub by its name in the config, or by its endpoint."""
    hubs = config["hubs"]
    if value in hubs:
        return value
    for name in sorted(hubs):
        if hubs[name].get("endpoint") == value:
            return name
    raise WgnetError("hub: %r is neither the name nor the endpoint of a hub this host knows (%s)"
                     % (value, ", ".join(sorted(hubs)) or "none"))


def parse_mtu(value):
    try:
        mtu = int(value)
    except ValueError:
        raise WgnetError("mtu: %r is not a number" % value)
    if not MIN_MTU <= mtu <= MAX_MTU:
        raise WgnetError("mtu: %d is out of range (%d to %d)" % (mtu, MIN_MTU, MAX_MTU))
    return mtu


def parse_dns(value):
    servers = [s.strip() for s in value.split(",") if s.strip()]
    for server in servers:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise WgnetError("dns: %r is not an IP address (give a comma-separated list)" % server)
    return servers


def network_pools(request, key, option):
    """The subnets of one family of a CreateNetwork request."""
    pools = []
    for data in request.get(key) or []:
        try:
            pools.append(str(ipaddress.ip_network(data["Pool"])))
        except (KeyError, ValueError):
            raise WgnetError("%s: %r is not a subnet" % (option, data.get("Pool")))
    return pools


def network_from_request(config, request):
    """Check a CreateNetwork request against the config; the network as the driver records it."""
    options = (request.get("Options") or {}).get(GENERIC) or {}
    unknown = sorted(set(options) - set(NETWORK_OPTIONS))
    if unknown:
        raise WgnetError("%s: unknown option (the wgnet driver takes %s)"
                         % (", ".join(unknown), ", ".join(NETWORK_OPTIONS)))
    if not options.get("hub"):
        raise WgnetError("hub: missing; give -o hub=<hub name or endpoint>")
    subnets = network_pools(request, "IPv4Data", "subnet")
    own_slice = ipaddress.ip_network(config["slice"])
    if not subnets:
        raise WgnetError("subnet: missing; give --subnet within this host's slice %s" % own_slice)
    for subnet in subnets:
        if not ipaddress.ip_network(subnet).subnet_of(own_slice):
            raise WgnetError("subnet: %s is not inside this host's slice %s; give --subnet within it"
                             % (subnet, own_slice))
    return {
        "hub": find_hub(config, options["hub"]),
        "mtu": parse_mtu(options.get("mtu", "1420")),
        "dns": parse_dns(options.get("dns", "")),
        "subnets": subnets,
        "subnets6": network_pools(request, "IPv6Data", "ipv6 subnet"),
    }


def check_ids(request):
    """Docker's IDs are letters and digits; they name records and interfaces, so nothing else gets in."""
    for key in ("NetworkID", "EndpointID"):
        value = request.get(key) if isinstance(request, dict) else None
        if value is not None and not (isinstance(value, str) and DOCKER_ID.match(value)):
            raise WgnetError("%s: %r is not a Docker ID (1 to 64 letters and digits)" % (key, value))


def host_name(endpoint_id):
    return (HOST_PREFIX + endpoint_id)[:MAX_IFNAME]


def endpoint_wanted(config, network, endpoint):
    """An endpoint's interface for the engine: key, hub peer and MTU; Docker adds the addresses and routes."""
    hub = config["hubs"][network["hub"]]
    peer = {"public_key": hub["public_key"], "endpoint": hub.get("endpoint"), "allowed_ips": hub.get("allowed_ips", []),
            "persistent_keepalive": hub.get("persistent_keepalive", 25), "preshared_key": None}
    private = b64(decode_key(config["keys"][endpoint["address"]], "private_key"))  # as the device reports it
    desired = desired_state(private, [peer], mtu=network["mtu"], default_route=False)
    return Wanted(endpoint["host_name"], desired, backend=config.get("backend", "auto"),
                  userspace_binary=config.get("userspace_binary", "wireguard-go"))


def check_ipv6(config, address, given):
    """Docker's IPAM picks the IPv6 address; the hub accepts only the one paired with the IPv4 address."""
    pools = config.get("pools") or []
    if len(pools) < 2:
        raise WgnetError("ipv6: the pool of this host (wgnet_pool) has no IPv6 network, so the hub would drop the "
                         "container's IPv6 traffic; create the network without --ipv6")
    expected = paired_addresses(address, pools, host_routes=True)[1].split("/")[0]
    if str(parse_address(given)) != expected:
        raise WgnetError("ipv6: Docker gave %s, but the IPv6 address paired with %s is %s; give the network the "
                         "IPv6 subnet at the same offsets as its IPv4 subnet, or docker run --ip6 %s"
                         % (parse_address(given), address, expected, expected))
