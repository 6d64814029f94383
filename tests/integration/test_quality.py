"""The collection passes ansible-test sanity and ansible-lint, as users' CI would run them."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def run(command):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"], ANSIBLE_NOCOLOR="1", NO_COLOR="1")
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=1500)


def test_ansible_test_sanity():
    result = run(["bash", os.path.join(REPO, "tests", "sanity", "run.sh")])
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-8000:]
    assert "failed" not in result.stdout.lower().replace("failed to", "")


def test_ansible_lint():
    result = run([os.path.join(BIN, "ansible-lint"), "--offline"])
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-8000:]
    assert "Passed" in result.stdout + result.stderr
