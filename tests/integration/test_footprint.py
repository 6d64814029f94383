"""The tests write nowhere but the checkout, /var/cache/wgnet-*, /var/lib/docker, /run and /tmp.

In particular nothing goes under ~/.ansible or ~/.cache: a collection installed
there would shadow the checkout (or be replaced by it), and the user's home is
the user's. scripts/env.sh sends ansible-core, Molecule, ansible-lint and pip to
.cache in the checkout. conftest.py runs this test last, so that it sees what
every test before it wrote: any file created or changed since the session began,
in the home folder or the system's folders that hold configuration, programs or
state, is a failure.
"""

import os
import pwd

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOME = pwd.getpwuid(os.getuid()).pw_dir
SCANNED = [HOME, "/etc", "/opt", "/srv", "/usr", "/var"]
ALLOWED = ["/var/lib/docker", "/var/cache/wgnet-images", "/var/cache/wgnet-vm", "/var/run", "/var/lock"]


def allowed(path):
    return any(path == place or path.startswith(place + os.sep) for place in ALLOWED + [REPO])


def written_since(start):
    """Files and links under SCANNED, outside ALLOWED, created or changed since ``start``."""
    found = []
    stack = [place for place in SCANNED if os.path.isdir(place)]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except (PermissionError, FileNotFoundError):
            continue
        for entry in entries:
            if allowed(entry.path):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if max(stat.st_mtime, stat.st_ctime) >= start:
                found.append(entry.path)
    return sorted(found)


PROBE = os.path.join(HOME, ".wgnet-footprint-probe")


@pytest.fixture(scope="module")
def written(session_start):
    """One scan (it reads some 400,000 entries) for both tests below, with a probe written just before it."""
    with open(PROBE, "w") as handle:
        handle.write("probe")
    try:
        return written_since(session_start)
    finally:
        os.unlink(PROBE)


def test_nothing_written_outside_the_allowed_places(written):
    found = [path for path in written if path != PROBE]
    assert not found, "written outside the checkout, /var/cache/wgnet-*, /var/lib/docker, /run and /tmp:\n" + \
        "\n".join(found[:50])


def test_the_scan_sees_a_new_file_in_home(written):
    """The check itself can fail: a file written under the home folder during the session is found."""
    assert PROBE in written


@pytest.mark.parametrize("path", ["/var/lib/docker/x", "/var/cache/wgnet-vm/x", os.path.join(REPO, "x")])
def test_the_allowed_places_are_not_scanned(path):
    assert allowed(path)
