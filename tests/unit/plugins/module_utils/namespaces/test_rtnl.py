"""The rtnetlink messages packed and read by namespaces.rtnl: what the kernel would see and answer."""

import socket
import struct

from ansible_collections.wgnet.containers.plugins.module_utils.namespaces import rtnl


def test_a_route_request_reads_back_as_the_route_it_asks_for():
    route = rtnl.parse_route(rtnl.route_request(7, socket.inet_pton(socket.AF_INET6, "fd00::"), 8, 254, protocol=4))
    assert route == {"family": socket.AF_INET6, "prefixlen": 8, "destination": socket.inet_pton(socket.AF_INET6, "fd00::"),
                     "protocol": 4, "table": 254, "oif": 7}


def test_an_address_request_reads_back_and_ipv6_skips_duplicate_detection():
    body = rtnl.address_request(3, socket.inet_aton("10.0.0.2"), 32)
    assert rtnl.parse_address(body) == (3, socket.AF_INET, socket.inet_aton("10.0.0.2"), 32)
    assert rtnl.IFADDR.unpack_from(rtnl.address_request(3, bytes(16), 128))[2] == rtnl.IFA_F_NODAD


def test_a_link_message_is_read_with_its_kind_and_state():
    info = rtnl.attr(rtnl.IFLA_LINKINFO | 0x8000, rtnl.attr(rtnl.IFLA_INFO_KIND, b"tun\0"))
    body = rtnl.IFINFO.pack(0, 0, 5, rtnl.IFF_UP, 0) + rtnl.attr(rtnl.IFLA_IFNAME, b"wg0\0") + rtnl.u32(rtnl.IFLA_MTU, 1420) + info
    assert rtnl.parse_link(body) == {"index": 5, "name": "wg0", "kind": "tun", "mtu": 1420, "up": True}
    plain = rtnl.IFINFO.pack(0, 0, 1, 0, 0) + rtnl.attr(rtnl.IFLA_IFNAME, b"lo\0")
    assert rtnl.parse_link(plain) == {"index": 1, "name": "lo", "kind": None, "mtu": None, "up": False}


def test_a_link_request_sets_only_what_it_is_given():
    up = rtnl.link_request(4, up=True)
    assert rtnl.IFINFO.unpack_from(up)[2:] == (4, rtnl.IFF_UP, rtnl.IFF_UP) and len(up) == rtnl.IFINFO.size
    moved = rtnl.link_request(4, netns_fd=9, ifname="wg0")
    assert rtnl.attrs_of(moved, rtnl.IFINFO.size, len(moved)) == {rtnl.IFLA_NET_NS_FD: struct.pack("=I", 9), rtnl.IFLA_IFNAME: b"wg0\0"}


def test_a_reply_is_split_into_its_messages_and_an_error_gives_its_errno():
    error = rtnl.HEADER.pack(36, rtnl.NLMSG_ERROR, 0, 1, 0) + struct.pack("=i", -17) + bytes(16)
    done = rtnl.HEADER.pack(20, rtnl.NLMSG_DONE, 0, 2, 0) + bytes(4)
    replies = list(rtnl.messages(error + done))
    assert [reply[0] for reply in replies] == [rtnl.NLMSG_ERROR, rtnl.NLMSG_DONE]
    assert rtnl.error_code(replies[0][2]) == 17


def test_a_message_shorter_than_its_header_ends_the_reply():
    broken = rtnl.HEADER.pack(4, rtnl.RTM_NEWLINK, 0, 1, 0) + bytes(16)
    assert list(rtnl.messages(broken)) == []


class FakeSocket:
    """Answers each dump request with the next canned reply."""

    def __init__(self, replies):
        self.replies, self.sent = list(replies), 0

    def send(self, _data):
        self.sent += 1

    def recv(self, _size):
        return self.replies.pop(0)


def reply(*bodies, flags=0, done_code=0):
    data = b"".join(rtnl.HEADER.pack(rtnl.HEADER.size + len(b), rtnl.RTM_NEWLINK, flags, 1, 0) + b for b in bodies)
    return data + rtnl.HEADER.pack(20, rtnl.NLMSG_DONE, flags, 1, 0) + struct.pack("=i", -done_code)


def dumping(replies):
    sock = rtnl.RtnlSocket.__new__(rtnl.RtnlSocket)
    sock.sock, sock.sequence = FakeSocket(replies), 0
    return sock


def test_a_dump_interrupted_by_a_change_is_read_again():
    sock = dumping([reply(b"old!", flags=rtnl.NLM_F_DUMP_INTR), reply(b"new1", b"new2")])
    assert sock.dump(rtnl.RTM_GETLINK, b"") == [b"new1", b"new2"]
    assert sock.sock.sent == 2


def test_a_dump_that_ends_in_an_error_is_not_taken_as_whole():
    sock = dumping([reply(b"part", done_code=16)])
    try:
        sock.dump(rtnl.RTM_GETLINK, b"")
    except rtnl.RtnlError as exc:
        assert exc.args[0] == 16
    else:
        raise AssertionError("a failed dump was returned as complete")
