"""The hub's files and sysctls, decided before anything changes."""

import base64
import copy
import os
import stat

import pytest
from .fakes import FakeHost, FakeNamespace

from ansible_collections.wgnet.containers.plugins.module_utils.engine import hub as wghub
from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError

DESIRED = {"link": {"addresses": ["10.0.42.254/24", "fd00:42::fe/64"], "mtu": 1420},
           "device": {"private_key": "x", "listen_port": 51820, "fwmark": 0, "peers": {}}}


def test_a_dotted_interface_name_stays_one_part_of_its_sysctl_key():
    """The review's case: a hub named wg.h wrote net.ipv4.conf.wg.h.send_redirects, read as conf/wg/h."""
    settings = wghub.forwarding_settings("wg.h", DESIRED)
    assert settings["net/ipv4/conf/wg.h/send_redirects"] == "0"
    assert settings["net/ipv6/conf/all/forwarding"] == "1"
    files = wghub.plan_files({"name": "wg.h", "config_path": None, "forward": True, "pool_record": None}, DESIRED)
    (path, content, mode), = [f for f in files if "sysctl" in f[0]]
    assert path == "/etc/sysctl.d/90-wgnet-wg.h.conf" and mode == 0o644
    assert "net/ipv4/conf/wg.h/send_redirects = 0\n" in content


def test_files_it_cannot_write_are_refused_by_option(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(WgnetError, match="^config_path: .* is a folder; give the path of a file$"):
        wghub.check_writable([(str(folder), "config_path")])
    (tmp_path / "file").write_text("")
    with pytest.raises(WgnetError, match="^forward: .*/file/sub/x.conf cannot be written: .*/file is not a folder$"):
        wghub.check_writable([(str(tmp_path / "ok.conf"), "config_path"), (str(tmp_path / "file/sub/x.conf"), "forward")])
    wghub.check_writable([(str(tmp_path / "new/folder/wg0.conf"), "config_path")])


POOL, HUB = "10.0.42.0/24", "10.0.42.254"


def hub_params(tmp_path, keys=None, **extra):
    params = {name: spec.get("default") for name, spec in wghub.hub_options().items()}
    params.update(address=[HUB + "/24"], private_key=PRIVATE, listen_port=51820, pool=[POOL], pool_exclude=[HUB],
                  pool_fingerprint="gen-1", pool_record=str(tmp_path / "record.json"),
                  config_path=str(tmp_path / "wg0.conf"), forward=False)
    if keys is not None:
        params["pool_public_keys_text"] = "\n".join(keys)
    params.update(extra)
    return params


def new_key():
    return base64.b64encode(os.urandom(32)).decode()


PRIVATE = new_key()
KEYS = [new_key() for _index in range(253)]


@pytest.fixture
def hub(tmp_path):
    host = FakeHost(FakeNamespace("/proc/self/ns/net"))
    result = wghub.reconcile_hub(host, hub_params(tmp_path, KEYS))
    assert result["changed"] and result["changes"][-1] == "write %s" % (tmp_path / "record.json")
    return host


def live_peers(host):
    return FakeHost.devices[("/proc/self/ns/net", "wg0")].config["peers"]


def test_with_the_fingerprint_alone_an_unchanged_hub_needs_no_keys(hub, tmp_path):
    record = (tmp_path / "record.json").read_text()
    assert stat.S_IMODE(os.stat(tmp_path / "record.json").st_mode) == 0o600 and PRIVATE not in record
    config = (tmp_path / "wg0.conf").read_text()
    result = wghub.reconcile_hub(hub, hub_params(tmp_path))
    assert result["changed"] is False and result["pool_keys_needed"] is False, result
    assert result["interface"]["peer_count"] == 253 and "peers" not in result["interface"]
    assert result["diff"]["before"]["peers"] == [] and result["diff"]["before"]["peer_count"] == 253
    assert (tmp_path / "wg0.conf").read_text() == config and (tmp_path / "record.json").read_text() == record
    assert wghub.reconcile_hub(hub, hub_params(tmp_path, KEYS))["changed"] is False


def test_other_changes_are_made_without_the_keys_and_pool_drift_is_put_back(hub, tmp_path):
    live = live_peers(hub)
    live[KEYS[0]]["persistent_keepalive"] = 25  # a drift the digest does not cover: planned as a change
    result = wghub.reconcile_hub(hub, hub_params(tmp_path, listen_port=51821))
    assert result["changes"][:2] == ["set listen_port 51821", "update peer %s: persistent_keepalive" % KEYS[0]]
    assert live_peers(hub)[KEYS[0]]["persistent_keepalive"] == 0 and len(live_peers(hub)) == 253
    assert "ListenPort = 51821" in (tmp_path / "wg0.conf").read_text()


@pytest.mark.parametrize("tamper, reason", [
    (lambda peers, tmp_path: peers.pop(KEYS[5]), "the live pool peers of wg0 differ from those recorded in "),
    (lambda peers, tmp_path: peers[KEYS[5]].update(allowed_ips=["10.0.42.99/32"]), "the live pool peers of wg0 differ"),
    (lambda peers, tmp_path: peers.update({new_key(): dict(peers[KEYS[5]], allowed_ips=["10.9.0.1/32"])}),
     "the live pool peers of wg0 differ"),
    (lambda peers, tmp_path: (tmp_path / "record.json").unlink(), "records no pool of fingerprint gen-1"),
    (lambda peers, tmp_path: (tmp_path / "record.json").write_text("not json"), "records no pool of fingerprint gen-1"),
])
def test_a_live_pool_that_is_not_the_recorded_one_asks_for_the_keys_and_changes_nothing(hub, tmp_path, tamper, reason):
    tamper(live_peers(hub), tmp_path)
    before = copy.deepcopy(live_peers(hub))
    for check_mode in (True, False):
        hub.check_mode = check_mode
        result = wghub.reconcile_hub(hub, hub_params(tmp_path, listen_port=51821))
        assert result["pool_keys_needed"] and not result["changed"] and result["changes"] == []
        assert reason in result["pool_keys_reason"]
    assert live_peers(hub) == before
    assert "ListenPort = 51820" in (tmp_path / "wg0.conf").read_text()


def test_another_fingerprint_asks_for_the_keys(hub, tmp_path):
    result = wghub.reconcile_hub(hub, hub_params(tmp_path, pool_fingerprint="gen-2"))
    assert result["pool_keys_needed"] and result["pool_keys_reason"].endswith("records no pool of fingerprint gen-2")


def test_no_interface_asks_for_the_keys(tmp_path):
    host = FakeHost(FakeNamespace("/proc/self/ns/net"))
    result = wghub.reconcile_hub(host, hub_params(tmp_path))
    assert result["pool_keys_needed"] and result["pool_keys_reason"] == "the interface wg0 does not exist"
    assert not (tmp_path / "wg0.conf").exists()


def test_a_new_generation_lists_ten_changed_peers_and_counts_the_rest(hub, tmp_path):
    new_keys = [new_key() for _key in KEYS]
    hub.check_mode = True
    predicted = wghub.reconcile_hub(hub, hub_params(tmp_path, new_keys, pool_fingerprint="gen-2"))
    assert predicted["changes"][-1] == "write %s" % (tmp_path / "record.json")
    assert "gen-1" in (tmp_path / "record.json").read_text()
    hub.check_mode = False
    result = wghub.reconcile_hub(hub, hub_params(tmp_path, new_keys, pool_fingerprint="gen-2"))
    assert result["changes"] == predicted["changes"]
    assert "add 243 more peers" in result["changes"] and "remove 243 more peers" in result["changes"]
    before, after = result["diff"]["before"], result["diff"]["after"]
    shown = {p["public_key"] for p in before["peers"] + after["peers"]}
    assert len(shown) == 10 and before["peers_not_shown"] == after["peers_not_shown"] == 506 - 10
    assert after["peer_count"] == 253 and "peers" not in result["interface"]
    assert sorted(live_peers(hub)) == sorted(new_keys)
    assert wghub.reconcile_hub(hub, hub_params(tmp_path, pool_fingerprint="gen-2"))["changed"] is False


def test_the_other_peers_are_not_part_of_the_pool(hub, tmp_path):
    other = {"public_key": new_key(), "endpoint": None, "allowed_ips": ["10.1.0.0/16"], "persistent_keepalive": 0,
             "preshared_key": None}
    added = wghub.reconcile_hub(hub, hub_params(tmp_path, KEYS, peers=[other]))
    assert added["changes"] == ["add peer %s" % other["public_key"], "write %s" % (tmp_path / "wg0.conf")]
    assert wghub.reconcile_hub(hub, hub_params(tmp_path, peers=[other]))["changed"] is False
    # Left out of peers, it counts as live pool peer that was never applied: only the keys can tell.
    assert wghub.reconcile_hub(hub, hub_params(tmp_path))["pool_keys_needed"]
    assert wghub.reconcile_hub(hub, hub_params(tmp_path, KEYS))["changes"][0] == "remove peer %s" % other["public_key"]


def test_absent_removes_the_record_too(hub, tmp_path):
    result = wghub.reconcile_hub(hub, hub_params(tmp_path, state="absent"))
    assert "remove %s" % (tmp_path / "record.json") in result["changes"] and not (tmp_path / "record.json").exists()


def test_a_fingerprint_without_a_pool_is_refused_by_name(tmp_path):
    host = FakeHost(FakeNamespace("/proc/self/ns/net"))
    with pytest.raises(WgnetError, match="^pool_fingerprint: names the keys of a pool; give the pool too$"):
        wghub.reconcile_hub(host, hub_params(tmp_path, pool=[], pool_exclude=[]))
    assert FakeHost.devices == {}


SLICES = [{"slice": "10.0.42.0/25", "address": "192.0.2.21"}, {"slice": "10.0.42.128/25", "address": "192.0.2.22"}]


def test_pool_endpoints_give_each_peer_its_derived_endpoint_live_and_in_the_file(tmp_path):
    host = FakeHost(FakeNamespace("/proc/self/ns/net"))
    result = wghub.reconcile_hub(host, hub_params(tmp_path, KEYS, pool_endpoints=SLICES, pool_port_base=20000))
    assert result["changed"]
    peers = live_peers(host)
    assert peers[KEYS[0]]["endpoint"] == "192.0.2.21:20001"  # 10.0.42.1
    assert peers[KEYS[129]]["endpoint"] == "192.0.2.22:20130"  # 10.0.42.130
    assert "Endpoint = 192.0.2.22:20130" in (tmp_path / "wg0.conf").read_text()
    assert wghub.reconcile_hub(host, hub_params(tmp_path, pool_endpoints=SLICES, pool_port_base=20000))["changed"] is False


def test_an_endpoint_the_container_roamed_to_is_kept_and_is_no_change(tmp_path):
    host = FakeHost(FakeNamespace("/proc/self/ns/net"))
    params = hub_params(tmp_path, KEYS, pool_endpoints=SLICES, pool_port_base=20000)
    wghub.reconcile_hub(host, params)
    config = (tmp_path / "wg0.conf").read_text()
    live_peers(host)[KEYS[0]]["endpoint"] = "198.51.100.7:40000"  # behind NAT, say
    for keys in (KEYS, None):
        result = wghub.reconcile_hub(host, hub_params(tmp_path, keys, pool_endpoints=SLICES, pool_port_base=20000))
        assert result["changed"] is False, result["changes"]
    assert live_peers(host)[KEYS[0]]["endpoint"] == "198.51.100.7:40000"
    assert (tmp_path / "wg0.conf").read_text() == config


def test_without_pool_endpoints_peers_have_no_endpoint(hub):
    assert {peer["endpoint"] for peer in live_peers(hub).values()} == {None}


@pytest.mark.parametrize("extra, message", [
    (dict(pool_endpoints=SLICES, pool_port_base=65500), "^pool_port_base: 65500 leaves no port for the 256 addresses"),
    (dict(pool_endpoints=[{"slice": "10.0.42.0/25", "address": ""}], pool_port_base=20000),
     r"^pool_endpoints\[0\].address: is empty"),
    (dict(pool_endpoints=[{"slice": "10.0.42.0/33", "address": "192.0.2.1"}], pool_port_base=20000),
     r"^pool_endpoints\[0\].slice: "),
])
def test_bad_pool_endpoints_are_refused_by_name_and_change_nothing(tmp_path, extra, message):
    host = FakeHost(FakeNamespace("/proc/self/ns/net"))
    with pytest.raises(WgnetError, match=message):
        wghub.reconcile_hub(host, hub_params(tmp_path, KEYS, **extra))
    assert FakeHost.devices == {} and not (tmp_path / "wg0.conf").exists()


def test_a_name_is_resolved_once_on_the_hub():
    calls = []

    def resolver(host, port, family, kind):
        calls.append(host)
        return [(2, 2, 17, "", ("192.0.2.30", port))]
    endpoint = wghub.endpoint_table("10.0.42.0/24", [{"slice": "10.0.42.0/24", "address": "docker1"}], 20000, resolver)
    assert [endpoint("10.0.42.5/32"), endpoint("10.0.42.6/32"), endpoint("fd00::1/128")] == \
        ["192.0.2.30:20005", "192.0.2.30:20006", None]
    assert calls == ["docker1"]
