#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: wg_derived_key
short_description: Derive WireGuard keys from a seed, an additional string and an IP address
version_added: 0.1.0
description:
  - Computes the WireGuard key pair of one address, or of a batch of addresses, as
    C(clamp(SHA3-256(seed || additional || address))).
  - Bit-for-bit compatible with the reference script C(privkeys.py) of the article
    "Using WireGuard as the network for a Docker container" for IPv4 addresses.
  - IPv6 addresses use their 16 packed bytes; this is an extension of the reference,
    which has no IPv6 support.
  - Changing O(additional) gives every address a new key pair; this is how the whole
    fleet is re-keyed without changing the secret O(seed).
  - "Usually run on the controller (C(delegate_to: localhost)), so that the seed never
    has to be on a managed host."
  - It never changes anything, so it always reports C(changed=false).
author:
  - wgnet.containers maintainers (@wgnet)
requirements:
  - cryptography (X25519), or else pycryptodome >= 3.21
attributes:
  check_mode:
    description: Can run in check mode and return the same result as a normal run.
    support: full
  diff_mode:
    description: Nothing ever changes, so there is no diff.
    support: none
options:
  seed:
    description:
      - The secret seed, as strict base64 (no whitespace, standard alphabet, correct padding).
      - A seed that decodes to fewer than 16 bytes is accepted for compatibility but draws a
        warning. Make a strong one with C(head -c 32 /dev/urandom | base64), and keep it in
        Ansible Vault.
    type: str
    required: true
  additional:
    description:
      - The non-secret additional string, as strict base64. May be empty.
      - The reference script uses C(YmVzdG92Lmlv) (base64 of C(bestov.io)) when its
        C(--add) option is omitted.
    type: str
    required: true
  address:
    description:
      - One IPv4 or IPv6 address. A prefix (C(10.0.42.5/24)) is allowed and ignored.
      - An IPv4-mapped IPv6 address (C(::ffff:10.0.42.5)) is rejected; use the plain IPv4 form.
      - Exactly one of O(address), O(addresses) and O(pool) is required.
    type: str
  addresses:
    description:
      - A list of addresses, each as for O(address), derived in one call. Thousands are fine.
    type: list
    elements: str
  pool:
    description:
      - A network in CIDR form (C(10.0.42.0/24)); derives every usable host address of it, in order.
      - The fastest way to derive a whole pool, such as a hub's peer list, because the addresses are
        expanded on the managed host instead of being sent as a list.
    type: str
  exclude:
    description:
      - With O(pool), addresses to leave out, such as the hub's own tunnel address.
    type: list
    elements: str
    default: []
  additional_overrides:
    description:
      - A different O(additional) for some addresses, by address. This revokes the key of one
        container (the article's scenario 3 for one leaked key) without re-keying the fleet - give the
        same overrides to the hub and to the container's Docker host.
    type: dict
    default: {}
  public_keys_text:
    description:
      - With O(addresses) or O(pool), return RV(public_keys_text), the public keys as one newline-separated
        text, instead of RV(derived_keys).
      - One string instead of a list of thousands of entries is much lighter for Ansible to carry; it is
        what O(wgnet.containers.wg_hub#module:pool_public_keys_text) takes.
    type: bool
    default: false
  require_strong_seed:
    description:
      - Fail when O(seed) decodes to fewer than 16 bytes. The collection's roles set it unless the
        inventory sets C(wgnet_allow_weak_seed=true).
      - Without it, a short seed is accepted with a warning (the article's own vectors use a 9-byte seed).
    type: bool
    default: false
  return_private_key:
    description:
      - Also return the private keys.
      - "Set C(no_log: true) on a task that asks for private keys."
    type: bool
    default: false
notes:
  - The module never logs its inputs; the seed is marked C(no_log) and no error message
    contains it.
seealso:
  - name: The article this scheme comes from
    description: Deterministic per-container keys derived from a seed, an additional string and the IP address.
    link: https://www.bestov.io/blog/using-wireguard-as-the-network-for-a-docker-container
"""

EXAMPLES = r"""
- name: Public key of one container address, derived on the controller
  wgnet.containers.wg_derived_key:
    seed: "{{ wgnet_seed }}"
    additional: "{{ wgnet_additional }}"
    address: 10.0.42.5
  delegate_to: localhost
  register: container_key

- name: Public keys of a whole pool but the hub's own address, for the hub's peer list
  wgnet.containers.wg_derived_key:
    seed: "{{ wgnet_seed }}"
    additional: "{{ wgnet_additional }}"
    pool: 10.0.42.0/25
    exclude: [10.0.42.126]
  delegate_to: localhost
  run_once: true
  register: pool_keys

- name: Private keys of the containers of this host (never logged)
  wgnet.containers.wg_derived_key:
    seed: "{{ wgnet_seed }}"
    additional: "{{ wgnet_additional }}"
    addresses: [10.0.42.5, 10.0.42.6]
    return_private_key: true
  delegate_to: localhost
  no_log: true
  register: host_keys
"""

RETURN = r"""
public_key:
  description: The base64 public key of O(address).
  returned: when O(address) is given
  type: str
  sample: +Pm8wi17cOoQ/QvaBq/WLcslAcgX1cCkrJA5dG57nU8=
public_keys_text:
  description: The public keys of O(addresses) or O(pool), in order, one per line.
  returned: when O(public_keys_text=true)
  type: str
private_key:
  description: The base64 private key of O(address).
  returned: when O(address) is given and O(return_private_key=true)
  type: str
derived_keys:
  description: One entry per address of O(addresses) (in input order) or of O(pool) (in address order).
  returned: when O(addresses) or O(pool) is given
  type: list
  elements: dict
  contains:
    address:
      description: The address as given, or as the pool's host address.
      type: str
      sample: 10.0.42.5
    public_key:
      description: Its base64 public key.
      type: str
    private_key:
      description: Its base64 private key, only with O(return_private_key=true).
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wgnet.containers.plugins.module_utils.adapters import reported, require_crypto
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import (
    KeyDeriver,
    override_derivers,
    parse_address,
)
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import pool_hosts


def override(entries, seed, overrides, include_private):
    """Re-derive, in place, the entries whose address has its own additional."""
    derivers = override_derivers(seed, overrides)
    for entry in entries if derivers else ():
        deriver = derivers.get(parse_address(entry["address"]))
        if deriver is not None:
            entry.update(deriver.derive(entry["address"], include_private))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            seed=dict(type="str", required=True, no_log=True),
            additional=dict(type="str", required=True),
            address=dict(type="str"),
            addresses=dict(type="list", elements="str"),
            pool=dict(type="str"),
            exclude=dict(type="list", elements="str", default=[]),
            public_keys_text=dict(type="bool", default=False),
            additional_overrides=dict(type="dict", default={}),
            return_private_key=dict(type="bool", default=False),
            require_strong_seed=dict(type="bool", default=False),
        ),
        required_one_of=[("address", "addresses", "pool")],
        mutually_exclusive=[("address", "addresses", "pool"), ("public_keys_text", "return_private_key")],
        supports_check_mode=True,
    )
    require_crypto(module)

    params = module.params
    include_private = params["return_private_key"]
    with reported(module):
        deriver = KeyDeriver(params["seed"], params["additional"], params["require_strong_seed"])
        if params["pool"] is not None:
            addresses = pool_hosts(params["pool"], params["exclude"])
            result = {"derived_keys": deriver.derive_many(addresses, include_private, option="pool")}
        elif params["addresses"] is not None:
            result = {"derived_keys": deriver.derive_many(params["addresses"], include_private)}
        else:
            result = {"derived_keys": [deriver.derive(params["address"], include_private)]}
        override(result["derived_keys"], params["seed"], params["additional_overrides"], include_private)
        if params["address"] is not None:
            result = {k: v for k, v in result.pop("derived_keys")[0].items() if k != "address"}

    if params["public_keys_text"] and "derived_keys" in result:
        result["public_keys_text"] = "\n".join(entry["public_key"] for entry in result.pop("derived_keys"))
    for warning in deriver.warnings:
        module.warn(warning)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
