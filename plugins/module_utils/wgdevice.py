# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WireGuard device backends: kernel (rtnetlink + generic netlink) and userspace (wireguard-go).

Both create the device so that its UDP socket lives in the host's namespace
while the interface itself lives in the target namespace, and both expose a
device with the same get() / apply(fields, operations) over wgconfig's
normal form. Everything above this layer is backend-agnostic.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

from ansible_collections.wgnet.containers.plugins.module_utils import uapi, wggenl
from ansible_collections.wgnet.containers.plugins.module_utils.fileio import write_json
from ansible_collections.wgnet.containers.plugins.module_utils.wgconfig import plan_device
from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.netns import (
    HAS_PYROUTE2,
    NetlinkError,
    netns_identity,
)

if HAS_PYROUTE2:
    from pyroute2 import IPRoute
    from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST

RUN_DIR = "/run/wgnet"
REGISTRY_DIR = os.path.join(RUN_DIR, "userspace")
LOG_DIR = os.path.join(RUN_DIR, "log")
SOCKET_WAIT = 5.0
STOP_WAIT = 3.0


class DeviceError(WgnetError):
    """A failure to name to the user; ``option`` is the option at fault, if any."""

    def __init__(self, message, option=None):
        super(DeviceError, self).__init__(message)
        self.option = option


HOST_TARGET_ID = "host"


def host_side_name(target_id, ifname):
    """A stable, unique 15-character host-side name for (target, interface).

    An interface of the host's own namespace (a hub) keeps its name, so that
    wg(8) and wg-quick see it as usual.
    """
    if target_id == HOST_TARGET_ID:
        return ifname
    return "wgn" + hashlib.sha256(("%s/%s" % (target_id, ifname)).encode()).hexdigest()[:12]


def port_error(fields, code):
    if code == errno.EADDRINUSE and fields.get("listen_port"):
        return DeviceError("listen_port %d is already in use on the host" % fields["listen_port"], "listen_port")
    return None


# Userspace ------------------------------------------------------------------

class UserspaceDevice:
    backend = "userspace"

    def __init__(self, host_name, pid):
        self.host_name = host_name
        self.pid = pid
        self._uapi = uapi.UapiDevice(host_name)

    def get(self):
        return self._uapi.get()

    def apply(self, fields, operations):
        try:
            self._uapi.apply(fields, operations)
        except uapi.UapiError as exc:
            raise port_error(fields, exc.code) or DeviceError("wireguard-go %s: %s" % (self.host_name, exc))


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


class UserspaceBackend:
    name = "userspace"

    def __init__(self, binary):
        self.binary = binary

    def check_available(self):
        path = shutil.which(self.binary)
        if path is None:
            raise DeviceError("userspace_binary: wireguard-go not found at %r; install the wireguard-go package "
                              "or set userspace_binary" % self.binary, "userspace_binary")
        return path

    def find(self, ns, target_id, ifname):
        """The live device of (target, ifname), or None."""
        host_name = host_side_name(target_id, ifname)
        try:
            with open(_record_path(host_name)) as handle:
                record = json.load(handle)
        except (IOError, OSError, ValueError):
            return None
        if record.get("netns_identity") != list(ns.identity) or not _pid_is(record["pid"], host_name):
            return None
        return UserspaceDevice(host_name, record["pid"])

    def create(self, ns, target_id, ifname, config, host_ipr):
        """Start wireguard-go, configure it, move its TUN into ``ns`` as ``ifname``.

        On any failure the process is stopped and nothing is left behind.
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
        device = UserspaceDevice(host_name, process.pid)
        try:
            self._wait_for_socket(process, device, log_path)
            device.apply(*plan_device({"peers": {}}, config))
            if host_name != ifname:
                index = host_ipr.link_lookup(ifname=host_name)[0]
                # One message moves the TUN into the namespace and renames it there.
                host_ipr.link("set", index=index, net_ns_fd=ns.fd, ifname=ifname)
            # A hub's namespace is the one its process runs in: its record follows the process.
            netns = "/proc/%d/ns/net" % process.pid if target_id == HOST_TARGET_ID else ns.path
            _write_record({"host_name": host_name, "pid": process.pid, "ifname": ifname, "target_id": target_id,
                           "netns": netns, "netns_identity": list(ns.identity)})
        except Exception:
            stop_process(host_name, process.pid)
            raise
        return device

    @staticmethod
    def _wait_for_socket(process, device, log_path):
        """Wait until the UAPI socket answers: its file appears before it listens."""
        deadline = time.time() + SOCKET_WAIT
        while True:
            try:
                return device.get()
            except uapi.UapiError:
                if process.poll() is not None or time.time() > deadline:
                    with open(log_path) as handle:
                        tail = handle.read()[-500:].strip()
                    raise DeviceError("wireguard-go %s did not start: %s" % (device.host_name, tail or "no answer"))
            time.sleep(0.005)

    @staticmethod
    def delete(ns, device, ifname):
        # The TUN is not persistent: it goes away with the process's file descriptor.
        stop_process(device.host_name, device.pid)
        link = ns.link(ifname)
        if link:
            ns.delete_link(link["index"])


# Kernel ---------------------------------------------------------------------

class KernelDevice:
    backend = "kernel"
    host_name = None
    pid = None

    def __init__(self, ns, ifname):
        self.ifname = ifname
        self._wg = ns.wireguard()

    def get(self):
        # A device with many peers comes back as several messages (a netlink dump).
        return wggenl.parse_device(self._wg.info(self.ifname))

    def apply(self, fields, operations):
        """Send the plan in as few messages as wggenl packs it into, each acknowledged before the next."""
        try:
            for attr_chain in wggenl.set_device_messages(self.ifname, fields, operations):
                tuple(self._wg.nlm_request(wggenl.SetDeviceMessage(attr_chain), msg_type=self._wg.prid,
                                           msg_flags=NLM_F_REQUEST | NLM_F_ACK))
        except NetlinkError as exc:
            raise port_error(fields, exc.code) or DeviceError("kernel WireGuard %s: %s" % (self.ifname, exc))


_PROBED = {}


def kernel_supports_wireguard():
    """Does `ip link add type wireguard` work here? Probed with a throwaway link, once per run.

    Each probe is a link made and deleted in the host's namespace: an event for
    whatever watches its links, and an RCU grace period for the kernel.
    """
    if "wireguard" not in _PROBED:
        name = "wgnprobe%d" % (os.getpid() % 10000000)
        with IPRoute() as ipr:
            try:
                ipr.link("add", ifname=name, kind="wireguard")
                _PROBED["wireguard"] = True
            except NetlinkError:
                _PROBED["wireguard"] = False
            else:
                ipr.link("del", ifname=name)
    return _PROBED["wireguard"]


class KernelBackend:
    name = "kernel"

    @staticmethod
    def check_available():
        if not kernel_supports_wireguard():
            raise DeviceError("backend: kernel was requested but this host's kernel has no WireGuard support "
                              "(modprobe wireguard, or use backend: userspace)", "backend")

    @staticmethod
    def find(ns, ifname):
        return KernelDevice(ns, ifname)

    @staticmethod
    def create(ns, ifname, config, host_ipr):
        """Create the link from the host straight into ``ns`` and configure it.

        The link is born in the target namespace (IFLA_NET_NS_FD in the
        RTM_NEWLINK), so it never exists in the host's, while its UDP socket
        belongs to the host's namespace, where the request came from.
        """
        host_ipr.link("add", ifname=ifname, kind="wireguard", net_ns_fd=ns.fd)
        try:
            device = KernelDevice(ns, ifname)
            fields, operations = plan_device({"peers": {}}, config)
            device.apply(fields, operations)
            # The kernel binds the UDP socket when the link comes up, not when the
            # port is set: up it goes here, so that a port in use fails here, by name.
            try:
                ns.set_link(ns.link(ifname)["index"], state="up")
            except NetlinkError as exc:
                raise port_error(fields, exc.code) or DeviceError("kernel WireGuard %s: %s" % (ifname, exc))
        except Exception:
            link = ns.link(ifname)
            if link:
                ns.delete_link(link["index"])
            raise
        return device

    @staticmethod
    def delete(ns, device, ifname):
        link = ns.link(ifname)
        if link:
            ns.delete_link(link["index"])
