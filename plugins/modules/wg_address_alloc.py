#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: wg_address_alloc
short_description: Stable tunnel addresses for the containers of one Docker host
version_added: 0.1.0
description:
  - Gives each container named in O(containers) an address, and records it on the host, so that a
    container keeps its address (and so its derived key) across runs and restarts.
  - One rule decides which addresses may be given, the same for O(explicit), recorded and new addresses,
    and the same as in the filter P(wgnet.containers.wg_fleet_conflicts#filter) and the network driver. An
    address must lie in O(slice), be neither the network nor the broadcast address of O(slice) or O(pool),
    not be in O(exclude), and not be recorded to another container or to a network driver endpoint.
  - An address given in O(explicit) that breaks the rule fails the task, and nothing is recorded. So a
    C(wgnet.address) label, which a container image can set, never gets a container the hub's address
    (and so the hub's key) or another container's.
  - Any other container keeps its recorded address while the rule still allows it, else gets the lowest
    free address of O(slice).
  - The record holds the host's slice. A different O(slice) fails the task while the record holds
    addresses, unless O(reslice) is set. A computed slice moves when the list of Docker hosts grows or
    changes order, and every container of the host would silently get a new address and a new key.
  - Recorded addresses of containers that are not listed now stay reserved for them.
  - Also records which containers are attached, and returns those that were and are no longer listed,
    so that the caller can detach them.
  - Used by the P(wgnet.containers.attach#role) role; fleet-wide uniqueness is checked before it runs.
  - The wgnet network driver (P(wgnet.containers.network_driver#role) role) records the addresses of its
    containers in the same file, under the same lock; they stay reserved here, and the driver refuses an
    address recorded here.
author:
  - wgnet.containers maintainers (@wgnet)
attributes:
  check_mode:
    description: Returns the addresses it would give and writes nothing.
    support: full
  diff_mode:
    description: Shows the recorded allocations before and after.
    support: full
options:
  slice:
    description: This host's slice of the pool, in CIDR form.
    type: str
    required: true
  containers:
    description: Names of the containers to attach now.
    type: list
    elements: str
    required: true
  explicit:
    description: Addresses given in the inventory or by a C(wgnet.address) label, by container name.
    type: dict
    default: {}
  exclude:
    description: Addresses never to allocate, such as the hub's.
    type: list
    elements: str
    default: []
  pool:
    description:
      - The pool that O(slice) is cut from, in CIDR form. Its network and broadcast addresses are never
        given, since the hub has no peer for them.
      - Without it, only O(slice)'s own network and broadcast addresses are kept out.
    type: str
  reslice:
    description: Move the host to O(slice) even though its record holds addresses in another slice; its
      containers get new addresses, and so new keys.
    type: bool
    default: false
  state_path:
    description: The record on the host.
    type: path
    default: /var/lib/wgnet/allocations.json
"""

EXAMPLES = r"""
- name: Addresses for this host's containers
  wgnet.containers.wg_address_alloc:
    slice: 10.0.42.0/25
    containers: [web, api]
    explicit: {db: 10.0.42.100}
  register: allocation
"""

RETURN = r"""
addresses:
  description: The address of each container of O(containers), by name.
  returned: always
  type: dict
  sample: {web: 10.0.42.1, api: 10.0.42.2}
detach:
  description: Containers that were attached by an earlier run and are not listed now.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wgnet.containers.plugins.module_utils.adapters import reported
from ansible_collections.wgnet.containers.plugins.module_utils.keys.alloc import Allocations, ALLOCATIONS_PATH
from ansible_collections.wgnet.containers.plugins.module_utils.keys.fleet import plan_allocation


def main():
    module = AnsibleModule(
        argument_spec=dict(
            slice=dict(type="str", required=True),
            containers=dict(type="list", elements="str", required=True),
            explicit=dict(type="dict", default={}),
            exclude=dict(type="list", elements="str", default=[]),
            pool=dict(type="str"),
            reslice=dict(type="bool", default=False),
            state_path=dict(type="path", default=ALLOCATIONS_PATH),
        ),
        supports_check_mode=True,
    )
    params = module.params
    # Under the lock the network driver also takes: an address is given once on a host.
    with Allocations(params["state_path"], create=not module.check_mode) as record:
        with reported(module):
            before = record.read()
            addresses, detach, after = plan_allocation(before, params["slice"], params["containers"], params["explicit"],
                                                       params["exclude"], params["pool"], params["reslice"])
        changed = after != before
        if changed and not module.check_mode:
            record.write(after)
    module.exit_json(changed=changed, addresses=addresses, detach=detach, diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
