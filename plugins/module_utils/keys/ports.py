# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Derived container endpoints, for a hub pair (docs/high-availability.md).

A hub that takes over has no session with any container, and WireGuard gives it nothing to answer:
it must start the handshakes itself, so it must know where every container listens. Each container
therefore listens on a port derived from its address (``base`` + the address's offset in the pool),
on the Docker host that owns the address's slice; both hubs write the same endpoints from the inventory
(engine.hub.endpoint_table).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import parse_address
from ansible_collections.wgnet.containers.plugins.module_utils.keys.pool import parse_pool

MAX_PORT = 65535


def check_port_base(pool, base, option="wgnet_container_port_base"):
    """The pool's first network, once ``base`` is known to give every address of it a port."""
    network = parse_pool(pool, "wgnet_pool")
    if isinstance(base, bool) or not isinstance(base, int) or base < 1:
        raise WgnetError.about(option, "%r is not a port number" % (base,))
    last = base + network.num_addresses - 1
    if last > MAX_PORT:
        raise WgnetError.about(option, "%d leaves no port for the %d addresses of %s (the last would be %d, above %d); "
                               "lower it, or use a smaller pool" % (base, network.num_addresses, network, last, MAX_PORT))
    return network


def container_port(address, pool, base, option="wgnet_container_port_base"):
    """The UDP port the container with ``address`` listens on: ``base`` + the address's offset in ``pool``."""
    network = check_port_base(pool, base, option)
    parsed = parse_address(address)
    if parsed not in network:
        raise WgnetError.about("address", "%s is not in the pool %s" % (parsed, network))
    return base + int(parsed) - int(network.network_address)
