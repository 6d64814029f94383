"""The generation record: what counts as holding a generation."""

from ansible_collections.wgnet.containers.plugins.module_utils.common.generation import holds, record_text


def test_only_the_exact_record_with_its_mode_holds_the_generation(tmp_path):
    path = tmp_path / "hub-generation.json"
    assert holds(str(path), "0123456789abcdef") is False
    path.write_text(record_text("0123456789abcdef"))
    path.chmod(0o644)
    assert holds(str(path), "0123456789abcdef") is False
    path.chmod(0o600)
    assert holds(str(path), "0123456789abcdef") is True
    assert holds(str(path), "fedcba9876543210") is False
    path.write_text(record_text("0123456789abcdef").strip())
    assert holds(str(path), "0123456789abcdef") is False
