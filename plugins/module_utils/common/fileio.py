# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files that survive a crash: written whole or not at all, with their mode from the first byte."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

# Runtime state of this host, gone at reboot like the interfaces it describes: the host lock,
# wireguard-go's registry and logs.
RUN_DIR = "/run/wgnet"


def read_text(path):
    """The text of ``path``, or None when it cannot be read."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_atomic(path, content, mode=0o600, folder_mode=0o700):
    """Write the text ``content`` to ``path``, atomically and durably.

    A temporary file beside it gets ``mode`` before any byte, is written and
    fsynced, then renamed over ``path``, and the folder is fsynced: after a crash
    the file is the old one or the new one, never a part of either. A missing
    folder is made with ``folder_mode``.
    """
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        os.makedirs(folder, mode=folder_mode)
    fd, temp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    folder_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_fd)
    finally:
        os.close(folder_fd)


def write_json(path, data, mode=0o600, folder_mode=0o700):
    """``write_atomic`` of ``data`` as JSON."""
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True) + "\n", mode, folder_mode)
