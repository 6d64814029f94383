# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WireGuard device configuration: normal form, reconcile plan, secret-free views.

Pure logic shared by both device backends (kernel over generic netlink,
userspace over the UAPI socket). A device configuration is a dict:

    {"private_key": b64 or None, "listen_port": int, "fwmark": int,
     "peers": {public_key_b64: {"endpoint": "ip:port" or None,
                                "allowed_ips": [canonical CIDR, sorted],
                                "persistent_keepalive": int (0 = off),
                                "preshared_key": b64 or None}}}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import socket

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import b64, decode_key, public_from_private

ZERO_KEY = b64(b"\0" * 32)
MAX_PORT = 65535
MAX_KEEPALIVE = 65535


def canonical_cidr(value, option, strict=False):
    """A CIDR in canonical text; a bare address becomes a host route (/32, /128)."""
    if not isinstance(value, str):
        raise WgnetError.about(option, "must be a CIDR string, got %s" % type(value).__name__)
    try:
        network = ipaddress.ip_network(value.strip(), strict=strict)
    except ValueError as exc:
        raise WgnetError.about(option, "%r is not a valid CIDR (%s)" % (value, exc))
    return str(network)


def canonical_interface_address(value, option):
    """An interface address with its prefix (10.0.42.5/24); a bare address gets /32 or /128."""
    if not isinstance(value, str):
        raise WgnetError.about(option, "must be an address in CIDR form, got %s" % type(value).__name__)
    try:
        iface = ipaddress.ip_interface(value.strip())
    except ValueError as exc:
        raise WgnetError.about(option, "%r is not a valid address in CIDR form (%s)" % (value, exc))
    if iface.version == 6 and iface.ip.ipv4_mapped is not None:
        raise WgnetError.about(option, "%r is an IPv4-mapped IPv6 address; use the plain IPv4 form" % value)
    return str(iface)


def resolve_endpoint(value, option, resolver=socket.getaddrinfo):
    """host:port or [v6]:port, with a hostname resolved on this host, as ip:port text."""
    if not isinstance(value, str) or ":" not in value:
        raise WgnetError.about(option, "%r must be host:port or [IPv6]:port" % (value,))
    host, _sep, port_text = value.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise WgnetError.about(option, "%r: write an IPv6 endpoint as [address]:port" % value)
    if not port_text.isdigit() or not 0 < int(port_text) <= MAX_PORT:
        raise WgnetError.about(option, "%r has an invalid port %r (1 to %d)" % (value, port_text, MAX_PORT))
    port = int(port_text)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            infos = resolver(host, port, 0, socket.SOCK_DGRAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise WgnetError.about(option, "cannot resolve host %r on this host (%s)" % (host, exc))
        address = ipaddress.ip_address(infos[0][4][0])
    return format_endpoint(address, port)


def format_endpoint(address, port):
    address = ipaddress.ip_address(address)
    if address.version == 6:
        return "[%s]:%d" % (address, port)
    return "%s:%d" % (address, port)


def normalize_peer(peer, index, resolver=socket.getaddrinfo):
    """Check one peer of the ``peers`` option and return (public_key, normal form)."""
    option = "peers[%d]" % index
    public = peer.get("public_key")
    decode_key(public, option + ".public_key")
    endpoint = peer.get("endpoint")
    keepalive = peer.get("persistent_keepalive") or 0
    if not 0 <= keepalive <= MAX_KEEPALIVE:
        raise WgnetError.about(option + ".persistent_keepalive", "must be 0 to %d seconds, got %d" % (MAX_KEEPALIVE, keepalive))
    preshared = peer.get("preshared_key")
    if preshared:
        decode_key(preshared, option + ".preshared_key")
    allowed = sorted({canonical_cidr(c, "%s.allowed_ips[%d]" % (option, i))
                      for i, c in enumerate(peer.get("allowed_ips") or [])})
    return public, {
        "endpoint": resolve_endpoint(endpoint, option + ".endpoint", resolver) if endpoint else None,
        "allowed_ips": allowed,
        "persistent_keepalive": keepalive,
        "preshared_key": preshared or None,
    }


def normalize_peers(peers, resolver=socket.getaddrinfo, own_public_key=None):
    """Peers in normal form, {public key: peer}. Refused, as they would change something on every run:
    a key listed twice, the interface's own key, and allowed IPs that two peers share (WireGuard
    gives each address to one peer only)."""
    result = {}
    for index, peer in enumerate(peers or []):
        public, normal = normalize_peer(peer, index, resolver)
        if public in result:
            raise WgnetError.about("peers[%d].public_key" % index, "%s is listed twice" % public)
        if public == own_public_key:
            raise WgnetError.about("peers[%d].public_key" % index, "%s is this interface's own public key" % public)
        result[public] = normal
    check_disjoint([(index, cidr) for index, peer in enumerate(result.values()) for cidr in peer["allowed_ips"]])
    return result


def check_disjoint(allowed):
    """Refuse two peers' allowed IPs that overlap; ``allowed`` lists (peer index, CIDR)."""
    networks = sorted(((ipaddress.ip_network(cidr), index) for index, cidr in allowed),
                      key=lambda item: (item[0].version, item[0].network_address, item[0].prefixlen))
    enclosing = []  # networks that hold the current one, widest first
    for network, index in networks:
        while enclosing and not (enclosing[-1][0].version == network.version and network.subnet_of(enclosing[-1][0])):
            enclosing.pop()
        for outer, outer_index in enclosing:
            if outer_index != index:
                raise WgnetError.about("peers[%d].allowed_ips" % index, "%s overlaps %s of peers[%d]; WireGuard routes an "
                                       "address to one peer only" % (network, outer, outer_index))
        enclosing.append((network, index))


def plan_device(actual, desired):
    """What to change on a device: ({field: value}, [peer operations]).

    A peer operation is ("add", key, config), ("update", key, {field: value})
    or ("remove", key, None). Unchanged peers get no operation at all, so
    their sessions and handshakes are left alone. A desired listen_port of 0
    means "whatever the device picked" and is never a change.
    """
    fields = {}
    if actual.get("private_key") != desired["private_key"]:
        fields["private_key"] = desired["private_key"]
    if desired["listen_port"] and actual.get("listen_port") != desired["listen_port"]:
        fields["listen_port"] = desired["listen_port"]
    if (actual.get("fwmark") or 0) != desired["fwmark"]:
        fields["fwmark"] = desired["fwmark"]

    operations = []
    actual_peers = actual.get("peers", {})
    for key in sorted(desired["peers"]):
        wanted = desired["peers"][key]
        current = actual_peers.get(key)
        if current is None:
            operations.append(("add", key, wanted))
            continue
        changes = peer_changes(current, wanted)
        if changes:
            operations.append(("update", key, changes))
    for key in sorted(set(actual_peers) - set(desired["peers"])):
        operations.append(("remove", key, None))
    return fields, operations


def as_desired(config):
    """A device's configuration as it was read, in the form plan_device() takes as desired:
    what puts a device back the way it was."""
    peers = {}
    for key, peer in config.get("peers", {}).items():
        peers[key] = {
            "endpoint": peer.get("endpoint"),
            "allowed_ips": sorted(peer.get("allowed_ips", [])),
            "persistent_keepalive": peer.get("persistent_keepalive") or 0,
            "preshared_key": peer.get("preshared_key") or None,
        }
    return {"private_key": config.get("private_key"), "listen_port": config.get("listen_port") or 0,
            "fwmark": config.get("fwmark") or 0, "peers": peers}


def peer_changes(current, wanted):
    changes = {}
    # An unset endpoint is learned from the peer (roaming): not ours to reset.
    if wanted["endpoint"] and current.get("endpoint") != wanted["endpoint"]:
        changes["endpoint"] = wanted["endpoint"]
    if sorted(current.get("allowed_ips", [])) != wanted["allowed_ips"]:
        changes["allowed_ips"] = wanted["allowed_ips"]
    if (current.get("persistent_keepalive") or 0) != wanted["persistent_keepalive"]:
        changes["persistent_keepalive"] = wanted["persistent_keepalive"]
    if (current.get("preshared_key") or None) != wanted["preshared_key"]:
        changes["preshared_key"] = wanted["preshared_key"] or ZERO_KEY
    return changes


def public_view(config):
    """The configuration as it may be shown: public keys only, secrets as presence."""
    if config is None:
        return None
    private = config.get("private_key")
    peers = []
    for key in sorted(config.get("peers", {})):
        peer = config["peers"][key]
        peers.append({
            "public_key": key,
            "endpoint": peer.get("endpoint"),
            "allowed_ips": sorted(peer.get("allowed_ips", [])),
            "persistent_keepalive": peer.get("persistent_keepalive") or 0,
            "preshared_key": bool(peer.get("preshared_key")),
        })
    return {
        "public_key": b64(public_from_private(decode_key(private, "private_key"))) if private else None,
        "listen_port": config.get("listen_port") or 0,
        "fwmark": config.get("fwmark") or 0,
        "peers": peers,
    }


def describe_plan(fields, operations, listed_peers=None):
    """Human-readable, secret-free lines for the module's ``changes`` result.

    Beyond ``listed_peers`` peer operations of one kind, the rest are summed up in one line:
    a /16 pool is 65,534 peers.
    """
    lines = []
    for field in sorted(fields):
        shown = "(new key)" if field == "private_key" else fields[field]
        lines.append("set %s %s" % (field, shown))
    counts = {}
    for action, key, data in operations:
        counts[action] = counts.get(action, 0) + 1
        if listed_peers is not None and counts[action] > listed_peers:
            continue
        if action == "update":
            lines.append("update peer %s: %s" % (key, ", ".join(sorted(data))))
        else:
            lines.append("%s peer %s" % (action, key))
    for action, count in sorted(counts.items()):
        if listed_peers is not None and count > listed_peers:
            lines.append("%s %d more peers" % (action, count - listed_peers))
    return lines
