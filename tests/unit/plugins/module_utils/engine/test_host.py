"""The host lock of the interface modules and the driver: waited for, never forever."""

import fcntl
import os
import threading
import time

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.engine import host as wghost


@pytest.fixture
def lock_path(tmp_path, monkeypatch):
    path = tmp_path / "lock"
    monkeypatch.setattr(wghost, "LOCK_PATH", str(path))
    monkeypatch.setattr(wghost, "RUN_DIR", str(tmp_path))
    return path


def test_a_wedged_lock_fails_by_name_with_its_holder(lock_path):
    """The review's case: the lock had no timeout, and a second run waited as long as the first held it."""
    with open(str(lock_path), "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        holder.write("4242")
        holder.flush()
        host = wghost.Host(check_mode=False)
        start = time.monotonic()
        with pytest.raises(wghost.WgnetError) as info:
            host.lock(timeout=0.3)
        assert 0.3 <= time.monotonic() - start < 2
        assert str(info.value).startswith("lock: %s is held by another wgnet run (pid 4242) for more than 0.3 s" % lock_path)
        assert info.value.option == "lock"


def test_the_lock_is_taken_once_released_and_names_its_holder(lock_path):
    holder = open(str(lock_path), "w")
    fcntl.flock(holder, fcntl.LOCK_EX)
    threading.Timer(0.2, holder.close).start()
    host = wghost.Host(check_mode=False)
    host.lock(timeout=5)
    try:
        assert lock_path.read_text() == str(os.getpid())
    finally:
        host.close()
    other = wghost.Host(check_mode=False)
    other.lock(timeout=0.5)  # released by close()
    other.close()
