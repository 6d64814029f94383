# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A libnetwork remote network driver: Docker containers whose only network is a WireGuard tunnel.

``docker network create -d wgnet --subnet <slice> -o hub=<name> NET`` and
``docker run --network NET`` give a container one interface, wg0, with the
key of the address Docker's IPAM assigned. The keys come from a 0600 file the
network_driver role writes; the seed never reaches the host.

This file serves the plugin API on a unix socket (and runs a rotation's rekey);
plugin.Driver answers the calls. Run as
``python -m ansible_collections.wgnet.containers.plugins.module_utils.driver.server``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import signal
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.driver.config import CONFIG_PATH
from ansible_collections.wgnet.containers.plugins.module_utils.driver.plugin import PLUGIN_NAME, STATE_PATH, Driver, docker
from ansible_collections.wgnet.containers.plugins.module_utils.driver.rekey import rekey
from ansible_collections.wgnet.containers.plugins.module_utils.keys.alloc import ALLOCATIONS_PATH
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import crypto_available
from ansible_collections.wgnet.containers.plugins.module_utils.namespaces.netns import HAS_PYROUTE2, NetlinkError

SOCKET_PATH = "/run/docker/plugins/%s.sock" % PLUGIN_NAME
CONTENT_TYPE = "application/vnd.docker.plugins.v1+json"
REQUEST_TIMEOUT = 10.0
MAX_REQUEST = 1 << 20  # Docker's requests are a few kilobytes


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Seconds a client may take to send its request: a stalled one must not hold a thread forever.
    timeout = REQUEST_TIMEOUT

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= MAX_REQUEST:
                raise ValueError("Content-Length %d is not between 0 and %d" % (length, MAX_REQUEST))
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                raise ValueError("the body ended after %d of %d bytes" % (len(body), length))
            request = json.loads(body.decode("utf-8")) if body.strip() else {}
            if not isinstance(request, dict):
                raise ValueError("the request body is not a JSON object")
        except ValueError as exc:
            reply = {"Err": "wgnet: bad request (%s)" % exc}
        else:
            reply = self.server.driver.call(self.path.lstrip("/"), request)
        data = json.dumps(reply).encode("utf-8")
        self.send_response(200)  # failures travel as {"Err"}: Docker shows them as they are
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def address_string(self):
        return "docker"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), fmt % args))


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path, driver):
        if os.path.exists(path):
            os.unlink(path)  # left by a driver that did not stop cleanly
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        socketserver.UnixStreamServer.__init__(self, path, Handler)
        os.chmod(path, 0o660)
        self.driver = driver


def missing_libraries():
    """What this interpreter lacks of what Join needs, as one message, or None."""
    missing = [name for name, present in (("pyroute2 >= 0.9", HAS_PYROUTE2),
                                          ("cryptography or pycryptodome >= 3.21", crypto_available()),
                                          ("docker (the Docker SDK)", docker is not None)) if not present]
    if not missing:
        return None
    return ("the Python libraries %s are missing for %s; run the install role and give the driver the interpreter "
            "it records (wgnet_python)" % (", ".join(missing), sys.executable))


def stop(signum, frame):
    """SIGTERM ends serve_forever as Ctrl-C does, so that the socket file is removed."""
    raise KeyboardInterrupt()


def main(argv=None):
    parser = argparse.ArgumentParser(description="wgnet libnetwork remote network driver")
    parser.add_argument("--socket", default=SOCKET_PATH)
    parser.add_argument("--config", default=CONFIG_PATH)
    parser.add_argument("--state", default=STATE_PATH)
    parser.add_argument("--allocations", default=ALLOCATIONS_PATH)
    parser.add_argument("--check", action="store_true", help="check the libraries, print what is missing, exit")
    parser.add_argument("--rekey", metavar="NEW_CONFIG",
                        help="a rotation: switch every joined endpoint to this key file's keys at --switch-signal, "
                             "and make it the key file; without --switch-signal, say how many would change")
    parser.add_argument("--switch-signal", metavar="PATH")
    parser.add_argument("--switch-timeout", type=int, default=300)
    args = parser.parse_args(argv)
    missing = missing_libraries()
    if missing:
        # Never serve Docker without them: every Join would fail on an unexpected error.
        raise SystemExit("wgnet driver: cannot start: %s" % missing)
    if args.check:
        sys.stdout.write("wgnet driver: %s has every library the driver needs\n" % sys.executable)
        return
    if args.rekey:
        try:
            count = rekey(args.config, args.rekey, args.state, args.switch_signal, args.switch_timeout)
        except (WgnetError, NetlinkError, OSError) as exc:
            raise SystemExit("wgnet driver: rekey: %s" % exc)
        sys.stdout.write(json.dumps({"changed": count > 0, "endpoints": count}) + "\n")
        return
    os.umask(0o077)
    signal.signal(signal.SIGTERM, stop)
    plugin = os.path.splitext(os.path.basename(args.socket))[0]  # Docker names the driver after its socket
    server = Server(args.socket, Driver(args.config, args.state, args.allocations, plugin))
    sys.stderr.write("wgnet driver listening on %s\n" % args.socket)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        os.unlink(args.socket)


if __name__ == "__main__":
    main()
