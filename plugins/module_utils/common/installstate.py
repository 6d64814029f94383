# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the install role leaves on a host, recorded once, so that a later run checks it in one step.

The record (a local fact file, JSON) holds the interpreter and backend the role chose, a fingerprint of
the role's inputs, and the live inotify limit it left where wireguard-go runs. A host matches its record
while the inputs are the same and what the role made is still there: the interpreter with every library
new enough, the commands, and the kernel module or the inotify limit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

# Prints {"name": "version" or null} for the distributions named as arguments, as the interpreter
# running it sees them. Python 3.6 has no importlib.metadata.
VERSIONS_SCRIPT = """
import json, sys
try:
    from importlib.metadata import version, PackageNotFoundError
except ImportError:
    import pkg_resources
    PackageNotFoundError = pkg_resources.DistributionNotFound
    def version(name):
        return pkg_resources.get_distribution(name).version
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = version(name)
    except PackageNotFoundError:
        found[name] = None
print(json.dumps(found))
"""


def fingerprint(inputs):
    """A stable digest of the role's inputs (plain data), so that the record holds none of them."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def release(version):
    """The leading numeric release of a version, as a tuple: 3.21.0rc1 gives (3, 21, 0)."""
    match = re.match(r"[0-9]+(?:\.[0-9]+)*", version.strip())
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def too_old(found, minimum):
    """Whether the version ``found`` (None when missing) is older than ``minimum``."""
    return not found or release(found) < release(minimum)


def missing_libraries(libraries, versions):
    """Names of the libraries ({name, min_version}) that ``versions`` ({name: version or None}) lacks or has too old."""
    return [lib["name"] for lib in libraries if too_old(versions.get(lib["name"]), lib["min_version"])]


def commands_needed(backend):
    """The commands the role installs for ``backend`` (kernel or userspace)."""
    return ["wg", "ip"] + (["wireguard-go"] if backend == "userspace" else [])


def parse_record(text):
    """The record as a dict, or None when there is none or it is not one the role wrote."""
    try:
        record = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(record, dict) or not all(record.get(key) for key in ("python", "backend", "inputs")):
        return None
    return record


def make_record(python, backend, inputs, inotify):
    """What the role records: ``inotify`` is the live limit it left where wireguard-go runs, else None."""
    return {"python": python, "backend": backend, "inputs": fingerprint(inputs),
            "inotify": inotify if backend == "userspace" else None}


def mismatch(record, inputs, libraries, live):
    """Why the host no longer matches ``record`` ('' when it does).

    ``live`` is what the host shows now: ``versions`` ({name: version or None}) of the recorded
    interpreter, ``commands`` ({name: found}), ``inotify`` (the limit) and ``kernel_module`` (loaded).
    """
    if record is None:
        return "no record of an earlier run"
    if record["inputs"] != fingerprint(inputs):
        return "the role's inputs changed"
    missing = missing_libraries(libraries, live["versions"])
    if missing:
        return "%s lacks %s or has it too old" % (record["python"], ", ".join(missing))
    absent = [name for name in commands_needed(record["backend"]) if not live["commands"].get(name)]
    if absent:
        return "missing command: %s" % ", ".join(absent)
    if record["backend"] == "kernel" and not live["kernel_module"]:
        return "the wireguard kernel module is not loaded"
    if record.get("inotify") is not None and (live["inotify"] or 0) < record["inotify"]:
        return "fs.inotify.max_user_instances is lower than the role left it"
    return ""
