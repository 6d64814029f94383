# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The options of one container interface."""

    DOCUMENTATION = r"""
options:
  container:
    description:
      - Name or id of a running Docker container, looked up in the Docker daemon on its local socket.
      - Exactly one of O(container) and O(netns) is required.
      - With O(state=present), a container that does not run with C(--network none) is refused (see
        O(allow_other_interfaces)), and so is one that shares the host's network namespace, always.
    type: str
  netns:
    description:
      - Path of a network namespace instead of a container, such as C(/var/run/netns/NAME) or
        C(/proc/PID/ns/net).
      - With O(state=present), the host's own namespace (the module's, or PID 1's) is always refused, since
        the tunnel's default route would take over the host's. So is a namespace with any interface but
        C(lo), O(name) and the kernel's idle fallback devices (C(tunl0), C(sit0) and the like, down and
        without an address), unless O(allow_other_interfaces) is set.
    type: path
  allow_other_interfaces:
    description:
      - Accept a container or namespace that has other interfaces than the tunnel (a split setup).
      - What it gives up is the collection's main promise. Traffic to anything the tunnel does not route,
        IPv6 included when the peers' O(peers[].allowed_ips) hold no IPv6 network, leaves through those
        other interfaces, unauthenticated and unencrypted; and the namespace can reach what they reach.
      - The host's own namespace is refused even with this option.
    type: bool
    default: false
  name:
    description: Interface name inside the namespace, at most 15 characters.
    type: str
    default: wg0
  address:
    description:
      - Addresses of the interface in CIDR form, IPv4 and/or IPv6. A bare address gets C(/32) or C(/128).
    type: list
    elements: str
    default: []
  private_key:
    description:
      - The interface's base64 private key, 32 bytes. Never logged or returned.
      - Required with O(state=present), unless O(private_key_path) is given.
    type: str
  listen_port:
    description: UDP port on the host. V(0) lets the system pick one, and never counts as a change.
    type: int
    default: 0
  default_route:
    description:
      - Route V(0.0.0.0/0) through the tunnel, and V(::/0) when the interface has an IPv6 address,
        so that the tunnel is the container's only way out. An existing default route is replaced.
    type: bool
    default: true
  routes:
    description: More destinations, in CIDR form, to route through the interface.
    type: list
    elements: str
    default: []
  dns:
    description:
      - Resolvers to write to the container's C(/etc/resolv.conf). Leaves the file alone when empty.
      - With O(netns), only for a named namespace under C(/var/run/netns), whose file is
        C(/etc/netns/NAME/resolv.conf).
    type: list
    elements: str
    default: []
  state:
    description: V(present) makes the interface match; V(absent) removes it and its process.
    type: str
    choices: [present, absent]
    default: present
"""

    # The options of the device itself, shared with wg_hub.
    DEVICE = r"""
options:
  private_key_path:
    description:
      - A file on the host holding the base64 private key. It must not be accessible to group or
        others (mode 0600).
    type: path
  fwmark:
    description: Firewall mark of the tunnel's outgoing packets; V(0) for none.
    type: int
    default: 0
  mtu:
    description: MTU of the interface.
    type: int
    default: 1420
  backend:
    description:
      - V(kernel) uses the WireGuard kernel module; V(userspace) runs C(wireguard-go).
      - V(auto) picks V(kernel) when the host can create a WireGuard link, else V(userspace); it keeps an
        existing interface's backend.
    type: str
    choices: [auto, kernel, userspace]
    default: auto
  userspace_binary:
    description: The C(wireguard-go) program, a path or a name looked up in E(PATH).
    type: str
    default: wireguard-go
"""

    # The peers option alone, for modules whose other options differ (wg_hub).
    PEERS = r"""
options:
  peers:
    description:
      - The peers (for a container, usually just the hub). Peers not listed are removed.
      - Peers are reconciled one by one; an unchanged peer keeps its session.
    type: list
    elements: dict
    default: []
    suboptions:
      public_key:
        description: The peer's base64 public key.
        type: str
        required: true
      endpoint:
        description:
          - V(host:port) or V([IPv6]:port). A hostname is resolved on the host.
          - Without it, the endpoint is learned from the peer and never counts as a change.
        type: str
      allowed_ips:
        description: Destinations routed to this peer inside the tunnel, and sources accepted from it.
        type: list
        elements: str
        default: []
      persistent_keepalive:
        description: Seconds between keepalive packets; V(0) for off.
        type: int
        default: 0
      preshared_key:
        description: An optional base64 preshared key. Never logged or returned.
        type: str
"""
