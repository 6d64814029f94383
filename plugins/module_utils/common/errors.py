# -*- coding: utf-8 -*-
# Copyright (c) wgnet.containers contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error this collection reports to the user: a message, and the option at fault if there is one.

Modules turn it into fail_json(msg, option) in one place (adapters.run_module); the network
driver turns it into Docker's {"Err": msg}. A message never holds a secret.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class WgnetError(Exception):
    """``message`` is shown as it is; ``option`` names the option at fault, or None."""

    def __init__(self, message, option=None):
        super(WgnetError, self).__init__(message)
        self.option = option

    @classmethod
    def about(cls, option, problem):
        """The usual shape: "option: problem"."""
        return cls("%s: %s" % (option, problem), option)
