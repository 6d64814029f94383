# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many interfaces of one host in one run: all read and decided first, then all changed, so that a host's
containers switch (to new keys, say) within moments of each other.

Both steps run in a few threads: an interface's time is mostly waiting (Docker's answer, wireguard-go's,
the kernel's move of a link between namespaces, which takes milliseconds under its lock), and the
threads overlap one interface's wait with another's Python. Each interface has its own namespace
sockets and Docker connection; what the threads share (the backends, and the host's netlink socket,
one per thread) is made for it in engine.host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.engine.interface import apply_plan, plan_interface
from ansible_collections.wgnet.containers.plugins.module_utils.engine.spec import labelled
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.targets import BATCH_THREADS

SIGNAL_POLL = 0.02  # seconds between looks at a switch signal: the outage it may add
OTHER_OPEN_FILES = 256  # besides the plans' namespaces: Docker client, lock, wireguard-go sockets


def reconcile_many(host, wanted, before_changes=None):
    """Reconcile a list of Wanted interfaces; a failure names its element.

    ``before_changes()``, when given, runs between deciding and changing, and only when there is a
    change. One interface that fails is put back and does not hold back the others.
    """
    _refuse_repeats(wanted)
    _room_for_open_namespaces(len(wanted))
    plans = []
    try:
        plans = _plan_all(host, wanted)
        if before_changes is not None and any(p.result is None for p in plans):
            # Wait without the host lock (a container start through the network driver needs it),
            # then read and decide again: another run may have changed something meanwhile.
            host.unlock()
            before_changes()
            host.lock()
            _close(plans)
            plans = _plan_all(host, wanted)
        # One that fails (and is put back) must not hold back the others: a rotation's hub has switched.
        outcomes = _in_threads(lambda index: apply_plan(host, plans[index]), wanted)
        failures = [o for o in outcomes if isinstance(o, Exception)]
        unforeseen = [f for f in failures if not isinstance(f, WgnetError)]
        if unforeseen:
            raise unforeseen[0]
        results = [o for o in outcomes if not isinstance(o, Exception)]
    finally:
        _close(plans)
    if failures:
        raise WgnetError("%s; the other %d interfaces were changed as planned"
                         % ("; ".join(str(f) for f in failures), len(results)), failures[0].option)
    return _report(wanted, results)


def _plan_all(host, wanted):
    """Every interface's plan; the first failure (by index) fails them all, with every plan closed."""
    plans = _in_threads(lambda index: plan_interface(host, wanted[index]), wanted)
    failures = [p for p in plans if isinstance(p, Exception)]
    if failures:
        _close([p for p in plans if not isinstance(p, Exception)])
        raise failures[0]
    return plans


def _in_threads(work, wanted):
    """``work(index)`` for each interface, in threads: its result, or what it raised (a WgnetError names
    its element). Every interface's work is done before this returns."""
    def one(index):
        try:
            with labelled(index, wanted[index].label):
                return work(index)
        except Exception as exc:  # handed back in its place: the caller decides, once every thread is done
            return exc
    with ThreadPoolExecutor(BATCH_THREADS) as pool:
        return list(pool.map(one, range(len(wanted))))


def _close(plans):
    for plan in plans:
        plan.close()


def _report(wanted, results):
    before, after, report = {}, {}, []
    for one, result in zip(wanted, results):
        if result["changed"]:
            before[one.label], after[one.label] = result["diff"]["before"], result["diff"]["after"]
        report.append({"container": one.container, "netns": one.netns, "name": one.name,
                       "changed": result["changed"], "changes": result["changes"],
                       "interface": result["interface"]})
    return {"changed": any(r["changed"] for r in report), "results": report,
            "diff": {"before": before, "after": after}}


def _refuse_repeats(wanted):
    """One interface given twice would be planned twice, and the second plan would meet the first's change."""
    seen = {}
    for index, one in enumerate(wanted):
        key = (one.container or one.netns, one.name)
        if key in seen:
            raise WgnetError("interfaces[%d] (%s): the same interface as interfaces[%d]; give each once"
                             % (index, one.label, seen[key]), "interfaces[%d]" % index)
        seen[key] = index


def _room_for_open_namespaces(count):
    """Each plan keeps its namespace and a netlink socket open until the switch: allow that many files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * count + OTHER_OPEN_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))


def wait_for_signal(path, timeout):
    """Wait until ``path`` says switch (return) or abort (WgnetError); remove it after reading."""
    deadline = time.monotonic() + timeout
    word = ""
    while time.monotonic() < deadline:
        try:
            with open(path) as handle:
                word = handle.read().strip()
        except IOError:
            word = ""
        if word == "switch" or word.startswith("abort"):
            os.unlink(path)
            if word == "switch":
                return
            raise WgnetError.about("switch_signal", "%s says %s; nothing was changed" % (path, word))
        time.sleep(SIGNAL_POLL)
    raise WgnetError.about("switch_signal", "%s did not say switch or abort within %d s (it holds %r); nothing was "
                                            "changed" % (path, timeout, word))
