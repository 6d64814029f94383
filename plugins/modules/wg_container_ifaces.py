#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: wg_container_ifaces
short_description: Give many Docker containers their WireGuard interfaces in one task
version_added: 0.1.0
description:
  - The batch form of M(wgnet.containers.wg_container_iface) - one module run, one lock and one Docker
    client for a list of interfaces, instead of one round-trip per container.
  - Each element of O(interfaces) takes the options of M(wgnet.containers.wg_container_iface), with
    the same meaning and defaults, and is reconciled the same way.
  - Every interface is read and decided on first; then all are changed, so that the containers of a
    host switch (to new keys, say) within moments of each other. Both steps work on several interfaces
    at once (8 threads), and the results come in the order of O(interfaces).
  - A failure while reading changes nothing and names the first failing element. A failure while
    changing names the element and leaves nothing half-made of it; the other elements are still
    changed, and the task fails.
author:
  - wgnet.containers maintainers (@wgnet)
requirements:
  - pyroute2 >= 0.9
  - cryptography (X25519), or else pycryptodome >= 3.21
  - for containers, the Docker daemon on its local socket (DOCKER_HOST, or /var/run/docker.sock)
  - wireguard-go, for the userspace backend
attributes:
  check_mode:
    description: Reports what would change for each interface and changes nothing.
    support: full
  diff_mode:
    description: Shows each changed interface before and after, with public keys only.
    support: full
options:
  interfaces:
    description: The interfaces, one element per container (or namespace) and interface name.
    type: list
    elements: dict
    required: true
    suboptions:
      container: {description: As in M(wgnet.containers.wg_container_iface)., type: str}
      netns: {description: As in M(wgnet.containers.wg_container_iface)., type: path}
      name: {description: As in M(wgnet.containers.wg_container_iface)., type: str, default: wg0}
      address:
        description: As in M(wgnet.containers.wg_container_iface).
        type: list
        elements: str
        default: []
      private_key: {description: As in M(wgnet.containers.wg_container_iface). Never logged., type: str}
      private_key_path: {description: As in M(wgnet.containers.wg_container_iface)., type: path}
      listen_port: {description: As in M(wgnet.containers.wg_container_iface)., type: int, default: 0}
      fwmark: {description: As in M(wgnet.containers.wg_container_iface)., type: int, default: 0}
      mtu: {description: As in M(wgnet.containers.wg_container_iface)., type: int, default: 1420}
      peers:
        description: As in M(wgnet.containers.wg_container_iface).
        type: list
        elements: dict
        default: []
        suboptions:
          public_key: {description: The peer's base64 public key., type: str, required: true}
          endpoint: {description: "V(host:port) or V([IPv6]:port).", type: str}
          allowed_ips: {description: Allowed IPs in CIDR form., type: list, elements: str, default: []}
          persistent_keepalive: {description: Seconds; V(0) for off., type: int, default: 0}
          preshared_key: {description: Base64 preshared key. Never logged., type: str}
      default_route: {description: As in M(wgnet.containers.wg_container_iface)., type: bool, default: true}
      routes: {description: As in M(wgnet.containers.wg_container_iface)., type: list, elements: str, default: []}
      dns:
        description: As in M(wgnet.containers.wg_container_iface).
        type: list
        elements: str
        default: []
      backend:
        description: As in M(wgnet.containers.wg_container_iface).
        type: str
        choices: [auto, kernel, userspace]
        default: auto
      userspace_binary:
        description: As in M(wgnet.containers.wg_container_iface).
        type: str
        default: wireguard-go
      allow_other_interfaces:
        description: As in M(wgnet.containers.wg_container_iface).
        type: bool
        default: false
      state:
        description: As in M(wgnet.containers.wg_container_iface).
        type: str
        choices: [present, absent]
        default: present
  switch_signal:
    description:
      - A file to wait for between deciding and changing, for a switch at a moment chosen elsewhere
        (C(playbooks/rotate.yml) starts this module asynchronously, switches the hub, then writes the file).
      - The module waits only when there is something to change, polling every 20 ms. When the file holds
        V(switch) it makes the changes; when it holds V(abort) (and optionally a reason after it) it fails and
        changes nothing. It removes the file after reading it.
    type: path
  switch_timeout:
    description: Seconds to wait for O(switch_signal); then the module fails and changes nothing.
    type: int
    default: 300
notes:
  - Runs on the Docker host, as root, under the same host-wide lock as M(wgnet.containers.wg_container_iface).
    While it waits for O(switch_signal) it holds that lock.
seealso:
  - module: wgnet.containers.wg_container_iface
"""

EXAMPLES = r"""
- name: Derive the private keys of this host's containers on the controller
  wgnet.containers.wg_derived_key:
    seed: "{{ wgnet_seed }}"
    additional: "{{ wgnet_additional }}"
    addresses: "{{ my_containers | map(attribute='address') | list }}"
    return_private_key: true
  delegate_to: localhost
  no_log: true
  register: my_keys

- name: Attach them all in one task
  wgnet.containers.wg_container_ifaces:
    interfaces:
      - container: web-1
        address: [10.0.42.5/32]
        private_key: "{{ my_keys.derived_keys[0].private_key }}"
        peers: "{{ hub_peers }}"
      - container: web-2
        address: [10.0.42.6/32]
        private_key: "{{ my_keys.derived_keys[1].private_key }}"
        peers: "{{ hub_peers }}"
        dns: [10.0.42.254]
  vars:
    hub_peers:
      - public_key: "{{ hub_public_key }}"
        endpoint: hub.example.com:51820
        allowed_ips: [10.0.42.0/24]
        persistent_keepalive: 25
"""

RETURN = r"""
results:
  description: One entry per element of O(interfaces), in order. No secrets.
  returned: always
  type: list
  elements: dict
  contains:
    container: {description: "The element's O(interfaces[].container).", type: str}
    netns: {description: "The element's O(interfaces[].netns).", type: str}
    name: {description: The interface name., type: str}
    changed: {description: Whether this interface changed., type: bool}
    changes:
      description: What changed, one line each, as in M(wgnet.containers.wg_container_iface).
      type: list
      elements: str
    interface:
      description: The interface's facts, as RV(wgnet.containers.wg_container_iface#module:interface).
      type: dict
reaped:
  description: Host-side names of C(wireguard-go) processes stopped because their namespace was gone.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wgnet.containers.plugins.module_utils.engine.batch import reconcile_many, wait_for_signal
from ansible_collections.wgnet.containers.plugins.module_utils.engine.spec import (
    INTERFACE_RULES,
    interface_options,
    wanted_many,
)
from ansible_collections.wgnet.containers.plugins.module_utils.hostrun import run_on_host


def main():
    module = AnsibleModule(
        argument_spec=dict(interfaces=dict(type="list", elements="dict", required=True,
                                           options=interface_options(), **INTERFACE_RULES),
                           switch_signal=dict(type="path"),
                           switch_timeout=dict(type="int", default=300)),
        supports_check_mode=True,
    )
    signal, timeout = module.params["switch_signal"], module.params["switch_timeout"]
    if timeout <= 0:
        module.fail_json(msg="switch_timeout: must be a positive number of seconds, got %d" % timeout,
                         option="switch_timeout")
    wait = (lambda: wait_for_signal(signal, timeout)) if signal else None
    # The options are checked on the host, after the libraries and under the lock, as every change is.
    result = run_on_host(module, lambda host: reconcile_many(host, wanted_many(module.params["interfaces"]), wait))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
