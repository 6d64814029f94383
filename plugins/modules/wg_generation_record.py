#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: wg_generation_record
short_description: Record on a host the key generation it runs
version_added: 0.1.0
description:
  - Writes O(generation) to O(path) as a JSON object with the one key C(generation), mode 0600, atomically,
    only when the file differs; makes its folder (mode 0755) when it is missing. One round trip to the host,
    where a folder task and a copy took three.
  - The generation is the fingerprint of the filter P(wgnet.containers.wg_generation#filter), which reveals no
    secret. C(playbooks/status.yml) reads these records to show the hosts behind the inventory's generation.
  - Used by the P(wgnet.containers.hub#role), P(wgnet.containers.attach#role) and
    P(wgnet.containers.network_driver#role) roles.
author:
  - wgnet.containers maintainers (@wgnet)
attributes:
  check_mode:
    description: Reports whether it would write, and writes nothing.
    support: full
  diff_mode:
    description: Shows the record before and after.
    support: full
options:
  path:
    description: The record on the host.
    type: path
    required: true
  generation:
    description: The key generation the host now runs.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Record the key generation this host's containers now run
  wgnet.containers.wg_generation_record:
    path: /var/lib/wgnet/attach-generation.json
    generation: "{{ wgnet_seed | wgnet.containers.wg_generation(wgnet_additional) }}"
"""

RETURN = r"""
generation:
  description: The generation recorded.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wgnet.containers.plugins.module_utils.common.fileio import read_text, write_atomic
from ansible_collections.wgnet.containers.plugins.module_utils.common.generation import file_mode, MODE, record_text


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type="path", required=True), generation=dict(type="str", required=True)),
        supports_check_mode=True,
    )
    path, generation = module.params["path"], module.params["generation"]
    wanted = record_text(generation)
    before = read_text(path)
    changed = before != wanted or file_mode(path) != MODE
    if changed and not module.check_mode:
        write_atomic(path, wanted, mode=MODE, folder_mode=0o755)
    module.exit_json(changed=changed, generation=generation, diff={"before": before or "", "after": wanted})


if __name__ == "__main__":
    main()
