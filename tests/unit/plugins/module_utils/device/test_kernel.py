"""The kernel backend's device, without a kernel: what it does not need, it does not open."""

from ansible_collections.wgnet.containers.plugins.module_utils.device.kernel import KernelDevice


class NamespaceWithoutGenl:
    """A namespace whose generic-netlink socket must not be asked for."""

    def __init__(self):
        self.deleted = []

    def wireguard(self):
        raise AssertionError("a device found only to be deleted opened a generic-netlink socket")

    def link(self, name):
        return {"index": 7} if name == "wg0" else None

    def delete_link(self, index):
        self.deleted.append(index)


def test_deleting_a_found_device_opens_no_generic_netlink_socket():
    ns = NamespaceWithoutGenl()
    KernelDevice(ns, "wg0").delete()
    assert ns.deleted == [7]


class NamespaceCountingSockets:
    """A namespace that hands out a new generic-netlink socket (an object) each time it is asked."""

    def wireguard(self):
        return object()


def test_each_thread_gets_its_own_socket_opened_in_the_device_namespace():
    import threading
    device = KernelDevice(NamespaceCountingSockets(), "wg0")
    here = device.wg
    assert device.wg is here  # one a thread, kept
    there = []
    worker = threading.Thread(target=lambda: there.append(device.wg))
    worker.start()
    worker.join()
    # pyroute2 would give this thread's calls a socket of the host's namespace: the device opens its own.
    assert there[0] is not here
