"""Atomic, durable writes with the mode from the first byte."""

import os
import stat

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.common import fileio


def test_write_atomic_sets_the_mode_and_makes_the_folder(tmp_path):
    path = tmp_path / "new" / "secret.conf"
    fileio.write_atomic(str(path), "key\n")
    assert path.read_text() == "key\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    fileio.write_atomic(str(path), "public\n", mode=0o644)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(str(path.parent)) == ["secret.conf"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "record.json"
    fileio.write_json(str(path), {"a": 1})

    def crash(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", crash)
    with pytest.raises(OSError):
        fileio.write_json(str(path), {"a": 2})
    assert path.read_text() == '{\n "a": 1\n}\n'
    assert os.listdir(str(tmp_path)) == ["record.json"]
