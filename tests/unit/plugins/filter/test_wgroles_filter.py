"""The roles' filters: what the attach and install roles compute, as the task files call it."""

import base64
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wgnet.containers.plugins.filter.wgkeys import (
    wg_derived_privkey,
    wg_derived_pubkey,
    wg_fleet_conflicts,
    wg_pubkey,
)
from ansible_collections.wgnet.containers.plugins.filter.wgroles import FilterModule

FILTERS = FilterModule().filters()
SEED = "dGVzdHNlZWQK"
ADDITIONAL = "dGVzdGFkZGl0aW9uYWwK"
PRIVATE = "IJftaHjgELSRD3PXllSPn3EpiVmrEjQupVynwcfu8FE="


def test_selection_is_the_labelled_containers_then_the_inventorys_which_win():
    containers = [{"name": "web", "mtu": 1380}, {"name": "db", "address": "10.0.42.9"}]
    lines = ["web 10.0.42.7", "cache", "", "api 10.0.42.8"]
    assert FILTERS["wg_select_containers"](containers, lines) == [
        {"name": "cache"}, {"name": "api", "address": "10.0.42.8"}, {"name": "web", "mtu": 1380},
        {"name": "db", "address": "10.0.42.9"}]
    assert FILTERS["wg_select_containers"]([], []) == []


def test_docker_host_slice_is_given_or_cut_from_the_place_in_docker_hosts():
    hosts = ["d1", "d2", "d3"]
    slice_of = FILTERS["wg_docker_host_slice"]
    assert slice_of(hosts, "d2", "10.0.42.0/24", "10.0.42.192/26") == "10.0.42.192/26"
    assert slice_of(hosts, "d2", "10.0.42.0/24") == "10.0.42.64/26"
    assert slice_of(hosts, "d2", ["10.0.42.0/24", "fd00:42::/112"], "", "3") == "10.0.42.192/26"
    assert slice_of(hosts, "d1", "10.0.42.0/24", "", "", 28) == "10.0.42.0/28"
    assert slice_of(hosts[:2], "d2", "10.0.42.0/24", "", "", "") == "10.0.42.128/25"


@pytest.mark.parametrize("args, message", [
    ((["d1"], "hub", "10.0.42.0/24"), "wgnet_host_index: hub is not in docker_hosts"),
    ((["d1"], "d1", "10.0.42.0/24", "", "x"), "wgnet_host_index: 'x' is not a whole number"),
    ((["d1"], "d1", "10.0.42.0/24", "", "", "abc"), "wgnet_slice_prefix: 'abc' is not a whole number"),
])
def test_docker_host_slice_errors_name_the_variable(args, message):
    with pytest.raises(AnsibleFilterError) as info:
        FILTERS["wg_docker_host_slice"](*args)
    assert str(info.value).startswith(message)


def test_fleet_hosts_read_each_hosts_plan_for_the_conflict_check():
    record = json.dumps({"slice": "10.0.42.0/25", "allocations": {"web": "10.0.42.5"}, "attached": ["web"]})
    hostvars = {
        "d1": {"wgnet_my_slice": "10.0.42.0/25", "wgnet_selected": [{"name": "web"}, {"name": "db", "address": "10.0.42.9"}],
               "wgnet_record": {"content": base64.b64encode(record.encode()).decode()}, "wgnet_reslice": "yes"},
        "d2": {"wgnet_my_slice": "10.0.42.128/25", "wgnet_selected": [{"name": "x", "address": ""}],
               "wgnet_record": {"failed": False, "msg": "file not found"}},
    }
    plan = FILTERS["wg_fleet_hosts"](["d1", "d2"], hostvars, False)
    assert plan == [
        {"host": "d1", "slice": "10.0.42.0/25", "explicit": [{"name": "db", "address": "10.0.42.9"}], "record": record,
         "reslice": True},
        {"host": "d2", "slice": "10.0.42.128/25", "explicit": [], "record": "", "reslice": False}]
    assert wg_fleet_conflicts(plan, "10.0.42.0/24", ["10.0.42.254"]) == []
    assert FILTERS["wg_fleet_hosts"](["d2"], hostvars, True)[0]["reslice"] is True


def test_hub_pubkey_from_its_private_key_or_derived():
    hub = FILTERS["wg_hub_pubkey"]
    assert hub(SEED, ADDITIONAL, "10.0.42.254", PRIVATE) == wg_pubkey(PRIVATE)
    assert hub(SEED, ADDITIONAL, "10.0.42.254") == wg_derived_pubkey("10.0.42.254", SEED, ADDITIONAL)
    assert hub(SEED, ADDITIONAL, "10.0.42.254", "") == hub(SEED, ADDITIONAL, "10.0.42.254")
    with pytest.raises(AnsibleFilterError, match="seed: is not valid base64"):
        hub("bad seed", ADDITIONAL, "10.0.42.254")


SETTINGS = {"pool": ["10.0.42.0/24", "fd00:42::/112"], "mtu": 1420, "dns": [], "backend": "auto",
            "hub_public_key": "HUB=", "hub_endpoint": "hub:51820", "hub_allowed_ips": ["10.0.42.0/24", "fd00:42::/112"],
            "persistent_keepalive": 25}


KEYS = {"seed": SEED, "additional": ADDITIONAL, "overrides": {}, "require_strong_seed": False}


def test_attach_interfaces_give_each_address_its_derived_key_and_detach_the_rest():
    allocation = {"addresses": {"web": "10.0.42.5", "db": "10.0.42.6"}, "detach": ["old"]}
    selected = [{"name": "db", "mtu": 1380, "dns": ["10.0.0.53"]}, {"name": "web"}]
    interfaces = FILTERS["wg_attach_interfaces"](allocation, KEYS, selected, SETTINGS)
    hub = {"public_key": "HUB=", "endpoint": "hub:51820", "allowed_ips": ["10.0.42.0/24", "fd00:42::/112"],
           "persistent_keepalive": 25}
    assert interfaces == [
        {"container": "web", "address": ["10.0.42.5/32", "fd00:42::5/128"],
         "private_key": wg_derived_privkey("10.0.42.5", SEED, ADDITIONAL), "mtu": 1420, "dns": [],
         "backend": "auto", "peers": [hub]},
        {"container": "db", "address": ["10.0.42.6/32", "fd00:42::6/128"],
         "private_key": wg_derived_privkey("10.0.42.6", SEED, ADDITIONAL), "mtu": 1380,
         "dns": ["10.0.0.53"], "backend": "auto", "peers": [hub]},
        {"container": "old", "state": "absent"}]
    assert FILTERS["wg_attach_interfaces"]({"addresses": {}, "detach": []}, KEYS, [], SETTINGS) == []


def test_attach_interfaces_keys_follow_the_overrides_as_wg_derived_key_does():
    other = base64.b64encode(b"another generation").decode()
    keys = dict(KEYS, overrides={"10.0.42.6": other})
    interfaces = FILTERS["wg_attach_interfaces"]({"addresses": {"web": "10.0.42.5", "db": "10.0.42.6"}}, keys, [], SETTINGS)
    wanted = [wg_derived_privkey("10.0.42.5", SEED, ADDITIONAL), wg_derived_privkey("10.0.42.6", SEED, other)]
    assert [i["private_key"] for i in interfaces] == wanted


def test_attach_interfaces_refuse_a_weak_seed_when_asked_and_never_show_it():
    with pytest.raises(AnsibleFilterError) as info:
        FILTERS["wg_attach_interfaces"]({"addresses": {"web": "10.0.42.5"}}, dict(KEYS, require_strong_seed=True),
                                        [{"name": "web"}], SETTINGS)
    assert str(info.value).startswith("seed: decodes to only 9 bytes")
    assert SEED not in str(info.value) and "testseed" not in str(info.value)


RECORD = {"slice": "10.0.42.0/25", "allocations": {"web": "10.0.42.1", "gone": "10.0.42.2"}, "attached": ["web", "gone"]}
ADDRESS_OPTIONS = {"slice": "10.0.42.0/25", "containers": ["web"], "explicit": {}, "exclude": ["10.0.42.254"],
                   "pool": "10.0.42.0/24", "reslice": False, "state_path": "/var/lib/wgnet/allocations.json"}


def read_of(record):
    return {"labelled": [], "content": base64.b64encode(json.dumps(record).encode()).decode()}


def test_address_plan_is_no_change_when_the_record_holds_every_address():
    record = dict(RECORD, attached=["web"])
    assert FILTERS["wg_address_plan"](read_of(record), ADDRESS_OPTIONS) == {
        "addresses": {"web": "10.0.42.1"}, "detach": [], "record_changes": False}


def test_address_plan_says_what_the_module_would_record():
    plan = FILTERS["wg_address_plan"](read_of(RECORD), dict(ADDRESS_OPTIONS, containers=["web", "new"]))
    assert plan == {"addresses": {"web": "10.0.42.1", "new": "10.0.42.3"}, "detach": ["gone"], "record_changes": True}
    assert FILTERS["wg_address_plan"]({"labelled": []}, ADDRESS_OPTIONS) == {
        "addresses": {"web": "10.0.42.1"}, "detach": [], "record_changes": True}


@pytest.mark.parametrize("read, options, message", [
    ({"content": base64.b64encode(b"{").decode()}, {}, "state_path: /var/lib/wgnet/allocations.json is not valid JSON"),
    (read_of(RECORD), {"slice": "10.0.42.128/25"}, "slice: this host: its containers have addresses in the slice"),
    (read_of(RECORD), {"explicit": {"web": "10.0.42.254"}}, "explicit: 10.0.42.254 for web"),
])
def test_address_plan_errors_name_the_option(read, options, message):
    with pytest.raises(AnsibleFilterError) as info:
        FILTERS["wg_address_plan"](read, dict(ADDRESS_OPTIONS, **options))
    assert str(info.value).startswith(message)


LIBS = [{"name": "pyroute2", "min_version": "0.9"}, {"name": "pycryptodome", "min_version": "3.21"},
        {"name": "docker", "min_version": "7.0"}]


def test_python_missing_lists_the_libraries_absent_or_too_old():
    found = {"pyroute2": "0.7.2", "pycryptodome": "3.21.0", "docker": None}
    assert FILTERS["wg_python_missing"](LIBS, found) == [
        {"name": "pyroute2", "min_version": "0.9", "found": "0.7.2"}, {"name": "docker", "min_version": "7.0", "found": None}]
    assert FILTERS["wg_python_missing"](LIBS, {"pyroute2": "0.10.1", "pycryptodome": "3.23", "docker": "7.1.0"}) == []
    assert FILTERS["wg_python_missing"](LIBS[:1], {}) == [{"name": "pyroute2", "min_version": "0.9", "found": None}]


def test_python_sources_prefer_a_new_enough_distribution_package():
    packages = {"pyroute2": "python3-pyroute2", "pycryptodome": "", "docker": "python3-docker"}
    apt = r"Candidate: (?:[0-9]+:)?([0-9]+(?:\.[0-9]+)*)"
    candidates = [
        {"item": LIBS[0], "rc": 0, "stdout": "python3-pyroute2:\n  Installed: (none)\n  Candidate: 0.9.2-1\n"},
        {"item": LIBS[1], "skipped": True},
        {"item": LIBS[2], "rc": 0, "stdout": "python3-docker:\n  Candidate: 1:5.0.3-1\n"},
    ]
    assert FILTERS["wg_python_sources"](candidates, packages, apt) == {
        "distro": ["python3-pyroute2"], "pip": ["pycryptodome>=3.21", "docker>=7.0"]}
    unknown = [{"item": LIBS[0], "rc": 100, "stdout": "", "stderr": "E: no such package"},
               {"item": LIBS[2], "rc": 0, "stdout": "python3-docker:\n  Candidate: (none)\n"}]
    assert FILTERS["wg_python_sources"](unknown, packages, apt) == {"distro": [], "pip": ["pyroute2>=0.9", "docker>=7.0"]}
    assert FILTERS["wg_python_sources"]([], packages, apt) == {"distro": [], "pip": []}


HUBS = ["hub1", "hub2"]
HOSTVARS = {"hub1": {"wgnet_vrrp_address": "192.0.2.11"}, "hub2": {"ansible_host": "192.0.2.12"},
            "docker1": {"wgnet_endpoint_address": "192.0.2.21"}, "docker2": {"ansible_host": "docker2.example"}}


def test_ha_is_on_for_two_hubs_unless_switched():
    ha_enabled = FilterModule().filters()["wg_ha_enabled"]
    assert [ha_enabled(["hub"]), ha_enabled(HUBS), ha_enabled(HUBS, False), ha_enabled(["hub"], "true")] == \
        [False, True, False, True]
    with pytest.raises(AnsibleFilterError, match="wgnet_ha: 'maybe' is not a boolean"):
        ha_enabled(HUBS, "maybe")


def test_hub_endpoints_give_each_docker_hosts_slice_and_address():
    endpoints = FilterModule().filters()["wg_hub_endpoints"]
    assert endpoints(["docker1", "docker2"], HOSTVARS, "10.0.42.0/24", 20000) == [
        {"slice": "10.0.42.0/25", "address": "192.0.2.21"}, {"slice": "10.0.42.128/25", "address": "docker2.example"}]


@pytest.mark.parametrize("hostvars, pool, base, message", [
    ({"docker1": {}}, "10.0.42.0/24", 20000, "wgnet_endpoint_address: Docker host docker1 has none, nor ansible_host"),
    ({"docker1": {"ansible_host": "a"}}, "10.0.0.0/16", 20000, "wgnet_container_port_base: 20000 leaves no port"),
])
def test_hub_endpoints_errors_name_the_variable(hostvars, pool, base, message):
    with pytest.raises(AnsibleFilterError, match="^" + message):
        FilterModule().filters()["wg_hub_endpoints"](["docker1"], hostvars, pool, base)


def test_vrrp_instance_of_each_hub():
    instance = FilterModule().filters()["wg_vrrp_instance"]
    first = instance(HUBS, "hub1", HOSTVARS, {"vip": "192.0.2.200/24"})
    assert first == {"vip": "192.0.2.200/24", "vip_address": "192.0.2.200", "interface": "eth0", "virtual_router_id": 42,
                     "version": 3, "advert_int": 0.5, "priority": 100, "auth": False, "unicast_src_ip": "192.0.2.11",
                     "unicast_peers": ["192.0.2.12"]}
    second = instance(HUBS, "hub2", dict(HOSTVARS, hub2={"ansible_host": "192.0.2.12", "wgnet_vrrp_priority": "150"}),
                      {"vip": "192.0.2.200", "advert_int": 0.5}, "secret")
    assert (second["priority"], second["version"], second["advert_int"], second["auth"]) == (150, 2, 1, True)
    assert second["unicast_peers"] == ["192.0.2.11"] and second["vip"] == "192.0.2.200/32"


@pytest.mark.parametrize("vrrp, auth_pass, hostvars, message", [
    ({}, "", HOSTVARS, r"wgnet_vrrp.vip: is missing"),
    ({"vip": "hub.example"}, "", HOSTVARS, r"wgnet_vrrp.vip: 'hub.example' is not an address"),
    ({"vip": "192.0.2.200"}, "123456789", HOSTVARS, r"wgnet_vrrp_auth_pass: has 9 characters; VRRP reads 8 at most"),
    ({"vip": "192.0.2.200", "version": 2, "advert_int": 0.5}, "", HOSTVARS, r"wgnet_vrrp.advert_int: 0.5: VRRPv2 sends whole"),
    ({"vip": "192.0.2.200", "virtual_router_id": 256}, "", HOSTVARS, r"wgnet_vrrp.virtual_router_id: 256 is outside"),
    ({"vip": "192.0.2.200"}, "", dict(HOSTVARS, hub2={}), r"wgnet_vrrp_address: '' is not an IP address"),
    ({"vip": "192.0.2.200"}, "", dict(HOSTVARS, hub1={"wgnet_vrrp_address": "192.0.2.11", "wgnet_vrrp_priority": 255}),
     r"wgnet_vrrp_priority: 255 is outside 1-254"),
])
def test_vrrp_instance_errors_name_the_variable_and_never_show_the_password(vrrp, auth_pass, hostvars, message):
    with pytest.raises(AnsibleFilterError, match="^" + message) as caught:
        FilterModule().filters()["wg_vrrp_instance"](HUBS, "hub1", hostvars, vrrp, auth_pass)
    assert not auth_pass or auth_pass not in str(caught.value)


def test_attach_interfaces_listen_on_derived_ports_with_a_port_base():
    interfaces = FilterModule().filters()["wg_attach_interfaces"](
        {"addresses": {"web": "10.0.42.5"}}, KEYS, [],
        {"pool": "10.0.42.0/24", "mtu": 1420, "dns": [], "backend": "auto", "hub_public_key": "HUB=",
         "hub_endpoint": "hub:51820", "hub_allowed_ips": ["10.0.42.0/24"], "persistent_keepalive": 25, "port_base": "20000"})
    assert interfaces[0]["listen_port"] == 20005
