# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of the key generation a host runs: a fingerprint (keys.pool.generation_fingerprint), never a secret.

wg_generation_record writes it; the steps that read a host before a switch (wg_attach_read, wg_hub)
say whether it already holds a generation, so that a run with nothing to change writes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

from ansible_collections.wgnet.containers.plugins.module_utils.common.fileio import read_text

MODE = 0o600


def record_text(generation):
    """The record's bytes (those the roles' copy tasks wrote before, so that an unchanged host stays unchanged)."""
    return json.dumps({"generation": generation}) + "\n"


def file_mode(path):
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def holds(path, generation):
    """Whether ``path`` is the record of ``generation``, with its mode."""
    return read_text(path) == record_text(generation) and file_mode(path) == MODE
