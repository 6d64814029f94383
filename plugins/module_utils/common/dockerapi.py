# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GETs on the Docker Engine API of this host's daemon, over its local socket, with no client library.

The Docker SDK's import and its requests session cost a module run more than all its lookups. Only the
local socket is accepted: what the modules ask about (a container's namespace) must be on this host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import socket
from http.client import HTTPConnection, HTTPException
from urllib.parse import quote

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError

DOCKER_SOCKET = "unix:///var/run/docker.sock"
DOCKER_TIMEOUT = 60  # seconds for one answer of a busy daemon


def docker_get(path, option="container"):
    """(status, JSON body) of a GET; a connection of its own, so that threads may ask at once.

    ``option`` is what a failure to reach the daemon is reported against.
    """
    address = os.environ.get("DOCKER_HOST") or DOCKER_SOCKET
    if not address.startswith("unix://"):
        raise WgnetError.about(option, "DOCKER_HOST is %s: only the daemon's local socket (unix://...) can be used, "
                                       "as the container's namespace must be on this host" % address)
    connection = _UnixConnection(address[len("unix://"):])
    try:
        connection.request("GET", path)
        reply = connection.getresponse()
        return reply.status, json.loads(reply.read().decode("utf-8") or "{}")
    except (OSError, HTTPException, ValueError) as exc:
        raise WgnetError.about(option, "cannot reach the Docker daemon at %s (%s)" % (address, exc))
    finally:
        connection.close()


def running_with_label(label, option="labels"):
    """The running containers that carry ``label`` (``key=value``): a list of (name, {label: value})."""
    status, found = docker_get("/containers/json?filters=%s" % quote(json.dumps({"label": [label]}), safe=""), option)
    if status != 200:
        raise WgnetError.about(option, "cannot list the containers labelled %s (%s)" % (label, _message(found, status)))
    return [(entry["Names"][0].lstrip("/"), entry.get("Labels") or {}) for entry in found]


def _message(body, status):
    return body.get("message", status) if isinstance(body, dict) else status


class _UnixConnection(HTTPConnection):
    def __init__(self, path):
        HTTPConnection.__init__(self, "localhost", timeout=DOCKER_TIMEOUT)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)
