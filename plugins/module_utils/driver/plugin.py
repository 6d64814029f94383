# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libnetwork remote driver's calls: networks, endpoints, Join and Leave.

Join makes the endpoint's interface with the engine, as wg_container_iface does, on the host (its
UDP socket stays there), and Docker moves it into the container; Leave and DeleteEndpoint remove it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import threading
import time
import traceback

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.common.fileio import write_json
from ansible_collections.wgnet.containers.plugins.module_utils.driver.config import (
    CONFIG_PATH,
    GENERIC,
    check_ids,
    check_ipv6,
    endpoint_wanted,
    host_name,
    network_from_request,
    read_config,
)
from ansible_collections.wgnet.containers.plugins.module_utils.driver.devices import docker, remove_device, write_container_dns
from ansible_collections.wgnet.containers.plugins.module_utils.engine.host import Host
from ansible_collections.wgnet.containers.plugins.module_utils.engine.interface import reconcile
from ansible_collections.wgnet.containers.plugins.module_utils.keys.alloc import ALLOCATIONS_PATH, DRIVER_OWNER, Allocations
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import parse_address
from ansible_collections.wgnet.containers.plugins.module_utils.keys.fleet import Slice, owner_refusal
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import NetlinkError
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.targets import host_target

PLUGIN_NAME = "wgnet"
STATE_PATH = "/var/lib/wgnet/driver/state.json"


def state_from_docker(plugin, config):
    """The driver's state as Docker sees it: its networks, and the endpoints of running containers."""
    state = {"networks": {}, "endpoints": {}}
    if docker is None:
        sys.stderr.write("wgnet driver: the Docker SDK for Python is missing; starting with no state\n")
        return state
    try:
        client = docker.from_env()
        try:
            for summary in client.api.networks(filters={"driver": plugin}):
                add_network_from_docker(state, client, config, client.api.inspect_network(summary["Id"]))
        finally:
            client.close()
    except docker.errors.DockerException as exc:
        sys.stderr.write("wgnet driver: cannot read Docker's networks (%s); starting with what was read\n" % exc)
    return state


def add_network_from_docker(state, client, config, info):
    pools = [c for c in (info.get("IPAM") or {}).get("Config") or [] if c.get("Subnet")]
    request = {"NetworkID": info["Id"], "Options": {GENERIC: info.get("Options") or {}},
               "IPv4Data": [{"Pool": c["Subnet"]} for c in pools if ":" not in c["Subnet"]],
               "IPv6Data": [{"Pool": c["Subnet"]} for c in pools if ":" in c["Subnet"]]}
    try:
        state["networks"][info["Id"]] = network_from_request(config, request)
    except WgnetError as exc:
        sys.stderr.write("wgnet driver: network %s left out (%s)\n" % (info.get("Name"), exc))
        return
    for container_id, endpoint in (info.get("Containers") or {}).items():
        sandbox = client.api.inspect_container(container_id)["NetworkSettings"]["SandboxKey"]
        state["endpoints"][endpoint["EndpointID"]] = {
            "network": info["Id"], "address": endpoint["IPv4Address"].split("/")[0],
            "host_name": host_name(endpoint["EndpointID"]), "sandbox": sandbox or None}


class Driver:
    """The libnetwork calls. Every call that changes something runs under one lock: parallel
    container starts come in as parallel calls."""

    def __init__(self, config_path=CONFIG_PATH, state_path=STATE_PATH, allocations_path=ALLOCATIONS_PATH,
                 plugin=PLUGIN_NAME):
        self.config_path = config_path
        self.state_path = state_path
        self.allocations_path = allocations_path
        self.plugin = plugin
        self.lock = threading.Lock()
        self.state = self.load_state()

    def load_state(self):
        """The state file; a broken one is set aside and the state rebuilt from Docker's view.

        Without this a corrupt file would stop the driver at every start, and with it every
        container on a wgnet network.
        """
        try:
            with open(self.state_path) as handle:
                state = json.load(handle)
        except (IOError, OSError):
            return {"networks": {}, "endpoints": {}}
        except ValueError:
            state = None
        if isinstance(state, dict) and all(isinstance(state.get(k), dict) for k in ("networks", "endpoints")):
            return state
        aside = "%s.corrupt-%s" % (self.state_path, time.strftime("%Y%m%dT%H%M%S"))
        os.rename(self.state_path, aside)
        state = state_from_docker(self.plugin, read_config(self.config_path))
        sys.stderr.write("wgnet driver: %s was not a driver state; set aside as %s, and rebuilt from Docker: "
                         "%d networks, %d endpoints\n" % (self.state_path, aside, len(state["networks"]),
                                                          len(state["endpoints"])))
        write_json(self.state_path, state)
        return state

    def save(self):
        write_json(self.state_path, self.state)

    def call(self, method, request):
        """The reply to one call: a dict, with "Err" naming the problem on any failure."""
        api, _sep, name = method.partition(".")
        handler = getattr(self, "%s_%s" % (api, name), None) if api in ("Plugin", "NetworkDriver") else None
        if handler is None:
            return {"Err": "wgnet: %s is not supported by the wgnet driver" % method}
        try:
            check_ids(request)
            with self.lock:
                return handler(request)
        except (WgnetError, NetlinkError, OSError) as exc:
            return {"Err": "wgnet: %s" % exc}
        except Exception as exc:  # a request of an unexpected shape: still an answer, never a dropped call
            traceback.print_exc()
            return {"Err": "wgnet: %s failed on an unexpected request (%s: %s)" % (method, type(exc).__name__, exc)}

    # Plugin and capabilities ---------------------------------------------------

    def Plugin_Activate(self, request):
        return {"Implements": ["NetworkDriver"]}

    def NetworkDriver_GetCapabilities(self, request):
        return {"Scope": "local", "ConnectivityScope": "local"}

    # Networks ------------------------------------------------------------------

    def NetworkDriver_CreateNetwork(self, request):
        network = network_from_request(read_config(self.config_path), request)
        self.state["networks"][request["NetworkID"]] = network
        self.save()
        return {}

    def NetworkDriver_DeleteNetwork(self, request):
        if self.state["networks"].pop(request["NetworkID"], None) is not None:
            self.save()
        return {}

    # Endpoints -----------------------------------------------------------------

    def NetworkDriver_CreateEndpoint(self, request):
        network_id, endpoint_id = request["NetworkID"], request["EndpointID"]
        network = self.state["networks"].get(network_id)
        if network is None:
            raise WgnetError("network %s is unknown to the driver; recreate it" % network_id[:12])
        interface = request.get("Interface") or {}
        if not interface.get("Address"):
            raise WgnetError("address: Docker assigned no IPv4 address; give the network a --subnet")
        address = str(parse_address(interface["Address"]))
        config = read_config(self.config_path)
        if address not in config["keys"]:
            raise WgnetError("address: %s has no key in %s (the role derives the keys of the slice %s)"
                             % (address, self.config_path, config["slice"]))
        if interface.get("AddressIPv6"):
            check_ipv6(config, address, interface["AddressIPv6"])
        self.reserve(endpoint_id, address, config)
        self.state["endpoints"][endpoint_id] = {
            "network": network_id, "address": address, "host_name": host_name(endpoint_id), "sandbox": None,
        }
        self.save()
        return {"Interface": {}}

    def reserve(self, endpoint_id, address, config):
        """Record the address in the file the attach role uses, by wgfleet's rule: never a hub's address,
        never one that a container of the attach role or another endpoint holds."""
        hubs = [h["address"] for h in config["hubs"].values() if h.get("address")]
        refusal = Slice(config["slice"], exclude=hubs).refusal(parse_address(address))
        if refusal:
            raise WgnetError("address: %s; give this network an --ip-range or --aux-address that avoids it" % refusal)
        owner = DRIVER_OWNER + endpoint_id
        with Allocations(self.allocations_path) as allocations:
            record = allocations.read()
            owners = {parse_address(a): name for name, a in record["allocations"].items()}
            refusal = owner_refusal(parse_address(address), owner, owners)
            if refusal:
                raise WgnetError("address: %s; give this network an --ip-range that avoids it" % refusal)
            record["allocations"][owner] = address
            # The slice the addresses were given from: a later run of either role refuses to move it.
            record.setdefault("slice", str(Slice(config["slice"]).network))
            allocations.write(record)

    def release(self, endpoint_id):
        with Allocations(self.allocations_path) as allocations:
            record = allocations.read()
            if record["allocations"].pop(DRIVER_OWNER + endpoint_id, None) is not None:
                allocations.write(record)

    def NetworkDriver_DeleteEndpoint(self, request):
        endpoint = self.state["endpoints"].pop(request["EndpointID"], None)
        if endpoint is not None:
            remove_device(endpoint["host_name"])
            self.release(request["EndpointID"])
            self.save()
        return {}

    def NetworkDriver_EndpointOperInfo(self, request):
        endpoint = self.state["endpoints"].get(request["EndpointID"]) or {}
        return {"Value": {"address": endpoint.get("address"), "host_name": endpoint.get("host_name")}}

    # Join and Leave ------------------------------------------------------------

    def NetworkDriver_Join(self, request):
        endpoint = self.state["endpoints"].get(request["EndpointID"])
        if endpoint is None:
            raise WgnetError("endpoint %s is unknown to the driver" % request["EndpointID"][:12])
        network = self.state["networks"][endpoint["network"]]
        wanted = endpoint_wanted(read_config(self.config_path), network, endpoint)
        host = Host(check_mode=False)
        try:
            host.lock()  # the modules' lock: an attach run and a container start do not interleave
            reconcile(host, wanted, host_target())
        finally:
            host.close()
        endpoint["sandbox"] = request.get("SandboxKey")
        self.save()
        threading.Thread(target=write_container_dns, args=(endpoint["sandbox"], network["dns"]), daemon=True).start()
        routes = [{"Destination": "0.0.0.0/0", "RouteType": 1}]
        if network["subnets6"]:
            routes.append({"Destination": "::/0", "RouteType": 1})
        return {
            "InterfaceName": {"SrcName": endpoint["host_name"], "DstPrefix": "wg"},
            "DisableGatewayService": True,
            "StaticRoutes": routes,
        }

    def NetworkDriver_Leave(self, request):
        endpoint = self.state["endpoints"].get(request["EndpointID"])
        if endpoint is not None:
            remove_device(endpoint["host_name"])
            endpoint["sandbox"] = None
            self.save()
        return {}

    # Calls a local WireGuard network has nothing to do for ---------------------

    def NetworkDriver_DiscoverNew(self, request):
        return {}

    def NetworkDriver_DiscoverDelete(self, request):
        return {}

    def NetworkDriver_ProgramExternalConnectivity(self, request):
        return {}

    def NetworkDriver_RevokeExternalConnectivity(self, request):
        return {}
