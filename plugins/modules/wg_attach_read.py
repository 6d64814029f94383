#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: wg_attach_read
short_description: Read what the attach role plans a Docker host from, in one step
version_added: 0.1.0
description:
  - Returns the running containers labelled C(wgnet.enable=true), with their C(wgnet.address) label, and the
    host's allocation record, where a C(docker ps) task and a slurp task took two steps.
  - With O(generation), also says whether the host's record of the key generation its containers run already
    holds it, so that a run with nothing to change skips M(wgnet.containers.wg_generation_record).
  - Asks the Docker daemon on its local socket (C(DOCKER_HOST) if it is C(unix://...)).
  - Used by the P(wgnet.containers.attach#role) role's C(plan) step. Changes nothing.
author:
  - wgnet.containers maintainers (@wgnet)
attributes:
  check_mode:
    description: Reads only.
    support: full
  diff_mode:
    description: None.
    support: none
options:
  labels:
    description: List the labelled containers; without it, RV(labelled) is empty and Docker is not asked.
    type: bool
    default: true
  state_path:
    description: The allocation record of M(wgnet.containers.wg_address_alloc).
    type: path
    default: /var/lib/wgnet/allocations.json
  generation:
    description: The key generation the inventory asks for (a fingerprint, the common role's C(wgnet_generation)).
    type: str
  generation_path:
    description: The record M(wgnet.containers.wg_generation_record) writes, compared with O(generation).
    type: path
    default: /var/lib/wgnet/attach-generation.json
"""

EXAMPLES = r"""
- name: Read the labelled containers and the allocation record
  wgnet.containers.wg_attach_read:
    state_path: /var/lib/wgnet/allocations.json
    generation: "{{ wgnet_generation }}"
  register: wgnet_record
"""

RETURN = r"""
labelled:
  description: One line per labelled running container, its name and, if labelled, its address.
  returned: success
  type: list
  elements: str
  sample: ["web 10.0.42.7", "api"]
content:
  description: The record, base64 (as M(ansible.builtin.slurp) returns it); absent when there is no record.
  returned: when the record exists
  type: str
generation_recorded:
  description: Whether O(generation_path) holds O(generation), mode 0600.
  returned: when O(generation) is given
  type: bool
"""

import base64

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.wgnet.containers.plugins.module_utils.common.dockerapi import running_with_label
from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.common.generation import holds


def labelled_lines():
    """"name address" (or "name") for each running container labelled wgnet.enable=true."""
    return [("%s %s" % (name, labels.get("wgnet.address", ""))).strip()
            for name, labels in running_with_label("wgnet.enable=true")]


def main():
    module = AnsibleModule(
        argument_spec=dict(labels=dict(type="bool", default=True),
                           state_path=dict(type="path", default="/var/lib/wgnet/allocations.json"),
                           generation=dict(type="str"),
                           generation_path=dict(type="path", default="/var/lib/wgnet/attach-generation.json")),
        supports_check_mode=True,
    )
    result = {"changed": False, "labelled": []}
    if module.params["labels"]:
        try:
            result["labelled"] = labelled_lines()
        except WgnetError as exc:
            module.fail_json(msg=str(exc), option=exc.option)
    try:
        with open(module.params["state_path"], "rb") as handle:
            result["content"] = base64.b64encode(handle.read()).decode("ascii")
    except (IOError, OSError):
        pass  # no record yet: nothing was allocated here
    if module.params["generation"] is not None:
        result["generation_recorded"] = holds(module.params["generation_path"], module.params["generation"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
