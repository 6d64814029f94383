# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The userspace backend: a wireguard-go process per interface, configured through its UAPI socket.

The process runs on the host, so its UDP socket is the host's; its TUN is moved into the target
namespace. A registry under /run/wgnet finds each process again across module runs.
Reached only through device.backends, which chooses between this and the kernel backend.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.common.fileio import RUN_DIR, read_text, write_json
from ansible_collections.wgnet.containers.plugins.module_utils.device import uapi
from ansible_collections.wgnet.containers.plugins.module_utils.device.config import plan_device
from ansible_collections.wgnet.containers.plugins.module_utils.device.kernel import port_error
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import move_link, netns_identity
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.targets import HOST_TARGET_ID

NAME = "userspace"
REGISTRY_DIR = os.path.join(RUN_DIR, "userspace")
LOG_DIR = os.path.join(RUN_DIR, "log")
SOCKET_WAIT = 5.0
STOP_WAIT = 3.0
INOTIFY_LIMIT = "/proc/sys/fs/inotify/max_user_instances"


def host_side_name(target_id, ifname):
    """A stable, unique 15-character host-side name for (target, interface).

    An interface of the host's own namespace (a hub) keeps its name, so that
    wg(8) and wg-quick see it as usual.
    """
    if target_id == HOST_TARGET_ID:
        return ifname
    return "wgn" + hashlib.sha256(("%s/%s" % (target_id, ifname)).encode()).hexdigest()[:12]


class UserspaceDevice:
    backend = NAME

    def __init__(self, ns, ifname, host_name, pid):
        self.ns, self.ifname = ns, ifname
        self.host_name, self.pid = host_name, pid
        self._uapi = uapi.UapiDevice(host_name)

    def get(self):
        try:
            return self._uapi.get()
        except uapi.UapiError as exc:
            raise WgnetError("wireguard-go %s: %s" % (self.host_name, exc))

    def apply(self, fields, operations):
        try:
            self._uapi.apply(fields, operations)
        except uapi.UapiError as exc:
            raise port_error(fields, exc.code) or WgnetError("wireguard-go %s: %s" % (self.host_name, exc))

    def delete(self):
        # The TUN is not persistent: it goes away with the process's file descriptor.
        stop_process(self.host_name, self.pid)
        link = self.ns.link(self.ifname)
        if link:
            self.ns.delete_link(link["index"])


def find(ns, target_id, ifname):
    """The live wireguard-go device of (target, ifname) whose record says it serves ``ns``, or None."""
    host_name = host_side_name(target_id, ifname)
    try:
        with open(_record_path(host_name)) as handle:
            record = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    if record.get("netns_identity") != list(ns.identity) or not _pid_is(record["pid"], host_name):
        return None
    return UserspaceDevice(ns, ifname, host_name, record["pid"])


class UserspaceBackend:
    name = NAME

    def __init__(self, binary):
        self.binary = binary

    def check_available(self):
        path = shutil.which(self.binary)
        if path is None:
            raise WgnetError.about("userspace_binary", "wireguard-go not found at %r; install the wireguard-go "
                                                       "package or set userspace_binary" % self.binary)
        return path

    def create(self, ns, target_id, ifname, config, host_ipr):
        """Start wireguard-go, configure it, move its TUN into ``ns`` as ``ifname``.

        On any failure the process is stopped and nothing is left behind. The move goes through a
        socket of this thread's own (``host_ipr`` is the kernel backend's): a batch creates in threads.
        """
        binary = self.check_available()
        host_name = host_side_name(target_id, ifname)
        stop_process(host_name, None)  # a stale socket would shadow the new one
        os.makedirs(LOG_DIR, mode=0o700, exist_ok=True)
        log_path = os.path.join(LOG_DIR, host_name + ".log")
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            # A session of its own: the process outlives this module run and
            # its connection; it is found again through the registry.
            process = subprocess.Popen([binary, "-f", host_name], stdin=subprocess.DEVNULL, stdout=log_fd,
                                       stderr=subprocess.STDOUT, close_fds=True, start_new_session=True,
                                       env=dict(os.environ, LOG_LEVEL="error"))
        finally:
            os.close(log_fd)
        device = UserspaceDevice(ns, ifname, host_name, process.pid)
        try:
            _wait_for_socket(process, device, log_path)
            device.apply(*plan_device({"peers": {}}, config))
            if host_name != ifname:
                move_link(host_name, ns, ifname)
            # A hub's namespace is the one its process runs in: its record follows the process.
            netns = "/proc/%d/ns/net" % process.pid if target_id == HOST_TARGET_ID else ns.path
            _write_record({"host_name": host_name, "pid": process.pid, "ifname": ifname, "target_id": target_id,
                           "netns": netns, "netns_identity": list(ns.identity)})
        except Exception:
            stop_process(host_name, process.pid)
            raise
        return device


def _wait_for_socket(process, device, log_path):
    """Wait until the UAPI socket answers: its file appears before it listens."""
    deadline = time.time() + SOCKET_WAIT
    while True:
        try:
            return device.get()
        except WgnetError:
            if process.poll() is not None or time.time() > deadline:
                with open(log_path) as handle:
                    tail = handle.read()[-500:].strip()
                raise start_failure(device.host_name, tail)
        time.sleep(0.005)


def start_failure(host_name, tail, limit_path=INOTIFY_LIMIT):
    """Why a wireguard-go did not start, from the end of its log; the inotify limit named when it was hit."""
    message = "wireguard-go %s did not start: %s" % (host_name, tail or "no answer")
    if "too many open files" in tail.lower():
        # Its UAPI listener takes an inotify instance: past the user's limit, inotify_init fails with EMFILE.
        limit = (read_text(limit_path) or "?").strip()
        message += (". Each wireguard-go takes one inotify instance, and fs.inotify.max_user_instances (%s) is used "
                    "up: raise it (the install role's install_inotify_instances, or sysctl -w "
                    "fs.inotify.max_user_instances=4096)" % limit)
    return WgnetError(message)


# The registry ------------------------------------------------------------------------

def _pid_is(pid, host_name):
    """Is ``pid`` a live (not zombie) wireguard-go serving ``host_name``?"""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().split(b"\0")
        with open("/proc/%d/stat" % pid) as handle:
            state = handle.read().rpartition(")")[2].split()[0]
    except (IOError, OSError):
        return False
    return state != "Z" and host_name.encode() in argv


def _record_path(host_name):
    return os.path.join(REGISTRY_DIR, host_name + ".json")


def load_records():
    try:
        names = sorted(os.listdir(REGISTRY_DIR))
    except OSError:
        return []
    records = []
    for name in names:
        try:
            with open(os.path.join(REGISTRY_DIR, name)) as handle:
                records.append(json.load(handle))
        except (IOError, OSError, ValueError):
            continue
    return records


def _write_record(record):
    write_json(_record_path(record["host_name"]), record, folder_mode=0o755)


def _namespace_matches(record):
    try:
        return list(netns_identity(record["netns"])) == list(record["netns_identity"])
    except OSError:
        return False


def stop_process(host_name, pid):
    """Stop a wireguard-go and forget it; its interface goes with it."""
    if pid and _pid_is(pid, host_name):
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + STOP_WAIT
        while _pid_is(pid, host_name) and time.time() < deadline:
            _reap_child(pid)
            time.sleep(0.02)
        if _pid_is(pid, host_name):
            os.kill(pid, signal.SIGKILL)
        _reap_child(pid)
    for path in (_record_path(host_name), uapi.socket_path(host_name)):
        try:
            os.unlink(path)
        except OSError:
            pass


def _reap_child(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def reap_userspace(check_mode=False):
    """Forget dead wireguard-go processes; stop live ones whose namespace is gone.

    Returns the host-side names of the live processes stopped (or that would
    be, in check mode): those are changes. Forgetting a dead one is not.
    """
    stopped = []
    for record in load_records():
        alive = _pid_is(record["pid"], record["host_name"])
        if alive and _namespace_matches(record):
            continue
        if alive:
            stopped.append(record["host_name"])
        if not check_mode:
            stop_process(record["host_name"], record["pid"] if alive else None)
    return stopped
