#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: wg_hub
short_description: The hub's WireGuard interface, with one peer per address of a container pool
version_added: 0.1.0
description:
  - Makes the host's own WireGuard interface match the description, live, and keeps a wg-quick
    configuration file that says the same, so that what comes up at boot is what was applied.
  - Peers are reconciled one by one, as in M(wgnet.containers.wg_container_iface), so adding, removing
    or re-keying peers never restarts the interface and never drops the sessions of unchanged peers.
    There is no C(wg-quick down/up) and no C(wg syncconf).
  - For a pool, give the public keys only (derived on the controller with
    M(wgnet.containers.wg_derived_key)); the hub never needs the seed. Each key becomes one peer whose
    allowed IPs are its address alone (C(/32)), and its paired IPv6 address (C(/128)) when the pool
    has a second, IPv6, network.
  - With O(forward), the host forwards between peers (so that a container on one host reaches a
    container on another) and sends no ICMP redirects; the settings are also written to
    C(/etc/sysctl.d/90-wgnet-NAME.conf).
  - The diff lists at most 10 of the peers that change, and counts the others and all peers; the
    returned facts list none.
  - A run with nothing to change need not derive the pool's keys; give O(pool_fingerprint) without keys.
    The hub then takes its live pool peers as the pool if they are what it applied under that
    fingerprint (their digest equals the one it recorded in O(pool_record) when it applied them with
    their keys), and otherwise changes nothing and returns RV(pool_keys_needed).
author:
  - wgnet.containers maintainers (@wgnet)
requirements:
  - pyroute2 >= 0.9
  - cryptography (X25519), or else pycryptodome >= 3.21
  - wireguard-go, for the userspace backend
extends_documentation_fragment:
  - wgnet.containers.wg_interface.device
  - wgnet.containers.wg_interface.peers
attributes:
  check_mode:
    description: Reports what would change and changes nothing.
    support: full
  diff_mode:
    description: Shows the interface before and after with the changed peers, public keys only.
    support: full
options:
  name:
    description: Interface name on the host.
    type: str
    default: wg0
  address:
    description: The hub's tunnel addresses in CIDR form; the prefix covers the pool (C(10.0.42.254/24)).
    type: list
    elements: str
    required: true
  private_key:
    description: The hub's base64 private key. Never logged or returned.
    type: str
  listen_port:
    description: The UDP port containers dial.
    type: int
    required: true
  pool:
    description:
      - The container pool, one network (IPv4 or IPv6), or an IPv4 and an IPv6 network. The IPv6 address
        of a peer is the one at the same offset as its IPv4 address.
    type: list
    elements: str
    default: []
  pool_exclude:
    description: Addresses of the first pool network that are not containers, such as the hub's own.
    type: list
    elements: str
    default: []
  pool_public_keys:
    description:
      - One public key per host address of the first pool network (after O(pool_exclude)), in address
        order, as RV(wgnet.containers.wg_derived_key#module:derived_keys) with O(wgnet.containers.wg_derived_key#module:pool) returns them.
    type: list
    elements: str
    default: []
  pool_public_keys_text:
    description:
      - The same keys as one newline-separated text, as
        RV(wgnet.containers.wg_derived_key#module:public_keys_text) returns them; lighter for large pools.
    type: str
  pool_fingerprint:
    description:
      - A name, never a secret, for the pool's keys (what they are derived from, and the pool), the same
        whenever the keys are the same. The hub role makes it from the key generation and the pool.
      - With the keys, the hub records it after applying them, with a digest of the pool peers (public
        keys and allowed IPs) in O(pool_record).
      - Without keys, the run reads the live pool peers (every peer not in O(peers)) and uses them as the pool
        only if the record names this fingerprint and the digest of those peers equals the recorded one.
        Otherwise nothing changes and RV(pool_keys_needed) is true; run again with the keys.
    type: str
  pool_record:
    description: The hub's record of the pool it applied, mode 0600. Defaults to C(/var/lib/wgnet/hub-NAME-pool.json).
    type: path
  generation:
    description:
      - The key generation the inventory asks for (a fingerprint, the common role's C(wgnet_generation)).
      - Only compared with O(generation_path), and the answer returned in RV(generation_recorded). This module never
        writes that record; M(wgnet.containers.wg_generation_record) does, once the hub runs the generation.
    type: str
  generation_path:
    description: The hub's record of the key generation it runs.
    type: path
    default: /var/lib/wgnet/hub-generation.json
  pool_endpoints:
    description:
      - For a hub pair (docs/high-availability.md), the Docker hosts that own the pool's addresses; each
        pool peer whose address lies in a slice gets the endpoint C(address:port), the port being
        O(pool_port_base) plus the address's offset in the first pool network, where the container listens.
      - A hub that takes over can then start every handshake itself. A live endpoint that a container
        roamed to is kept, and is no change; the wg-quick file always holds the derived endpoint.
    type: list
    elements: dict
    suboptions:
      slice:
        description: The Docker host's slice of the first pool network, in CIDR form.
        type: str
        required: true
      address:
        description: The address, or a name resolved on the hub, that the hubs reach this Docker host at.
        type: str
        required: true
  pool_port_base:
    description: The port of the pool's network address; the pool must fit below 65536. Required with O(pool_endpoints).
    type: int
  forward:
    description: Forward between peers, without ICMP redirects, now and after a reboot.
    type: bool
    default: true
  config_path:
    description: The wg-quick file, written mode 0600. Defaults to C(/etc/wireguard/NAME.conf).
    type: path
  state:
    description: V(present) or V(absent); V(absent) removes the interface, its config file, its sysctl file and its record.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The config file holds the private key; it is written 0600 in a 0700 folder and never shown in the diff.
  - "To start the hub at boot, enable C(wg-quick@NAME): wg-quick uses C(wireguard-go) by itself where the
    kernel has no WireGuard. The config sets C(Table = off): the address prefix routes the pool."
seealso:
  - module: wgnet.containers.wg_container_iface
  - module: wgnet.containers.wg_derived_key
"""

EXAMPLES = r"""
- name: Public keys of the pool, derived on the controller
  wgnet.containers.wg_derived_key:
    seed: "{{ wgnet_seed }}"
    additional: "{{ wgnet_additional }}"
    pool: 10.0.42.0/24
    exclude: [10.0.42.254]
  delegate_to: localhost
  run_once: true
  register: pool_keys

- name: The hub, one peer per pool address
  wgnet.containers.wg_hub:
    address: [10.0.42.254/24]
    private_key_path: /etc/wireguard/wg0.key
    listen_port: 51820
    pool: [10.0.42.0/24]
    pool_exclude: [10.0.42.254]
    pool_public_keys: "{{ pool_keys.derived_keys | map(attribute='public_key') | list }}"

- name: One hub of a pair, whose containers listen on derived ports (10.0.42.5 on 20005 of docker1)
  wgnet.containers.wg_hub:
    pool_endpoints:
      - {slice: 10.0.42.0/25, address: 192.0.2.21}
      - {slice: 10.0.42.128/25, address: 192.0.2.22}
    pool_port_base: 20000
    pool: [10.0.42.0/24]
    pool_exclude: [10.0.42.254]
    pool_public_keys_text: "{{ pool_keys.public_keys_text }}"
    address: [10.0.42.254/24]
    private_key: "{{ hub_private_key }}"
    listen_port: 51820
"""

RETURN = r"""
changes:
  description: What changed, or would in check mode; long runs of peer changes are summed up.
  returned: always
  type: list
  elements: str
  sample: ["create interface wg0 (backend userspace)", "add peer ...", "add 65524 more peers", "write /etc/wireguard/wg0.conf"]
interface:
  description: The hub's facts without secrets, as in M(wgnet.containers.wg_container_iface), with the peers left out.
  returned: always
  type: dict
  contains:
    peer_count: {description: Number of peers., type: int}
    peers_with_handshake: {description: Peers that have completed a handshake., type: int}
    public_key: {description: The hub's public key., type: str}
    listen_port: {description: Its UDP port., type: int}
pool_keys_needed:
  description:
    - True when O(pool_fingerprint) was given without keys and the live pool peers are not known to be that
      pool (no record of it, or peers that differ from the record). Nothing changed; run again with the keys.
  returned: always
  type: bool
pool_keys_reason:
  description: Why the keys are needed.
  returned: when RV(pool_keys_needed) is true
  type: str
  sample: the live pool peers of wg0 differ from those recorded in /var/lib/wgnet/hub-wg0-pool.json
generation_recorded:
  description: Whether O(generation_path) holds O(generation), mode 0600, when this module began.
  returned: when O(generation) is given
  type: bool
reaped:
  description: As in M(wgnet.containers.wg_container_iface).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wgnet.containers.plugins.module_utils.common.generation import holds
from ansible_collections.wgnet.containers.plugins.module_utils.engine.hub import (
    hub_options,
    HUB_RULES,
    pool_keys,
    reconcile_hub,
)
from ansible_collections.wgnet.containers.plugins.module_utils.hostrun import run_on_host


def main():
    module = AnsibleModule(argument_spec=dict(hub_options(), generation=dict(type="str"), generation_path=dict(
        type="path", default="/var/lib/wgnet/hub-generation.json")), supports_check_mode=True, **HUB_RULES)
    params = module.params
    recorded = None if params["generation"] is None else holds(params["generation_path"], params["generation"])
    result = run_on_host(module, lambda host: reconcile_hub(host, module.params))
    if recorded is not None:
        result["generation_recorded"] = recorded
    # Echo the pool's keys as a count: a /16 is 65,534 of them.
    count = len(pool_keys(module.params))
    arguments = dict(module.params, pool_public_keys="(%d public keys)" % count, pool_public_keys_text=None)
    module.exit_json(invocation={"module_args": arguments}, **result)


if __name__ == "__main__":
    main()
