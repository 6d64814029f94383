"""Make the checkout importable as ansible_collections.wgnet.containers.

The repo root is the collection root, so a symlink under .cache gives Python
and ansible-core the path layout they expect, without a copy.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".cache", "collections")


def link_collection():
    """Create the link, put it on sys.path and in ANSIBLE_COLLECTIONS_PATH."""
    parent = os.path.join(COLLECTIONS, "ansible_collections", "wgnet")
    os.makedirs(parent, exist_ok=True)
    link = os.path.join(parent, "containers")
    if os.path.realpath(link) != REPO:
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(REPO, link)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS
    return COLLECTIONS
