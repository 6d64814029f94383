# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' one bridge to Ansible: failures as fail_json, and missing libraries.

The engine, the device layer and the network driver know nothing of Ansible; only this file,
hostrun and the modules import it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import crypto_available
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import NetlinkError


@contextlib.contextmanager
def reported(module):
    """The one place a failure meant for the user becomes fail_json, with the option at fault."""
    try:
        yield
    except WgnetError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    except NetlinkError as exc:  # the kernel's refusal, in its words
        module.fail_json(msg=str(exc), option=None)


def require_crypto(module):
    if not crypto_available():
        module.fail_json(msg=missing_required_lib("cryptography, or pycryptodome >= 3.21"))
