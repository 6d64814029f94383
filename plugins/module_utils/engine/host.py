# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one run shares across interfaces: the host lock, the host's netlink socket, Docker.

The engine reaches namespaces and devices only through Host: a unit test hands it a fake one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import os
import threading
import time

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.common.fileio import RUN_DIR
from ansible_collections.wgnet.containers.plugins.module_utils.device import backends
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import HAS_PYROUTE2, Namespace
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.targets import DockerTargets, netns_target

if HAS_PYROUTE2:
    from pyroute2 import IPRoute

LOCK_PATH = os.path.join(RUN_DIR, "lock")
LOCK_TIMEOUT = 120  # seconds
LOCK_POLL = 0.05


class Host:
    """The host of one run: its lock, its netlink socket, its Docker client; ``check_mode`` changes nothing."""

    def __init__(self, check_mode):
        self.check_mode = check_mode
        self.docker = DockerTargets()
        self._local = threading.local()
        self._iprs = []
        self._backends = {}
        self._backends_lock = threading.Lock()
        self._lock = None

    def lock(self, timeout=LOCK_TIMEOUT):
        """A host-wide lock: two runs at once must not interleave their changes.

        Held only while reading, deciding and changing, never while waiting for a switch signal;
        so a holder never keeps it long, and a wait past ``timeout`` means something is wrong.
        """
        os.makedirs(RUN_DIR, mode=0o755, exist_ok=True)
        handle = open(LOCK_PATH, "a+")
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError):
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    handle.close()
                    raise WgnetError.about("lock", "%s is held by another wgnet run (pid %s) for more than %g s; "
                                                   "nothing was changed. Run again once it ends, or stop it"
                                           % (LOCK_PATH, holder, timeout))
                time.sleep(LOCK_POLL)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock = handle

    def unlock(self):
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @property
    def ipr(self):
        """This thread's netlink socket of the host: a batch works in several threads, a socket serves one."""
        ipr = getattr(self._local, "ipr", None)
        if ipr is None:
            ipr = self._local.ipr = IPRoute()
            self._iprs.append(ipr)
        return ipr

    def target(self, wanted):
        if wanted.container:
            return self.docker.target(wanted.container)
        return netns_target(wanted.netns)

    def namespace(self, path):
        return Namespace(path)

    def backend(self, wanted):
        """The backend that would create ``wanted``'s device, checked to be available; one per choice and run."""
        choice = (wanted.backend, wanted.userspace_binary)
        with self._backends_lock:  # a batch's threads: one probe of the kernel (its test link has one name)
            if choice not in self._backends:
                self._backends[choice] = backends.choose(*choice)
            return self._backends[choice]

    def device(self, ns, target_id, name, kind):
        return backends.find(ns, target_id, name, kind)

    def close(self):
        for ipr in self._iprs:
            ipr.close()
        self.unlock()
