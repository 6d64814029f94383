"""pytest setup shared by every test: the collection is importable by its name, in scripts/env.sh's environment."""

import time

import pytest
from collection_link import link_collection

link_collection()

SESSION_START = pytest.StashKey[float]()
# Runs after every other test: it checks what they all wrote (test_footprint.py).
LAST = "test_footprint.py"


def pytest_sessionstart(session):
    # A second back: file times on some file systems are rounded down.
    session.config.stash[SESSION_START] = time.time() - 1


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.fspath.basename == LAST)


@pytest.fixture
def session_start(request):
    """When the test session began (seconds since the epoch)."""
    return request.config.stash[SESSION_START]
