#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: wg_install_state
short_description: Read, check and record what the install role leaves on a host
version_added: 0.1.0
description:
  - Used by the P(wgnet.containers.install#role) role, so that a run with nothing to install costs one task.
  - O(state=read) returns the versions of O(libraries) that the interpreter O(python) has.
  - O(state=check) tells whether the host still matches the role's record at O(path) (RV(matches)) and, when
    it does not, why (RV(reason)). It matches while the role's O(inputs) are the same as when it was written,
    and what the role made is still there, as the host shows it now. That is, the recorded interpreter with
    every library of O(libraries) new enough, C(wg) and C(ip) (and C(wireguard-go) for the userspace
    backend), the loaded C(wireguard) kernel module for the kernel backend, and an inotify limit no lower
    than the role left it for the userspace backend. Changes nothing. Also returns the fact C(service_mgr),
    the one fact the collection's roles read when the play gathers none.
  - O(state=record) writes the record, the local fact C(ansible_local.wgnet) that C(playbooks/rotate.yml)
    reads. It holds the interpreter, the backend, a digest of O(inputs) (none of their values) and the live
    inotify limit.
author:
  - wgnet.containers maintainers (@wgnet)
attributes:
  check_mode:
    description: O(state=record) reports whether it would write and writes nothing; the other states only read.
    support: full
  diff_mode:
    description: None.
    support: none
options:
  state:
    description: What to do.
    type: str
    choices: [read, check, record]
    default: check
  path:
    description: The record.
    type: path
    default: /etc/ansible/facts.d/wgnet.fact
  inputs:
    description:
      - What the role's outcome depends on (its options, and a version of what it installs). A record made
        with other inputs does not match. With O(state=check) and O(state=record).
    type: dict
    default: {}
  libraries:
    description: The Python libraries the modules need, by their name on PyPI, with the oldest usable version.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name on PyPI.
        type: str
        required: true
      min_version:
        description: Oldest usable version.
        type: str
        required: true
  python:
    description:
      - With O(state=read), the interpreter whose libraries are read. With O(state=record), the interpreter
        the role chose for the collection's modules.
    type: path
  backend:
    description: With O(state=record), the backend the role detected.
    type: str
    choices: [kernel, userspace]
"""

EXAMPLES = r"""
- name: Check whether this host still is as the install role left it
  wgnet.containers.wg_install_state:
    inputs: {backend: auto, libraries: [{name: pyroute2, min_version: "0.9"}]}
    libraries: [{name: pyroute2, min_version: "0.9"}]
  register: install_state
"""

RETURN = r"""
versions:
  description: The version of each of O(libraries) the interpreter has, null where it has none (O(state=read) and O(state=check)).
  returned: success
  type: dict
  sample: {pyroute2: 0.9.7, docker: null}
matches:
  description: Whether the host still matches the record (O(state=check)).
  returned: success
  type: bool
reason:
  description: Why it does not match, empty when it does (O(state=check)).
  returned: success
  type: str
python:
  description: The recorded interpreter (O(state=check), when there is a record).
  returned: success
  type: str
backend:
  description: The recorded backend (O(state=check), when there is a record).
  returned: success
  type: str
"""

import json
import os
import platform

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.facts.system.service_mgr import ServiceMgrFactCollector

from ansible_collections.wgnet.containers.plugins.module_utils.common import installstate
from ansible_collections.wgnet.containers.plugins.module_utils.common.fileio import read_text, write_atomic

INOTIFY = "/proc/sys/fs/inotify/max_user_instances"


def library_versions(module, python, libraries):
    """{name: version or None} as ``python`` sees them; every one None when it cannot run."""
    names = [lib["name"] for lib in libraries]
    if not python or not os.access(python, os.X_OK):
        return dict.fromkeys(names)
    rc, out, _err = module.run_command([python, "-c", installstate.VERSIONS_SCRIPT] + names)
    try:
        return json.loads(out) if rc == 0 else dict.fromkeys(names)
    except ValueError:
        return dict.fromkeys(names)


def inotify_limit():
    text = read_text(INOTIFY)
    return int(text) if text and text.strip().isdigit() else None


def live_state(module, record, libraries):
    """What the host shows now of what ``record`` says the role made (see installstate.mismatch)."""
    return {"versions": library_versions(module, record["python"], libraries),
            "commands": dict((name, bool(module.get_bin_path(name))) for name in installstate.commands_needed(record["backend"])),
            "inotify": inotify_limit(), "kernel_module": os.path.isdir("/sys/module/wireguard")}


def check(module, params):
    record = installstate.parse_record(read_text(params["path"]))
    live = live_state(module, record, params["libraries"]) if record else None
    reason = installstate.mismatch(record, params["inputs"], params["libraries"], live)
    facts = ServiceMgrFactCollector().collect(module=module, collected_facts={"ansible_system": platform.system()})
    return {"matches": not reason, "reason": reason, "versions": live["versions"] if live else {},
            "python": (record or {}).get("python", ""), "backend": (record or {}).get("backend", ""), "ansible_facts": facts}


def record(module, params):
    for option in ("python", "backend"):
        if not params[option]:
            module.fail_json(msg="%s is required with state=record" % option)
    wanted = installstate.make_record(params["python"], params["backend"], params["inputs"], inotify_limit())
    changed = installstate.parse_record(read_text(params["path"])) != wanted
    if changed and not module.check_mode:
        # Local facts are read by any user that runs Ansible here, and hold no secret.
        write_atomic(params["path"], json.dumps(wanted, indent=1, sort_keys=True) + "\n", mode=0o644, folder_mode=0o755)
    return {"changed": changed}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["read", "check", "record"], default="check"),
            path=dict(type="path", default="/etc/ansible/facts.d/wgnet.fact"),
            inputs=dict(type="dict", default={}),
            libraries=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), min_version=dict(type="str", required=True))),
            python=dict(type="path"),
            backend=dict(type="str", choices=["kernel", "userspace"]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["state"] == "read":
        result = {"versions": library_versions(module, params["python"], params["libraries"])}
    elif params["state"] == "check":
        result = check(module, params)
    else:
        result = record(module, params)
    module.exit_json(changed=result.pop("changed", False), **result)


if __name__ == "__main__":
    main()
