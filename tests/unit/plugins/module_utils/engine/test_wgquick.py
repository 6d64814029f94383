"""The wg-quick file of an interface: what comes up at boot."""

from ansible_collections.wgnet.containers.plugins.module_utils.engine import wgquick


def test_render_writes_every_field_and_the_peers_in_key_order():
    desired = {"link": {"addresses": ["10.0.42.254/24", "fd00::fe/64"], "mtu": 1420},
               "device": {"private_key": "PRIV", "listen_port": 51820, "fwmark": 7, "peers": {
                   "KEY-B": {"endpoint": None, "allowed_ips": ["10.0.42.2/32"], "persistent_keepalive": 0,
                             "preshared_key": None},
                   "KEY-A": {"endpoint": "192.0.2.1:51820", "allowed_ips": ["10.0.42.1/32", "fd00::1/128"],
                             "persistent_keepalive": 25, "preshared_key": "PSK"}}}}
    assert wgquick.render(desired) == wgquick.HEADER + "\n".join([
        "[Interface]", "Address = 10.0.42.254/24, fd00::fe/64", "ListenPort = 51820", "PrivateKey = PRIV", "MTU = 1420",
        "FwMark = 7", "Table = off", "",
        "[Peer]", "PublicKey = KEY-A", "PresharedKey = PSK", "Endpoint = 192.0.2.1:51820",
        "AllowedIPs = 10.0.42.1/32, fd00::1/128", "PersistentKeepalive = 25", "",
        "[Peer]", "PublicKey = KEY-B", "AllowedIPs = 10.0.42.2/32"]) + "\n"


def test_render_without_port_fwmark_or_peers():
    desired = {"link": {"addresses": [], "mtu": 1280},
               "device": {"private_key": "PRIV", "listen_port": 0, "fwmark": 0, "peers": {}}}
    assert wgquick.render(desired) == wgquick.HEADER + "[Interface]\nPrivateKey = PRIV\nMTU = 1280\nTable = off\n"
