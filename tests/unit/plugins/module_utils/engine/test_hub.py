"""The hub's files and sysctls, decided before anything changes."""

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.engine import hub as wghub
from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError

DESIRED = {"link": {"addresses": ["10.0.42.254/24", "fd00:42::fe/64"], "mtu": 1420},
           "device": {"private_key": "x", "listen_port": 51820, "fwmark": 0, "peers": {}}}


def test_a_dotted_interface_name_stays_one_part_of_its_sysctl_key():
    """The review's case: a hub named wg.h wrote net.ipv4.conf.wg.h.send_redirects, read as conf/wg/h."""
    settings = wghub.forwarding_settings("wg.h", DESIRED)
    assert settings["net/ipv4/conf/wg.h/send_redirects"] == "0"
    assert settings["net/ipv6/conf/all/forwarding"] == "1"
    files = wghub.plan_files({"name": "wg.h", "config_path": None, "forward": True}, DESIRED)
    (path, content, mode), = [f for f in files if "sysctl" in f[0]]
    assert path == "/etc/sysctl.d/90-wgnet-wg.h.conf" and mode == 0o644
    assert "net/ipv4/conf/wg.h/send_redirects = 0\n" in content


def test_files_it_cannot_write_are_refused_by_option(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(WgnetError, match="^config_path: .* is a folder; give the path of a file$"):
        wghub.check_writable([(str(folder), "", 0o600)])
    (tmp_path / "file").write_text("")
    with pytest.raises(WgnetError, match="^forward: .*/file/sub/x.conf cannot be written: .*/file is not a folder$"):
        wghub.check_writable([(str(tmp_path / "ok.conf"), "", 0o600), (str(tmp_path / "file/sub/x.conf"), "", 0o644)])
    wghub.check_writable([(str(tmp_path / "new/folder/wg0.conf"), "", 0o600)])
