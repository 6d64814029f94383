# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wg-quick(8) configuration file of an interface, written from the same desired state as the
live interface, so that what comes up at boot is what the last run applied."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

HEADER = ("# Managed by wgnet.containers: the live interface and this file are kept the same.\n"
          "# Changes here are overwritten by the next run.\n")


def render(desired):
    """wg-quick text for spec.desired_state()'s result; holds the private key."""
    device, link = desired["device"], desired["link"]
    lines = [HEADER.rstrip("\n"), "[Interface]"]
    if link["addresses"]:
        lines.append("Address = %s" % ", ".join(link["addresses"]))
    if device["listen_port"]:
        lines.append("ListenPort = %d" % device["listen_port"])
    lines.append("PrivateKey = %s" % device["private_key"])
    lines.append("MTU = %d" % link["mtu"])
    if device["fwmark"]:
        lines.append("FwMark = %d" % device["fwmark"])
    # The address prefix routes the pool; a route per peer would be 65k `ip` runs at boot.
    lines.append("Table = off")
    peers = device["peers"]
    lines.extend(_peer(key, peers[key]) for key in sorted(peers))
    return "\n".join(lines) + "\n"


def _peer(key, peer):
    """One [Peer] section, after an empty line: one string, as a hub writes 65,533 of them."""
    text = "\n[Peer]\nPublicKey = " + key
    if peer["preshared_key"]:
        text += "\nPresharedKey = " + peer["preshared_key"]
    if peer["endpoint"]:
        text += "\nEndpoint = " + peer["endpoint"]
    if peer["allowed_ips"]:
        text += "\nAllowedIPs = " + ", ".join(peer["allowed_ips"])
    if peer["persistent_keepalive"]:
        text += "\nPersistentKeepalive = %d" % peer["persistent_keepalive"]
    return text
