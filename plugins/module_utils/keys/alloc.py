# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of a Docker host's tunnel addresses, shared by the attach role and the network driver.

Both read and write /var/lib/wgnet/allocations.json under one lock, so that
an address is never given twice on a host, whichever of them gives it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import os

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.common.fileio import write_json

ALLOCATIONS_PATH = "/var/lib/wgnet/allocations.json"
# The network driver records its endpoints' addresses as DRIVER_OWNER + endpoint id.
DRIVER_OWNER = "wgnet-driver:"


def empty():
    return {"allocations": {}, "attached": []}


def owner_name(owner):
    """An owner of the record as a message names it."""
    if owner.startswith(DRIVER_OWNER):
        return "the network driver's endpoint %s" % owner[len(DRIVER_OWNER):][:12]
    return "the container %s" % owner


def parse_record(text, path):
    """The record of the JSON ``text`` read from ``path`` (named in errors); an empty one for None (no file)."""
    if text is None:
        return empty()
    try:
        record = json.loads(text)
    except ValueError:
        raise WgnetError("state_path: %s is not valid JSON; fix or remove it" % path)
    if not (isinstance(record, dict) and isinstance(record.get("allocations", {}), dict)
            and isinstance(record.get("attached", []), list)):
        raise WgnetError("state_path: %s is not an allocations record ({\"allocations\": {name: address}, "
                         "\"attached\": [name]}); fix or remove it" % path)
    return dict(empty(), **record)


class Allocations:
    """``with Allocations(path) as record:`` holds the lock while reading and writing the record.

    ``create``: make the record's folder, so that the lock is taken even before anything was
    recorded; a check-mode run passes False and, where there is no folder, reads an empty record
    and may not write.
    """

    def __init__(self, path=ALLOCATIONS_PATH, create=True):
        self.path = path
        self.create = create
        self._lock = None

    def __enter__(self):
        folder = os.path.dirname(self.path)
        if self.create and not os.path.isdir(folder):
            os.makedirs(folder, mode=0o755)
        if os.path.isdir(folder):
            self._lock = open(self.path + ".lock", "a")
            fcntl.flock(self._lock, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info):
        if self._lock is not None:
            self._lock.close()

    def read(self):
        """The record: {"allocations": {owner: address}, "attached": [names]}; an empty one if there is none."""
        try:
            with open(self.path) as handle:
                return parse_record(handle.read(), self.path)
        except (IOError, OSError):
            return empty()

    def write(self, record):
        if self._lock is None:
            raise WgnetError("state_path: %s cannot be written without its lock (a check-mode record)" % self.path)
        write_json(self.path, record)
