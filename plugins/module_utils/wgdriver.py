# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A libnetwork remote network driver: Docker containers whose only network is a WireGuard tunnel.

``docker network create -d wgnet --subnet <slice> -o hub=<name> NET`` and
``docker run --network NET`` give a container one interface, wg0, with the
key of the address Docker's IPAM assigned. Join creates the interface on the
host (its UDP socket stays there) and Docker moves it into the container;
Leave and DeleteEndpoint remove it and its process. The keys come from a
0600 file the network_driver role writes; the seed never reaches the host.

The interface itself is made by wgiface.reconcile, as for wg_container_iface.
Run as ``python -m ansible_collections.wgnet.containers.plugins.module_utils.wgdriver``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import ipaddress
import json
import os
import re
import signal
import socketserver
import stat
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler

from ansible_collections.wgnet.containers.plugins.module_utils import wgdevice, wgiface
from ansible_collections.wgnet.containers.plugins.module_utils.fileio import write_json
from ansible_collections.wgnet.containers.plugins.module_utils.netns import (
    HAS_PYROUTE2,
    MAX_IFNAME,
    Namespace,
    NetlinkError,
)
from ansible_collections.wgnet.containers.plugins.module_utils.targets import host_target
from ansible_collections.wgnet.containers.plugins.module_utils.wgalloc import ALLOCATIONS_PATH, DRIVER_OWNER, Allocations
from ansible_collections.wgnet.containers.plugins.module_utils.wgconfig import plan_device
from ansible_collections.wgnet.containers.plugins.module_utils.wgfleet import Slice, owner_refusal
from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import WgnetError, crypto_available, parse_address
from ansible_collections.wgnet.containers.plugins.module_utils.wgpool import paired_addresses

try:
    import docker
    import docker.errors
except ImportError:  # the install role installs it; without it the driver does not start (missing_libraries)
    docker = None

PLUGIN_NAME = "wgnet"
SOCKET_PATH = "/run/docker/plugins/%s.sock" % PLUGIN_NAME
CONFIG_PATH = "/etc/wgnet/driver.json"
STATE_PATH = "/var/lib/wgnet/driver/state.json"
CONTENT_TYPE = "application/vnd.docker.plugins.v1+json"
GENERIC = "com.docker.network.generic"
NETWORK_OPTIONS = ("hub", "mtu", "dns")
# The host-side name of an endpoint's interface, before Docker moves it and names it wg<N>.
HOST_PREFIX = "wgd"
DNS_WAIT = 10.0
REQUEST_TIMEOUT = 10.0
MAX_REQUEST = 1 << 20  # Docker's requests are a few kilobytes
DOCKER_ID = re.compile(r"\A[0-9A-Za-z]{1,64}\Z")


class DriverError(WgnetError):
    """A refusal Docker shows to the user as it is: it names the option or the object at fault."""


# Files --------------------------------------------------------------------------

def read_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError):
        raise DriverError("cannot read %s; run the wgnet.containers.network_driver role" % path)
    except ValueError:
        raise DriverError("%s is not valid JSON; fix or remove it" % path)


def read_config(path):
    """The role's file: this host's slice, its hubs and the private key of every address of the slice."""
    try:
        info = os.stat(path)
    except OSError:
        raise DriverError("cannot read %s; run the wgnet.containers.network_driver role" % path)
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DriverError("%s holds private keys and is accessible to group or others (mode %04o); chmod 600 it"
                          % (path, stat.S_IMODE(info.st_mode)))
    config = read_json(path)
    for field in ("slice", "hubs", "keys"):
        if field not in config:
            raise DriverError("%s has no %r; run the wgnet.containers.network_driver role" % (path, field))
    return config


# Options ------------------------------------------------------------------------

def find_hub(config, value):
    """A hub by its name in the config, or by its endpoint."""
    hubs = config["hubs"]
    if value in hubs:
        return value
    for name in sorted(hubs):
        if hubs[name].get("endpoint") == value:
            return name
    raise DriverError("hub: %r is neither the name nor the endpoint of a hub this host knows (%s)"
                      % (value, ", ".join(sorted(hubs)) or "none"))


def parse_mtu(value):
    try:
        mtu = int(value)
    except ValueError:
        raise DriverError("mtu: %r is not a number" % value)
    if not wgiface.MIN_MTU <= mtu <= wgiface.MAX_MTU:
        raise DriverError("mtu: %d is out of range (%d to %d)" % (mtu, wgiface.MIN_MTU, wgiface.MAX_MTU))
    return mtu


def parse_dns(value):
    servers = [s.strip() for s in value.split(",") if s.strip()]
    for server in servers:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise DriverError("dns: %r is not an IP address (give a comma-separated list)" % server)
    return servers


def network_pools(request, key, option):
    """The subnets of one family of a CreateNetwork request."""
    pools = []
    for data in request.get(key) or []:
        try:
            pools.append(str(ipaddress.ip_network(data["Pool"])))
        except (KeyError, ValueError):
            raise DriverError("%s: %r is not a subnet" % (option, data.get("Pool")))
    return pools


def network_from_request(config, request):
    """Check a CreateNetwork request against the config; the network as the driver records it."""
    options = (request.get("Options") or {}).get(GENERIC) or {}
    unknown = sorted(set(options) - set(NETWORK_OPTIONS))
    if unknown:
        raise DriverError("%s: unknown option (the wgnet driver takes %s)"
                          % (", ".join(unknown), ", ".join(NETWORK_OPTIONS)))
    if not options.get("hub"):
        raise DriverError("hub: missing; give -o hub=<hub name or endpoint>")
    subnets = network_pools(request, "IPv4Data", "subnet")
    own_slice = ipaddress.ip_network(config["slice"])
    if not subnets:
        raise DriverError("subnet: missing; give --subnet within this host's slice %s" % own_slice)
    for subnet in subnets:
        if not ipaddress.ip_network(subnet).subnet_of(own_slice):
            raise DriverError("subnet: %s is not inside this host's slice %s; give --subnet within it"
                              % (subnet, own_slice))
    return {
        "hub": find_hub(config, options["hub"]),
        "mtu": parse_mtu(options.get("mtu", "1420")),
        "dns": parse_dns(options.get("dns", "")),
        "subnets": subnets,
        "subnets6": network_pools(request, "IPv6Data", "ipv6 subnet"),
    }


# Endpoints ----------------------------------------------------------------------

def check_ids(request):
    """Docker's IDs are letters and digits; they name records and interfaces, so nothing else gets in."""
    for key in ("NetworkID", "EndpointID"):
        value = request.get(key) if isinstance(request, dict) else None
        if value is not None and not (isinstance(value, str) and DOCKER_ID.match(value)):
            raise DriverError("%s: %r is not a Docker ID (1 to 64 letters and digits)" % (key, value))


def host_name(endpoint_id):
    return (HOST_PREFIX + endpoint_id)[:MAX_IFNAME]


def interface_spec(config, network, endpoint):
    """The interface of an endpoint in wgiface's terms: key, hub peer and MTU; Docker adds the addresses."""
    hub = config["hubs"][network["hub"]]
    spec = dict((name, option.get("default")) for name, option in wgiface.interface_options().items())
    spec.update({
        "name": endpoint["host_name"],
        "private_key": config["keys"][endpoint["address"]],
        "mtu": network["mtu"],
        "default_route": False,  # Docker sets the routes, from Join's StaticRoutes
        "backend": config.get("backend", "auto"),
        "userspace_binary": config.get("userspace_binary", "wireguard-go"),
        "peers": [{"public_key": hub["public_key"], "endpoint": hub.get("endpoint"),
                   "allowed_ips": hub.get("allowed_ips", []),
                   "persistent_keepalive": hub.get("persistent_keepalive", 25), "preshared_key": None}],
    })
    return spec


def check_ipv6(config, address, given):
    """Docker's IPAM picks the IPv6 address; the hub accepts only the one paired with the IPv4 address."""
    pools = config.get("pools") or []
    if len(pools) < 2:
        raise DriverError("ipv6: the pool of this host (wgnet_pool) has no IPv6 network, so the hub would drop the "
                          "container's IPv6 traffic; create the network without --ipv6")
    expected = paired_addresses(address, pools, host_routes=True)[1].split("/")[0]
    if str(parse_address(given)) != expected:
        raise DriverError("ipv6: Docker gave %s, but the IPv6 address paired with %s is %s; give the network the "
                          "IPv6 subnet at the same offsets as its IPv4 subnet, or docker run --ip6 %s"
                          % (parse_address(given), address, expected, expected))


def remove_device(name):
    """Stop an endpoint's wireguard-go, or delete its kernel link, wherever the interface is now.

    Docker moves the interface back to the host on Leave; without this, it would stay
    there holding its key.
    """
    ns = Namespace("/proc/self/ns/net")
    try:
        device = wgdevice.UserspaceBackend("wireguard-go").find(ns, wgdevice.HOST_TARGET_ID, name)
        if device is not None:
            wgdevice.UserspaceBackend.delete(ns, device, name)
            return
        link = ns.link(name)
        if link is not None and link["kind"] == "wireguard":
            ns.delete_link(link["index"])
    finally:
        ns.close()


# Docker's embedded resolver (127.0.0.11) sends a query on from the host's namespace, outside the
# tunnel, when the upstream is a loopback resolver of the host's resolv.conf (systemd-resolved's
# 127.0.0.53, say; moby libnetwork resolver.go, HostLoopback), and on Docker 26 also an IPv6 one when
# the network has none. So without -o dns a container gets no resolver at all, rather than that one.
NO_RESOLVER = ("# Managed by wgnet.containers: no resolver. Docker's own (127.0.0.11) may send queries on from the\n"
               "# host's network, outside the tunnel. Create the network with -o dns=IP, a resolver reached\n"
               "# through the tunnel.\n")


# Rotation ------------------------------------------------------------------------

class Rekey:
    """One joined endpoint's device, read and decided on: what the new key file changes on it."""

    def __init__(self, endpoint_id, device, namespaces, fields, peer_ops):
        self.endpoint_id, self.device, self.namespaces = endpoint_id, device, namespaces
        self.fields, self.peer_ops = fields, peer_ops


def endpoint_device(endpoint, host_ns):
    """The live device of a joined endpoint, and the namespace to close after: wireguard-go's is found
    by its record on the host; a kernel link is in the container, the only WireGuard link there."""
    device = wgdevice.UserspaceBackend("wireguard-go").find(host_ns, wgdevice.HOST_TARGET_ID, endpoint["host_name"])
    if device is not None:
        return device, None
    ns = Namespace(endpoint["sandbox"])
    for link in ns.links():
        if link["kind"] == "wireguard":
            return wgdevice.KernelBackend.find(ns, link["name"]), ns
    ns.close()
    return None, None


def plan_rekey(config, state):
    """Read every joined endpoint's device and decide what ``config`` changes on it; nothing is changed."""
    host_ns = Namespace("/proc/self/ns/net")
    plans = []
    try:
        for endpoint_id, endpoint in sorted(state["endpoints"].items()):
            if not endpoint.get("sandbox"):
                continue  # not joined: its next Join reads the new file
            network = state["networks"][endpoint["network"]]
            if endpoint["address"] not in config["keys"]:
                raise DriverError("the new key file has no key for %s, the address of endpoint %s"
                                  % (endpoint["address"], endpoint_id[:12]))
            desired = wgiface.desired_state(interface_spec(config, network, endpoint))["device"]
            device, ns = endpoint_device(endpoint, host_ns)
            if device is None:
                continue  # its container stopped meanwhile
            fields, peer_ops = plan_device(device.get()[0], desired)
            plans.append(Rekey(endpoint_id, device, ns, fields, peer_ops))
    except BaseException:
        close_rekey(plans)
        raise
    finally:
        host_ns.close()
    return plans


def close_rekey(plans):
    for plan in plans:
        if plan.namespaces is not None:
            plan.namespaces.close()


def rekey(config_path, next_path, state_path, signal_path, timeout):
    """Switch every joined endpoint to the keys of ``next_path``, at a rotation's signal.

    Everything is read and decided first, then the signal is awaited (without the host lock: a
    container start needs it). On "switch", ``next_path`` becomes the key file, so that any later
    Join uses the new keys, and every endpoint's device changes in one loop. Returns the number of
    endpoints changed. Without ``signal_path``, only says how many would change.
    """
    plans = plan_rekey(read_config(next_path), read_json(state_path) if os.path.exists(state_path)
                       else {"networks": {}, "endpoints": {}})
    try:
        changing = [p for p in plans if p.fields or p.peer_ops]
        if signal_path is None:
            return len(changing)
        try:
            wgiface.wait_for_signal(signal_path, timeout)
        except WgnetError:
            os.unlink(next_path)  # aborted: the current key file stays the one
            raise
        host = wgiface.Host(check_mode=False)
        failed = []
        try:
            host.lock()
            os.rename(next_path, config_path)
            for plan in changing:
                try:  # the hub has switched: one endpoint's failure must not hold back the others
                    plan.device.apply(plan.fields, plan.peer_ops)
                except (WgnetError, NetlinkError) as exc:
                    failed.append("endpoint %s: %s" % (plan.endpoint_id[:12], exc))
        finally:
            host.close()
        if failed:
            raise DriverError("%d of %d endpoints did not switch (run the rotation again): %s"
                              % (len(failed), len(changing), "; ".join(failed)))
        return len(changing)
    finally:
        close_rekey(plans)


def write_container_dns(sandbox, servers):
    """Point the container of ``sandbox`` at ``servers`` (none: no resolver), once Docker has written its
    resolv.conf.

    Docker writes the file after Join and has no field for it in the reply, so
    this waits for the container to run. Its resolvers are then reached through wg0.
    """
    if docker is None:
        sys.stderr.write("dns: the Docker SDK for Python is missing; resolv.conf left as Docker wrote it\n")
        return
    client = docker.APIClient()
    deadline = time.time() + DNS_WAIT
    try:
        while time.time() < deadline:
            for container in client.containers(filters={"status": "running"}):
                attrs = client.inspect_container(container["Id"])
                if attrs["NetworkSettings"].get("SandboxKey") == sandbox and attrs.get("ResolvConfPath"):
                    content = wgiface.render_resolv_conf(servers) if servers else NO_RESOLVER
                    wgiface.write_dns(attrs["ResolvConfPath"], content)
                    return
            time.sleep(0.1)
    except docker.errors.DockerException as exc:
        sys.stderr.write("dns: cannot reach the Docker daemon (%s)\n" % exc)
    finally:
        client.close()


# The driver ---------------------------------------------------------------------

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
    except DriverError as exc:
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
            raise DriverError("network %s is unknown to the driver; recreate it" % network_id[:12])
        interface = request.get("Interface") or {}
        if not interface.get("Address"):
            raise DriverError("address: Docker assigned no IPv4 address; give the network a --subnet")
        address = str(parse_address(interface["Address"]))
        config = read_config(self.config_path)
        if address not in config["keys"]:
            raise DriverError("address: %s has no key in %s (the role derives the keys of the slice %s)"
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
            raise DriverError("address: %s; give this network an --ip-range or --aux-address that avoids it" % refusal)
        owner = DRIVER_OWNER + endpoint_id
        with Allocations(self.allocations_path) as allocations:
            record = allocations.read()
            owners = {parse_address(a): name for name, a in record["allocations"].items()}
            refusal = owner_refusal(parse_address(address), owner, owners)
            if refusal:
                raise DriverError("address: %s; give this network an --ip-range that avoids it" % refusal)
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
            raise DriverError("endpoint %s is unknown to the driver" % request["EndpointID"][:12])
        network = self.state["networks"][endpoint["network"]]
        spec = interface_spec(read_config(self.config_path), network, endpoint)
        host = wgiface.Host(check_mode=False)
        try:
            host.lock()  # the modules' lock: an attach run and a container start do not interleave
            wgiface.reconcile(host, spec, target=host_target())
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


# The server ---------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Seconds a client may take to send its request: a stalled one must not hold a thread forever.
    timeout = REQUEST_TIMEOUT

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= MAX_REQUEST:
                raise ValueError("Content-Length %d is not between 0 and %d" % (length, MAX_REQUEST))
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                raise ValueError("the body ended after %d of %d bytes" % (len(body), length))
            request = json.loads(body.decode("utf-8")) if body.strip() else {}
            if not isinstance(request, dict):
                raise ValueError("the request body is not a JSON object")
        except ValueError as exc:
            reply = {"Err": "wgnet: bad request (%s)" % exc}
        else:
            reply = self.server.driver.call(self.path.lstrip("/"), request)
        data = json.dumps(reply).encode("utf-8")
        self.send_response(200)  # failures travel as {"Err"}: Docker shows them as they are
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def address_string(self):
        return "docker"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), fmt % args))


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path, driver):
        if os.path.exists(path):
            os.unlink(path)  # left by a driver that did not stop cleanly
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        socketserver.UnixStreamServer.__init__(self, path, Handler)
        os.chmod(path, 0o660)
        self.driver = driver


def missing_libraries():
    """What this interpreter lacks of what Join needs, as one message, or None."""
    missing = [name for name, present in (("pyroute2 >= 0.9", HAS_PYROUTE2),
                                          ("cryptography or pycryptodome >= 3.21", crypto_available()),
                                          ("docker (the Docker SDK)", docker is not None)) if not present]
    if not missing:
        return None
    return ("the Python libraries %s are missing for %s; run the install role and give the driver the interpreter "
            "it records (wgnet_python)" % (", ".join(missing), sys.executable))


def stop(signum, frame):
    """SIGTERM ends serve_forever as Ctrl-C does, so that the socket file is removed."""
    raise KeyboardInterrupt()


def main(argv=None):
    parser = argparse.ArgumentParser(description="wgnet libnetwork remote network driver")
    parser.add_argument("--socket", default=SOCKET_PATH)
    parser.add_argument("--config", default=CONFIG_PATH)
    parser.add_argument("--state", default=STATE_PATH)
    parser.add_argument("--allocations", default=ALLOCATIONS_PATH)
    parser.add_argument("--check", action="store_true", help="check the libraries, print what is missing, exit")
    parser.add_argument("--rekey", metavar="NEW_CONFIG",
                        help="a rotation: switch every joined endpoint to this key file's keys at --switch-signal, "
                             "and make it the key file; without --switch-signal, say how many would change")
    parser.add_argument("--switch-signal", metavar="PATH")
    parser.add_argument("--switch-timeout", type=int, default=300)
    args = parser.parse_args(argv)
    missing = missing_libraries()
    if missing:
        # Never serve Docker without them: every Join would fail on an unexpected error.
        raise SystemExit("wgnet driver: cannot start: %s" % missing)
    if args.check:
        sys.stdout.write("wgnet driver: %s has every library the driver needs\n" % sys.executable)
        return
    if args.rekey:
        try:
            count = rekey(args.config, args.rekey, args.state, args.switch_signal, args.switch_timeout)
        except (WgnetError, NetlinkError, OSError) as exc:
            raise SystemExit("wgnet driver: rekey: %s" % exc)
        sys.stdout.write(json.dumps({"changed": count > 0, "endpoints": count}) + "\n")
        return
    os.umask(0o077)
    signal.signal(signal.SIGTERM, stop)
    plugin = os.path.splitext(os.path.basename(args.socket))[0]  # Docker names the driver after its socket
    server = Server(args.socket, Driver(args.config, args.state, args.allocations, plugin))
    sys.stderr.write("wgnet driver listening on %s\n" % args.socket)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        os.unlink(args.socket)


if __name__ == "__main__":
    main()
