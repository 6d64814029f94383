"""wg_container_iface cases that hold for every backend: one test code, collected by each backend's run.

tests/integration/test_container_iface.py collects them on this machine
(userspace backend, Docker containers, a wireguard-go hub) and
tests/vm/test_kernel_backend.py inside the test VM (kernel backend,
`ip netns add` namespaces, kernel hubs). Each provides two fixtures:

- ``box``: a target to attach, with a key its hub knows: ``backend``,
  ``address``, ``private_key``, ``public_key``, ``hub``, ``args(**extra)``
  (the module's arguments), ``ping(address, count=1, source=None)``,
  ``links()`` and ``mtu()`` (read in the target with ip(8) and sysfs),
  ``wg_show(facts, *what)`` (wg(8)'s view of the interface whose facts the
  module returned);
- ``hub2``: a second hub. A hub has ``address``, ``public_key``,
  ``peer_spec(**extra)``, ``add_peer(public_key, address, preshared_key=None)``
  and ``handshakes()`` (as the hub itself sees them, through wg(8)).
"""

from wgtest import free_udp_port, genkey, random_b64, run_module

MODULE = "wg_container_iface"


def assert_ok(result):
    assert not result.get("failed"), result.get("msg", result["_raw"][-3000:])
    return result


def peers_by_key(result):
    return {p["public_key"]: p for p in result["interface"]["peers"]}


def test_idempotence_check_mode_and_diff(box):
    psk = random_b64()
    box.hub.add_peer(box.public_key, box.address, preshared_key=psk)
    other = genkey()[1]
    port = free_udp_port()
    args = box.args(
        listen_port=port, fwmark=0x2a, mtu=1400,
        peers=[box.hub.peer_spec(preshared_key=psk),
               # Never reached: its settings are read back from the device and compared.
               {"public_key": other, "endpoint": "[::1]:51999", "allowed_ips": ["fd00:88::/64", "10.99.0.0/24"],
                "persistent_keepalive": 15}])
    create = "create interface wg0 (backend %s)" % box.backend
    predicted = assert_ok(run_module(MODULE, args, check_mode=True))
    assert predicted["changed"] and create in predicted["changes"]
    assert predicted["diff"]["before"] == {} and predicted["diff"]["after"]["public_key"] == box.public_key
    assert box.links() == ["lo"]  # check mode made nothing

    first = assert_ok(run_module(MODULE, args))
    assert first["changed"] and create in first["changes"]
    assert box.ping(box.hub.address).returncode == 0
    facts = first["interface"]
    assert facts["backend"] == box.backend
    assert facts["listen_port"] == port and facts["fwmark"] == 0x2a and facts["mtu"] == 1400
    peers = peers_by_key(first)
    assert peers[other]["endpoint"] == "[::1]:51999"
    assert peers[other]["allowed_ips"] == ["10.99.0.0/24", "fd00:88::/64"]
    assert peers[box.hub.public_key]["preshared_key"] is True
    after = first["diff"]["after"]
    assert after["public_key"] == box.public_key and "private_key" not in after
    for secret in (box.private_key, psk):  # secrets are never shown, not even in the diff
        assert secret not in first["_raw"] and secret not in predicted["_raw"]

    again = assert_ok(run_module(MODULE, args))
    assert again["changed"] is False and again["changes"] == [], again["changes"]

    # A change of MTU, a route and one peer's preshared key (dropped): predicted, then made, alone.
    change = dict(args, mtu=1380, routes=["192.0.2.0/24"], peers=[box.hub.peer_spec(), args["peers"][1]])
    predicted = assert_ok(run_module(MODULE, change, check_mode=True))
    expected = ["update peer %s: preshared_key" % box.hub.public_key, "set mtu 1380", "add route 192.0.2.0/24"]
    assert predicted["changes"] == expected
    assert box.mtu() == 1400
    changed = assert_ok(run_module(MODULE, change))
    assert changed["changes"] == expected and box.mtu() == 1380
    assert peers_by_key(changed)[box.hub.public_key]["preshared_key"] is False
    assert assert_ok(run_module(MODULE, change))["changed"] is False


def test_changing_one_peer_keeps_the_other_session(box, hub2):
    """Peers are reconciled one by one: an update, an addition, a removal leave the other session alone."""
    second = "%s.%s" % (hub2.address.rsplit(".", 1)[0], box.address.rsplit(".", 1)[1])
    hub2.add_peer(box.public_key, second)
    args = box.args(address=[box.address + "/32", second + "/32"], peers=[box.hub.peer_spec(), hub2.peer_spec()],
                    default_route=False, routes=[box.hub.address + "/32", hub2.address + "/32"])
    assert assert_ok(run_module(MODULE, args))["changed"]
    assert box.ping(box.hub.address).returncode == 0
    assert box.ping(hub2.address, source=second).returncode == 0  # hub2 accepts only the second address
    kept = box.hub.handshakes()[box.public_key]
    before = assert_ok(run_module(MODULE, args))
    assert before["changed"] is False
    mine = peers_by_key(before)[box.hub.public_key]["latest_handshake"]  # the target's side
    assert kept > 0 and mine > 0

    extra = genkey()[1]
    args["peers"][1] = hub2.peer_spec(persistent_keepalive=10)
    changed = assert_ok(run_module(MODULE, dict(args, peers=args["peers"] + [
        {"public_key": extra, "allowed_ips": ["10.99.1.0/24"]}])))
    assert sorted(changed["changes"]) == ["add peer %s" % extra,
                                          "update peer %s: persistent_keepalive" % hub2.public_key]
    after = peers_by_key(changed)
    assert after[hub2.public_key]["persistent_keepalive"] == 10 and extra in after
    assert changed["interface"]["pid"] == before["interface"]["pid"]  # not torn down (userspace: the process)
    assert after[box.hub.public_key]["latest_handshake"] == mine
    assert box.hub.handshakes()[box.public_key] == kept

    removed = assert_ok(run_module(MODULE, args))
    assert removed["changes"] == ["remove peer %s" % extra]
    assert extra not in peers_by_key(removed)
    assert box.hub.handshakes()[box.public_key] == kept
    assert box.ping(box.hub.address).returncode == 0


def test_a_peer_with_many_allowed_ips_is_written_and_read_back_whole(box):
    """1,500 allowed IPs: more than one kernel message holds, both ways (the set is cut, the dump too)."""
    many = ["10.100.%d.%d/32" % divmod(i, 250) for i in range(1500)]
    wide = genkey()[1]
    args = box.args(peers=[box.hub.peer_spec(), {"public_key": wide, "allowed_ips": many}])
    first = assert_ok(run_module(MODULE, args))
    assert first["changed"]
    shown = box.wg_show(first["interface"], "allowed-ips")  # the device's own view, not the module's
    assert len([line for line in shown.splitlines() if line.startswith(wide)][0].split()) == 1 + len(many)
    again = assert_ok(run_module(MODULE, args))
    assert again["changed"] is False, again["changes"]
    assert sorted(peers_by_key(again)[wide]["allowed_ips"]) == sorted(many)
    assert box.ping(box.hub.address).returncode == 0
