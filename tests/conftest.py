"""pytest setup shared by every test: the collection is importable by its name, in scripts/env.sh's environment.

Under pytest-xdist (`WGNET_TEST_JOBS=2 scripts/test.sh` runs `-n 2`), the tests are split into as
many streams as there are workers, each stream run by one worker in order (pytest_xdist_make_scheduler):
the long tests (BLOCKS) are spread by their known durations, longest first, onto the stream with the
least work so far, and every other test is one block, since those share this machine's network
namespace, links and processes. test_footprint.py is left out of such a run: it must see what every
other test wrote, so scripts/test.sh runs it afterwards, in a session of its own that counts from
when the first one began (WGNET_TEST_SESSION_START).
"""

import os
import time

import pytest
from collection_link import link_collection

link_collection()

SESSION_START = pytest.StashKey[float]()
# Runs after every other test: it checks what they all wrote (test_footprint.py).
LAST = "test_footprint.py"

# The tests that take minutes, as (seconds in a serial CI run, node id suffixes). The tests of one
# block run in one stream, one after the other: list together those that must not run at the same
# time. A new long test (a Molecule scenario) needs only a line here; one left out runs in REST.
BLOCKS = [
    (495, ["test_molecule.py::test_molecule_driver_scenario"]),
    (455, ["test_molecule.py::test_molecule_rotation_scenario"]),
    # The same host names (hub, docker1, docker2), network and seed: never both at once.
    (453, ["test_molecule.py::test_molecule_default_scenario", "test_molecule.py::test_molecule_scale_out_scenario"]),
    (506, ["test_molecule.py::test_molecule_ha_scenario"]),
    (421, ["test_kernel_vm.py::test_kernel_backend_in_the_vm"]),
    (165, ["test_quality.py::test_ansible_test_sanity"]),
    (35, ["test_quality.py::test_ansible_lint"]),
]
# Every other test, unit and integration (about 300 s of the latter, 2026-11-30).
REST = (330, "the other tests")


def pytest_sessionstart(session):
    # A second back: file times on some file systems are rounded down. scripts/test.sh sets
    # WGNET_TEST_SESSION_START when it splits the run in two, so that the second counts from the first.
    start = os.environ.get("WGNET_TEST_SESSION_START")
    session.config.stash[SESSION_START] = (float(start) if start else time.time()) - 1


def xdist_workers(config):
    """The number of pytest-xdist workers of this run (0 without xdist), on a worker or the controller."""
    if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
        return int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    numprocesses = getattr(config.option, "numprocesses", None)
    return numprocesses if isinstance(numprocesses, int) else 0


def block_of(nodeid):
    for index, (_seconds, suffixes) in enumerate(BLOCKS):
        if any(nodeid.endswith(suffix) for suffix in suffixes):
            return index
    return len(BLOCKS)


def plan(blocks, streams):
    """{block index: stream}: longest block first, onto the stream with the least work so far."""
    durations = {index: BLOCKS[index][0] if index < len(BLOCKS) else REST[0] for index in blocks}
    load = [0] * streams
    assigned = {}
    for index in sorted(durations, key=lambda index: (-durations[index], index)):
        stream = load.index(min(load))
        assigned[index] = stream
        load[stream] += durations[index]
    return assigned


def pytest_report_header(config):
    workers = xdist_workers(config)
    if workers < 2:
        return None
    assigned = plan(range(len(BLOCKS) + 1), workers)
    lines = []
    for stream in range(workers):
        names = [("%s (%d s)" % (" + ".join(s.split("::")[-1] for s in BLOCKS[i][1]), BLOCKS[i][0]) if i < len(BLOCKS)
                  else "%s (%d s)" % (REST[1], REST[0])) for i in sorted(assigned) if assigned[i] == stream]
        lines.append("stream %d: %s" % (stream, ", ".join(names)))
    return lines + ["%s: not in this run (it must run after every other test; scripts/test.sh runs it next)" % LAST]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist, whatever --dist says (but `each`): one stream of tests per worker (plan())."""
    if config.getvalue("dist") == "each":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class StreamScheduling(LoadScopeScheduling):
        """xdist's scheduler by scope, where a scope is a stream: each worker gets one and runs it in order.

        (Not the xdist_group marks of `--dist loadgroup`: pytest 9.2 no longer lets xdist 3.8 add the group
        to a test's id, so those marks group nothing.)
        """

        streams = None

        def _split_scope(self, nodeid):
            if self.streams is None:  # self.collection is complete here: the whole run's blocks
                self.streams = plan({block_of(each) for each in self.collection}, xdist_workers(config))
            return "stream%d" % self.streams[block_of(nodeid)]

    return StreamScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    if xdist_workers(config):
        last = [item for item in items if item.fspath.basename == LAST]
        if last:
            items[:] = [item for item in items if item.fspath.basename != LAST]
            config.hook.pytest_deselected(items=last)
    items.sort(key=lambda item: item.fspath.basename == LAST)


@pytest.fixture(scope="session")
def session_start(request):
    """When the test session began (seconds since the epoch)."""
    return request.config.stash[SESSION_START]
