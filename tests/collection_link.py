"""Run in the environment of scripts/env.sh, with the checkout importable as ansible_collections.wgnet.containers.

The repo root is the collection root, so a symlink under .cache gives Python
and ansible-core the path layout they expect, without a copy. scripts/env.sh
makes that link and keeps ansible-core, Molecule and pip out of the user's
home; the tests, the benchmarks and the shell scripts all take it from there.
"""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".cache", "collections")


def script_environment():
    """The variables scripts/env.sh sets or changes, as a dict."""
    script = 'env -0; printf "\\1"; . "$1" && env -0'
    before, after = subprocess.run(["bash", "-c", script, "env.sh", os.path.join(REPO, "scripts", "env.sh")],
                                   check=True, capture_output=True).stdout.split(b"\1")

    def parse(listing):
        return dict(entry.decode().split("=", 1) for entry in listing.split(b"\0") if entry)

    before, after = parse(before), parse(after)
    return {name: value for name, value in after.items() if before.get(name) != value and name != "_"}


def link_collection():
    """Take scripts/env.sh's environment (it links the checkout) and put the collections on sys.path."""
    os.environ.update(script_environment())
    assert os.environ["ANSIBLE_COLLECTIONS_PATH"] == COLLECTIONS, os.environ["ANSIBLE_COLLECTIONS_PATH"]
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)
    return COLLECTIONS
