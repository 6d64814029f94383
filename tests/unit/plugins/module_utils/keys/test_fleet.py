"""Fleet addresses: slices, conflicts, stable allocation."""

import json
import re

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.common.errors import WgnetError
from ansible_collections.wgnet.containers.plugins.module_utils.keys.fleet import (
    allocate,
    conflicts,
    host_slice,
    recorded_slice,
    slice_move,
)


def test_host_slices():
    assert [host_slice("10.0.42.0/24", i, 2) for i in range(2)] == ["10.0.42.0/25", "10.0.42.128/25"]
    assert host_slice("10.0.42.0/24", 2, 3) == "10.0.42.128/26"
    assert host_slice("10.0.42.0/24", 0, 1) == "10.0.42.0/24"
    assert host_slice("10.0.42.0/24", 5, 2, prefix=28) == "10.0.42.80/28"
    with pytest.raises(WgnetError, match="wgnet_host_index: 4 is outside"):
        host_slice("10.0.42.0/24", 4, 3)


def test_conflicts_name_both_owners():
    plan = [{"host": "a", "slice": "10.0.42.0/25", "explicit": [{"name": "web", "address": "10.0.42.200"}]},
            {"host": "b", "slice": "10.0.42.64/26", "explicit": [{"name": "db", "address": "10.0.42.200"}]}]
    found = conflicts("10.0.42.0/24", plan)
    assert "slices overlap: a has 10.0.42.0/25 and b has 10.0.42.64/26" in found
    assert "10.0.42.200 is given to both web on a and db on b" in found
    clean = [{"host": "a", "slice": "10.0.42.0/25", "explicit": [{"name": "web", "address": "10.0.42.5"}]},
             {"host": "b", "slice": "10.0.42.128/25", "explicit": []}]
    assert conflicts("10.0.42.0/24", clean) == []
    clean[1]["explicit"] = [{"name": "x", "address": "10.0.42.6"}]
    assert conflicts("10.0.42.0/24", clean) == ["x on b: 10.0.42.6 is outside this host's slice 10.0.42.128/25",
                                                "10.0.42.6 (x on b) lies in the slice 10.0.42.0/25 of a"]


def test_conflicts_refuse_the_hub_address_and_the_pool_edges():
    """The review's case: a label gives a container the hub's address, and so the hub's private key."""
    plan = [{"host": "a", "slice": "10.0.42.0/25", "explicit": [{"name": "evil", "address": "10.0.42.0"}]},
            {"host": "b", "slice": "10.0.42.128/25",
             "explicit": [{"name": "evil", "address": "10.0.42.254"}, {"name": "edge", "address": "10.0.42.255"}]}]
    found = conflicts("10.0.42.0/24", plan, exclude=["10.0.42.254"])
    assert "evil on b: 10.0.42.254 is excluded (the hub's address is never a container's)" in found
    assert "evil on a: 10.0.42.0 is the network or broadcast address of the slice 10.0.42.0/25" in found
    assert "edge on b: 10.0.42.255 is the network or broadcast address of the slice 10.0.42.128/25" in found


def test_allocation_is_stable_and_skips_taken_addresses():
    first = allocate("10.0.42.0/29", ["b", "a", "c"], {"c": "10.0.42.1"}, {}, exclude=["10.0.42.2"])
    assert first == {"c": "10.0.42.1", "a": "10.0.42.3", "b": "10.0.42.4"}
    again = allocate("10.0.42.0/29", ["a", "b", "d"], {}, first, exclude=["10.0.42.2"])
    assert again["a"] == first["a"] and again["b"] == first["b"]
    assert again["d"] not in (first["a"], first["b"], "10.0.42.1", "10.0.42.2")  # c stays reserved
    with pytest.raises(WgnetError, match="no free address left for"):
        allocate("10.0.42.0/30", ["a", "b", "c"], {}, {})


@pytest.mark.parametrize("explicit, recorded, problem", [
    ({"evil": "10.0.42.254"}, {}, "explicit: 10.0.42.254 for evil: 10.0.42.254 is excluded"),
    ({"web": "10.0.42.200"}, {}, "explicit: 10.0.42.200 for web: 10.0.42.200 is outside this host's slice 10.0.42.0/25"),
    ({"web": "10.0.42.0"}, {}, "the network or broadcast address of the slice 10.0.42.0/25"),
    ({"web": "10.0.42.127"}, {}, "the network or broadcast address of the slice 10.0.42.0/25"),
    ({"web": "10.0.42.7", "db": "10.0.42.7"}, {}, "explicit: 10.0.42.7 for web: 10.0.42.7 is already the address of the container db"),
    ({"web": "10.0.42.5"}, {"wgnet-driver:abc123": "10.0.42.5"}, "10.0.42.5 is already the address of the network driver's endpoint abc123"),
    ({"web": "10.0.42.5"}, {"old": "10.0.42.5"}, "10.0.42.5 is already the address of the container old"),
    ({"web": "10.0.42.5"}, {"db": "10.0.42.5"}, "10.0.42.5 is already the address of the container db"),  # db is wanted too
    ({"web": "not-an-ip"}, {}, "explicit address of web"),
])
def test_explicit_addresses_go_through_the_same_rules(explicit, recorded, problem):
    with pytest.raises(WgnetError, match=re.escape(problem)):
        allocate("10.0.42.0/25", ["web", "db", "evil"], explicit, recorded, exclude=["10.0.42.254"], pool="10.0.42.0/24")


def test_slices_of_one_address_never_give_the_pool_edges():
    """129 hosts in a /24 make /32 slices; the first is the pool's network address, which has no hub peer."""
    with pytest.raises(WgnetError, match="no free address left"):
        allocate(host_slice("10.0.42.0/24", 0, 129), ["web"], {}, {}, pool="10.0.42.0/24")
    assert allocate(host_slice("10.0.42.0/24", 1, 129), ["web"], {}, {}, pool="10.0.42.0/24") == {"web": "10.0.42.1"}


def test_a_recorded_address_no_longer_allowed_is_given_again():
    """A container recorded on the hub's address (as older versions allowed) moves to a free one."""
    moved = allocate("10.0.42.0/29", ["web", "db"], {}, {"web": "10.0.42.6", "db": "10.0.42.2"}, exclude=["10.0.42.6"])
    assert moved == {"db": "10.0.42.2", "web": "10.0.42.1"}


def test_a_host_whose_slice_would_move_is_named_with_what_to_do():
    """The review's case: a third Docker host moves the second from .128/25 to .64/26."""
    record = json.dumps({"allocations": {"web": "10.0.42.129"}, "attached": ["web"], "slice": "10.0.42.128/25"})
    plan = [{"host": "h%d" % i, "slice": host_slice("10.0.42.0/24", i, 3), "explicit": []} for i in range(3)]
    plan[1]["record"] = record
    (found,) = conflicts("10.0.42.0/24", plan)
    assert found.startswith("h1: its containers have addresses in the slice 10.0.42.128/25, and the inventory now "
                            "gives it 10.0.42.64/26") and "wgnet_host_slice: 10.0.42.128/25 for h1" in found
    plan[1]["reslice"] = True
    assert conflicts("10.0.42.0/24", plan) == []
    plan[1].update(reslice=False, slice="10.0.42.128/25")  # the slice the message says to set
    plan[2]["slice"] = "10.0.42.64/26"
    assert conflicts("10.0.42.0/24", plan) == []


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"allocations": {}, "slice": "10.0.42.0/25"}'])
def test_records_without_addresses_pin_no_slice(text):
    assert recorded_slice(text) is None
    assert slice_move(recorded_slice(text), "10.0.42.128/25") is None
