"""The userspace backend's pure parts: host-side names, and the reason a wireguard-go did not start."""

from ansible_collections.wgnet.containers.plugins.module_utils.device.userspace import host_side_name, start_failure


def test_a_used_up_inotify_limit_is_named_with_its_fix(tmp_path):
    limit = tmp_path / "max_user_instances"
    limit.write_text("128\n")
    tail = "ERROR: (wgn255cdd7668e1) Failed to listen on uapi socket: too many open files"
    message = str(start_failure("wgn255cdd7668e1", tail, str(limit)))
    assert message.startswith("wireguard-go wgn255cdd7668e1 did not start: ERROR: (wgn255cdd7668e1) Failed")
    assert "fs.inotify.max_user_instances (128) is used up" in message
    assert "install_inotify_instances" in message


def test_another_failure_is_told_as_it_is(tmp_path):
    message = str(start_failure("wgn1", "ERROR: Failed to create TUN device: operation not permitted",
                                str(tmp_path / "absent")))
    assert message == "wireguard-go wgn1 did not start: ERROR: Failed to create TUN device: operation not permitted"
    assert str(start_failure("wgn1", "", str(tmp_path / "absent"))) == "wireguard-go wgn1 did not start: no answer"


def test_host_side_names_are_short_stable_and_distinct():
    name = host_side_name("container-id", "wg0")
    assert len(name) == 15 and name == host_side_name("container-id", "wg0")
    assert name != host_side_name("container-id", "wg1") != host_side_name("other", "wg0")
