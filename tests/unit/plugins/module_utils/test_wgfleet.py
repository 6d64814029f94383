"""Fleet addresses: slices, conflicts, stable allocation."""

import pytest

from ansible_collections.wgnet.containers.plugins.module_utils.wgfleet import allocate, conflicts, host_slice
from ansible_collections.wgnet.containers.plugins.module_utils.wgkeys import WgKeyError


def test_host_slices():
    assert [host_slice("10.0.42.0/24", i, 2) for i in range(2)] == ["10.0.42.0/25", "10.0.42.128/25"]
    assert host_slice("10.0.42.0/24", 2, 3) == "10.0.42.128/26"
    assert host_slice("10.0.42.0/24", 0, 1) == "10.0.42.0/24"
    assert host_slice("10.0.42.0/24", 5, 2, prefix=28) == "10.0.42.80/28"
    with pytest.raises(WgKeyError, match="wgnet_host_index: 4 is outside"):
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
    assert conflicts("10.0.42.0/24", clean) == ["10.0.42.6 (x on b) lies in the slice 10.0.42.0/25 of a"]


def test_allocation_is_stable_and_skips_taken_addresses():
    first = allocate("10.0.42.0/29", ["b", "a", "c"], {"c": "10.0.42.1"}, {}, exclude=["10.0.42.2"])
    assert first == {"c": "10.0.42.1", "a": "10.0.42.3", "b": "10.0.42.4"}
    again = allocate("10.0.42.0/29", ["a", "b", "d"], {}, first, exclude=["10.0.42.2"])
    assert again["a"] == first["a"] and again["b"] == first["b"]
    assert again["d"] not in (first["a"], first["b"], "10.0.42.1", "10.0.42.2")  # c stays reserved
    with pytest.raises(WgKeyError, match="no free address left for"):
        allocate("10.0.42.0/30", ["a", "b", "c"], {}, {})
