"""A test's fault: the controller dies the moment a task of a given name reports ok.

side_effect.yml enables it for one run of rotate.yml, naming the hub's switch task, so that the
controller is killed between the hub's switch and the signal that releases the Docker hosts: the
one step of a rotation where a dead controller leaves the hub and the containers on different keys.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: kill_controller
type: aggregate
short_description: SIGKILL ansible-playbook once the task named by MOLECULE_KILL_AFTER_TASK reports ok
description: For the rotation scenario's fault test only.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "kill_controller"
    CALLBACK_NEEDS_ENABLED = True

    def v2_runner_on_ok(self, result):
        if result._task.name == os.environ["MOLECULE_KILL_AFTER_TASK"]:
            self._display.display("kill_controller: killing the controller after %s" % result._task.name)
            os.kill(os.getpid(), signal.SIGKILL)
