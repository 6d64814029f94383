# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pool's public keys kept on the controller's disk, so that a hub run need not derive them again.

Each entry is authenticated with a MAC keyed from the seed: a replaced entry is derived again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json
import os

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.common.fileio import write_json
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import pool_fingerprint, pool_hosts

CACHE_MAC_PURPOSE = b"wgnet.containers pool cache entry"


def cached_pool_keys(deriver, pool, exclude, cache_dir):
    """derived_keys of a pool, read from ``cache_dir`` when derived before. Returns (keys, cached).

    An entry is used only if its MAC, keyed from the seed, holds: a replaced or malformed entry is
    derived again and rewritten. The folder must be the user's own and writable by no one else.
    """
    check_private_folder(cache_dir, "cache_dir")
    path = os.path.join(cache_dir, "pool-%s.json" % pool_fingerprint(deriver, pool, exclude))
    mac_key = deriver.mac_key(CACHE_MAC_PURPOSE)
    keys = _read_entry(path, mac_key)
    if keys is not None:
        return keys, True
    keys = deriver.derive_many(pool_hosts(pool, exclude), option="pool")
    write_json(path, {"keys": keys, "mac": _mac(mac_key, keys)})
    return keys, False


def _mac(mac_key, keys):
    return hmac.new(mac_key, json.dumps(keys, sort_keys=True).encode("ascii"), hashlib.sha256).hexdigest()


def _read_entry(path, mac_key):
    """The keys of an entry whose MAC holds; None for one that is missing, malformed or forged."""
    try:
        with open(path) as handle:
            entry = json.load(handle)
        keys, mac = entry["keys"], entry["mac"]
        authentic = hmac.compare_digest(_mac(mac_key, keys), mac)
    except (IOError, OSError, ValueError, KeyError, TypeError):
        return None
    return keys if authentic else None


def check_private_folder(path, option):
    """Make ``path`` 0700, or accept it only when it is the user's own and no one else may write to it."""
    if not os.path.isdir(path):
        if os.path.lexists(path):
            raise WgnetError.about(option, "%s is not a folder" % path)
        os.makedirs(path, mode=0o700)
    info = os.stat(path)
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise WgnetError.about(option, "%s belongs to uid %d with mode %04o; give a folder of your own (uid %d) that "
                               "no one else may write, such as one of mode 0700"
                               % (path, info.st_uid, info.st_mode & 0o7777, os.geteuid()))
