# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The link's part of a plan: typed steps for MTU, addresses, state and routes.

Each step applies itself to a namespace's link and says what it does in one secret-free line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class LinkStep:
    words = None

    def __init__(self, value=None):
        self.value = value

    def __eq__(self, other):
        return type(self) is type(other) and self.value == other.value

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.value)

    def describe(self):
        return "%s %s" % (self.words, self.value)


class SetMtu(LinkStep):
    words = "set mtu"

    def apply(self, ns, index):
        ns.set_link(index, mtu=self.value)


class SetUp(LinkStep):
    def apply(self, ns, index):
        ns.set_link(index, state="up")

    def describe(self):
        return "set link up"


class AddAddress(LinkStep):
    words = "add address"

    def apply(self, ns, index):
        ns.add_address(index, self.value)


class RemoveAddress(LinkStep):
    words = "remove address"

    def apply(self, ns, index):
        ns.del_address(index, self.value)


class AddRoute(LinkStep):
    words = "add route"

    def apply(self, ns, index):
        ns.replace_route(index, self.value)


class RemoveRoute(LinkStep):
    words = "remove route"

    def apply(self, ns, index):
        ns.del_route(index, self.value)


NEW_LINK = {"mtu": None, "addresses": [], "routes": [], "up": False}


def plan_link(current, desired):
    """The steps that make a link's MTU, addresses, state and routes match, in a safe order:
    old addresses go before new ones come, and routes follow the link coming up."""
    steps = []
    if current["mtu"] != desired["mtu"]:
        steps.append(SetMtu(desired["mtu"]))
    steps += [RemoveAddress(c) for c in sorted(set(current["addresses"]) - set(desired["addresses"]))]
    steps += [AddAddress(c) for c in desired["addresses"] if c not in current["addresses"]]
    if not current["up"]:
        steps.append(SetUp())
    steps += [RemoveRoute(c) for c in sorted(set(current["routes"]) - set(desired["routes"]))]
    steps += [AddRoute(c) for c in desired["routes"] if c not in current["routes"]]
    return steps


def apply_link(ns, index, steps):
    for step in steps:
        step.apply(ns, index)
