"""The network driver's pure logic: network options, the interface spec, the shared allocations record."""

import base64
import json
import os

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.driver import config as driver_config
from ansible_collections.wgnet.containers.plugins.module_utils.driver.plugin import Driver
from ansible_collections.wgnet.containers.plugins.module_utils.keys.alloc import Allocations

HUB_KEY = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
PRIVATE = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
CONFIG = {"slice": "10.0.42.0/25", "keys": {"10.0.42.2": PRIVATE},
          "hubs": {"main": {"public_key": HUB_KEY, "endpoint": "hub.example:51820", "address": "10.0.42.1",
                            "allowed_ips": ["10.0.42.0/24"], "persistent_keepalive": 25}}}


def request(options=None, pool="10.0.42.0/25", pool6=None):
    result = {"NetworkID": "n" * 64, "Options": {driver_config.GENERIC: options or {}},
              "IPv4Data": [{"Pool": pool, "Gateway": "10.0.42.1/25"}]}
    if pool6:
        result["IPv6Data"] = [{"Pool": pool6}]
    return result


def test_network_by_hub_name_or_endpoint():
    network = driver_config.network_from_request(CONFIG, request({"hub": "main", "mtu": "1380", "dns": "10.0.42.1, 1.1.1.1"}))
    assert network == {"hub": "main", "mtu": 1380, "dns": ["10.0.42.1", "1.1.1.1"], "subnets": ["10.0.42.0/25"],
                       "subnets6": []}
    by_endpoint = driver_config.network_from_request(CONFIG, request({"hub": "hub.example:51820"}, pool6="fd00::/64"))
    assert by_endpoint["hub"] == "main" and by_endpoint["mtu"] == 1420 and by_endpoint["subnets6"] == ["fd00::/64"]


@pytest.mark.parametrize("options, pool, message", [
    ({}, "10.0.42.0/25", "hub: missing"),
    ({"hub": "other"}, "10.0.42.0/25", "hub: 'other' is neither the name nor the endpoint of a hub this host knows (main)"),
    ({"hub": "main", "mtu": "x"}, "10.0.42.0/25", "mtu: 'x' is not a number"),
    ({"hub": "main", "mtu": "70000"}, "10.0.42.0/25", "mtu: 70000 is out of range (1280 to 65535)"),
    ({"hub": "main", "dns": "10.0.0.1,nope"}, "10.0.42.0/25", "dns: 'nope' is not an IP address"),
    ({"hub": "main", "seed": "c2VjcmV0", "key": "x"}, "10.0.42.0/25", "key, seed: unknown option"),
    ({"hub": "main"}, "172.18.0.0/16", "subnet: 172.18.0.0/16 is not inside this host's slice 10.0.42.0/25"),
])
def test_bad_network_options_name_the_option(options, pool, message):
    with pytest.raises(WgnetError) as info:
        driver_config.network_from_request(CONFIG, request(options, pool))
    assert str(info.value).startswith(message)
    assert "c2VjcmV0" not in str(info.value)


def test_endpoint_wanted_has_the_key_of_the_address_and_the_hub():
    network = {"hub": "main", "mtu": 1400}
    endpoint = {"address": "10.0.42.2", "host_name": driver_config.host_name("e" * 64)}
    # An address for an endpoint: a name would be resolved, and a unit test sends no query. The
    # hub's key must not be the endpoint's own (CONFIG's two keys are a pair).
    hub_key = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
    config = dict(CONFIG, hubs={"main": dict(CONFIG["hubs"]["main"], endpoint="192.0.2.1:51820", public_key=hub_key)})
    wanted = driver_config.endpoint_wanted(config, network, endpoint)
    assert wanted.name == "wgd" + "e" * 12 and len(wanted.name) == 15 and wanted.present
    device, link = wanted.desired["device"], wanted.desired["link"]
    assert device["private_key"] == PRIVATE and link["mtu"] == 1400 and link["routes"] == []
    assert link["addresses"] == []
    assert list(device["peers"]) == [hub_key] and device["peers"][hub_key]["endpoint"] == "192.0.2.1:51820"


def test_endpoint_wanted_gives_the_key_in_the_spelling_the_device_reports():
    # The same 32 bytes: the last character differs only in bits base64 decoding drops.
    other_spelling = PRIVATE[:-2] + chr(ord(PRIVATE[-2]) + 1) + "="
    assert other_spelling != PRIVATE and base64.b64decode(other_spelling) == base64.b64decode(PRIVATE)
    config = dict(CONFIG, keys={"10.0.42.2": other_spelling},
                  hubs={"main": dict(CONFIG["hubs"]["main"], endpoint="192.0.2.1:51820",
                                     public_key="AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")})
    endpoint = {"address": "10.0.42.2", "host_name": "wgdx"}
    wanted = driver_config.endpoint_wanted(config, {"hub": "main", "mtu": 1420}, endpoint)
    assert wanted.desired["device"]["private_key"] == PRIVATE


def test_calls_outside_the_api_and_odd_requests_get_an_err(tmp_path):
    driver = Driver(str(tmp_path / "config.json"), str(tmp_path / "state.json"), str(tmp_path / "a.json"))
    assert driver.call("Plugin.Activate", {}) == {"Implements": ["NetworkDriver"]}
    assert "not supported" in driver.call("Plugin.__init__", {})["Err"]
    assert "is unknown to the driver" in driver.call("NetworkDriver.CreateEndpoint", {"NetworkID": "x", "EndpointID": "y"})["Err"]
    assert "KeyError" in driver.call("NetworkDriver.CreateEndpoint", {})["Err"]
    assert "cannot read" in driver.call("NetworkDriver.CreateNetwork", request({"hub": "main"}))["Err"]


def test_config_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "driver.json"
    path.write_text(json.dumps(CONFIG))
    os.chmod(str(path), 0o644)
    with pytest.raises(WgnetError, match="accessible to group or others"):
        driver_config.read_config(str(path))
    os.chmod(str(path), 0o600)
    assert driver_config.read_config(str(path))["slice"] == "10.0.42.0/25"


def test_allocations_record_round_trip(tmp_path):
    path = str(tmp_path / "wgnet" / "allocations.json")
    with Allocations(path, create=False) as record:  # check mode, no folder yet: nothing to lock, nothing made
        assert record.read() == {"allocations": {}, "attached": []}
        with pytest.raises(WgnetError, match="cannot be written without its lock"):
            record.write({"allocations": {}, "attached": []})
    assert not os.path.exists(os.path.dirname(path))
    with Allocations(path) as record:
        record.write({"allocations": {"web": "10.0.42.5"}, "attached": ["web"]})
    with Allocations(path) as record:
        assert record.read()["allocations"] == {"web": "10.0.42.5"}


def test_ipv6_must_be_the_pair_of_the_ipv4_address():
    with pytest.raises(WgnetError, match="ipv6: the pool of this host .* has no IPv6 network"):
        driver_config.check_ipv6(CONFIG, "10.0.42.2", "fd00:42::2")
    config = dict(CONFIG, pools=["10.0.42.0/24", "fd00:42::/64"])
    driver_config.check_ipv6(config, "10.0.42.2", "fd00:42::2")
    with pytest.raises(WgnetError, match="Docker gave fd00:42::3, but the IPv6 address paired with "
                       "10.0.42.2 is fd00:42::2"):
        driver_config.check_ipv6(config, "10.0.42.2", "fd00:42::3/64")


def driver_with_config(tmp_path, keys):
    config = tmp_path / "driver.json"
    config.write_text(json.dumps(dict(CONFIG, keys=keys)))
    os.chmod(str(config), 0o600)
    driver = Driver(str(config), str(tmp_path / "state.json"), str(tmp_path / "allocations.json"))
    assert "Err" not in driver.call("NetworkDriver.CreateNetwork", request({"hub": "main"}))
    return driver


def endpoint(endpoint_id, address):
    return {"NetworkID": "n" * 64, "EndpointID": endpoint_id, "Interface": {"Address": address + "/25"}}


def test_one_address_one_endpoint(tmp_path):
    """The review's case: two endpoints on 10.0.42.2 both joined, with the same key."""
    driver = driver_with_config(tmp_path, {"10.0.42.2": PRIVATE, "10.0.42.1": PRIVATE})
    assert driver.call("NetworkDriver.CreateEndpoint", endpoint("a" * 64, "10.0.42.2")) == {"Interface": {}}
    again = driver.call("NetworkDriver.CreateEndpoint", endpoint("a" * 64, "10.0.42.2"))
    assert again == {"Interface": {}}, "Docker may ask again for the same endpoint"
    second = driver.call("NetworkDriver.CreateEndpoint", endpoint("b" * 64, "10.0.42.2"))
    assert second["Err"] == ("wgnet: address: 10.0.42.2 is already the address of the network driver's endpoint "
                             "aaaaaaaaaaaa; give this network an --ip-range that avoids it")
    hub = driver.call("NetworkDriver.CreateEndpoint", endpoint("c" * 64, "10.0.42.1"))
    assert hub["Err"].startswith("wgnet: address: 10.0.42.1 is excluded (the hub's address")
    with Allocations(str(tmp_path / "allocations.json")) as record:
        assert record.read()["allocations"] == {"wgnet-driver:" + "a" * 64: "10.0.42.2"}


def test_an_attach_role_address_is_refused(tmp_path):
    driver = driver_with_config(tmp_path, {"10.0.42.2": PRIVATE})
    with Allocations(str(tmp_path / "allocations.json")) as record:
        record.write({"allocations": {"web": "10.0.42.2"}, "attached": ["web"]})
    refused = driver.call("NetworkDriver.CreateEndpoint", endpoint("a" * 64, "10.0.42.2"))
    assert refused["Err"].startswith("wgnet: address: 10.0.42.2 is already the address of the container web;")


@pytest.mark.parametrize("bad", ["../../etc", "a/b", "", "x" * 65, "a b", 7])
def test_ids_that_are_not_docker_ids_are_refused_before_anything_is_recorded(tmp_path, bad):
    driver = driver_with_config(tmp_path, {"10.0.42.2": PRIVATE})
    reply = driver.call("NetworkDriver.CreateEndpoint", endpoint(bad, "10.0.42.2"))
    assert reply["Err"] == "wgnet: EndpointID: %r is not a Docker ID (1 to 64 letters and digits)" % (bad,)
    assert not os.path.exists(str(tmp_path / "allocations.json"))


@pytest.mark.parametrize("content", ['["web"]', '{"allocations": ["10.0.42.5"]}', '{"attached": {}}'])
def test_an_allocations_record_of_the_wrong_shape_is_named(tmp_path, content):
    path = tmp_path / "allocations.json"
    path.write_text(content)
    with Allocations(str(path)) as record:
        with pytest.raises(WgnetError, match="state_path: .* is not an allocations record"):
            record.read()
