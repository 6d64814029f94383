# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The interface modules' adapter over the engine: one run on this host, under its lock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.wgnet.containers.plugins.module_utils.adapters import reported, require_crypto
from ansible_collections.wgnet.containers.plugins.module_utils.device.backends import reap_userspace
from ansible_collections.wgnet.containers.plugins.module_utils.engine.host import Host
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import HAS_PYROUTE2


def run_on_host(module, work):
    """Run ``work(host)`` under the host lock, after reaping; returns its result with ``reaped``."""
    if not HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib("pyroute2"))
    require_crypto(module)
    host = Host(module.check_mode)
    try:
        with reported(module):
            host.lock()
            reaped = reap_userspace(module.check_mode)
            result = work(host)
    finally:
        host.close()
    result["reaped"] = reaped
    result["changed"] = result["changed"] or bool(reaped)
    return result
