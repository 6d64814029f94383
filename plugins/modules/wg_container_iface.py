#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: wg_container_iface
short_description: Give a Docker container (or a network namespace) a WireGuard interface as its network
version_added: 0.1.0
description:
  - Makes a running container have exactly the WireGuard interface described, and changes nothing else.
  - The interface's UDP socket lives in the host's network namespace and the interface itself in the
    container's, so the container's traffic leaves only through the encrypted tunnel, while the
    encrypted packets leave through the host.
  - With the C(kernel) backend the link is created from the host directly inside the container's
    namespace (it never exists in the host's) and configured over WireGuard's generic netlink.
  - With the C(userspace) backend a C(wireguard-go) process is started on a host-side name
    (C(wgn) and 12 hex digits), configured over its UAPI socket, and its TUN device is moved into the
    container's namespace and renamed there. Keys go over the socket, never on a command line.
  - Reads the actual state, changes only what differs, and reconciles peers one by one, so unchanged
    peers keep their sessions. A second identical run reports no change.
  - Each run also stops C(wireguard-go) processes whose namespace is gone (a stopped or restarted
    container) and forgets dead ones. A userspace interface whose process has died is recreated.
  - To attach many containers in one task, use M(wgnet.containers.wg_container_ifaces).
author:
  - wgnet.containers maintainers (@wgnet)
requirements:
  - pyroute2 >= 0.9
  - cryptography (X25519), or else pycryptodome >= 3.21
  - for O(container), the Docker daemon on its local socket (DOCKER_HOST, or /var/run/docker.sock)
  - wireguard-go, for the userspace backend
extends_documentation_fragment:
  - wgnet.containers.wg_interface
  - wgnet.containers.wg_interface.device
  - wgnet.containers.wg_interface.peers
attributes:
  check_mode:
    description: Reports what would change, in RV(changes) and the diff, and changes nothing.
    support: full
  diff_mode:
    description: Shows the interface before and after, with public keys only.
    support: full
notes:
  - Runs on the Docker host, as root. A host-wide lock in C(/run/wgnet/lock) serializes concurrent runs.
  - The C(wireguard-go) processes run in their own session, outside the Ansible run, and are tracked in
    C(/run/wgnet/userspace/); their logs are in C(/run/wgnet/log/), mode 0600.
seealso:
  - module: wgnet.containers.wg_container_ifaces
  - module: wgnet.containers.wg_derived_key
"""

EXAMPLES = r"""
- name: Derive this container's private key on the controller
  wgnet.containers.wg_derived_key:
    seed: "{{ wgnet_seed }}"
    additional: "{{ wgnet_additional }}"
    address: 10.0.42.5
    return_private_key: true
  delegate_to: localhost
  no_log: true
  register: web_key

- name: Make the tunnel the only network of container "web"
  wgnet.containers.wg_container_iface:
    container: web
    address: [10.0.42.5/32]
    private_key: "{{ web_key.private_key }}"
    peers:
      - public_key: "{{ hub_public_key }}"
        endpoint: hub.example.com:51820
        allowed_ips: [10.0.42.0/24]
        persistent_keepalive: 25
    dns: [10.0.42.254]

- name: The same in a bare network namespace, with the key in a 0600 file
  wgnet.containers.wg_container_iface:
    netns: /var/run/netns/blue
    name: wg1
    address: [10.0.42.6/32, "fd00:42::6/128"]
    private_key_path: /etc/wgnet/blue.key
    backend: userspace
    peers:
      - public_key: "{{ hub_public_key }}"
        endpoint: "[2001:db8::1]:51820"
        allowed_ips: [0.0.0.0/0, "::/0"]

- name: Remove the interface (and its wireguard-go process)
  wgnet.containers.wg_container_iface:
    container: web
    state: absent
"""

RETURN = r"""
changes:
  description: What was changed, or would be in check mode, one line each. Never holds a secret.
  returned: always
  type: list
  elements: str
  sample: ["create interface wg0 (backend userspace)", "add address 10.0.42.5/32", "add route 0.0.0.0/0"]
reaped:
  description: Host-side names of C(wireguard-go) processes stopped because their namespace was gone.
  returned: always
  type: list
  elements: str
interface:
  description: The interface after the run (predicted in check mode); empty when absent. No secrets.
  returned: always
  type: dict
  contains:
    name: {description: Interface name in the namespace., type: str, sample: wg0}
    backend: {description: C(kernel) or C(userspace)., type: str}
    host_name: {description: "Host-side name of the userspace device, else null.", type: str}
    pid: {description: "Process id of its C(wireguard-go), else null.", type: int}
    container: {description: "Container name, if the target is a container.", type: str}
    netns: {description: Path of the namespace., type: str}
    public_key: {description: Public key of the interface's private key., type: str}
    listen_port: {description: UDP port on the host., type: int}
    fwmark: {description: Firewall mark of the tunnel's packets., type: int}
    mtu: {description: MTU., type: int}
    addresses: {description: Addresses in CIDR form., type: list, elements: str}
    routes: {description: Destinations routed through the interface., type: list, elements: str}
    dns: {description: "The resolv.conf content written, when O(dns) is set.", type: str}
    peers:
      description: Peers with public keys only; a preshared key shows as a boolean.
      type: list
      elements: dict
      sample:
        - public_key: +Pm8wi17cOoQ/QvaBq/WLcslAcgX1cCkrJA5dG57nU8=
          endpoint: 10.1.0.1:51820
          allowed_ips: [10.0.42.0/24]
          persistent_keepalive: 25
          preshared_key: false
          latest_handshake: 1764000000
          transfer_rx: 1234
          transfer_tx: 5678
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wgnet.containers.plugins.module_utils.engine.interface import reconcile
from ansible_collections.wgnet.containers.plugins.module_utils.engine.spec import (
    INTERFACE_RULES,
    interface_options,
    wanted_from_params,
)
from ansible_collections.wgnet.containers.plugins.module_utils.hostrun import run_on_host


def main():
    module = AnsibleModule(argument_spec=interface_options(), supports_check_mode=True, **INTERFACE_RULES)
    # The options are checked on the host, after the libraries and under the lock, as every change is.
    result = run_on_host(module, lambda host: reconcile(host, wanted_from_params(module.params)))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
