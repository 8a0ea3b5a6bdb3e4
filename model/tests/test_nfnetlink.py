"""R8.x: nfnetlink producers (queue, log) on the ring."""

import errno

from model import World
from model.uapi import NETLINK_NETFILTER, RESERVED, VALID

from .conftest import FRAMES_2K


def nf():
    w = World()
    fd = w.socket(NETLINK_NETFILTER).value
    w.bind(fd, 500)
    w.setsockopt_ring(fd, False, FRAMES_2K)
    mid = w.mmap(fd, 8192).value
    return w, fd, mid


def test_R8_1_nfqueue_message_uses_listener_ring():
    w, fd, mid = nf()
    h = w.nfqueue_alloc(500, b"p" * 100).value
    assert w.frame(mid, "rx", 0).value.status == RESERVED
    w.drv_xmit(h)
    assert bytes(w.payload(mid, "rx", 0).value) == b"p" * 100


def test_R8_1_nflog_large_buffer_defeats_ring():
    w, fd, mid = nf()
    o = w.nflog_alloc(500, 65536, b"x" * 64)
    assert (o.events[0].decision, o.events[0].reason) == ("fallback", "too_big")
    assert w.nflog_alloc(500, 1000, b"x" * 64).events[0].decision == "ring"


def test_R8_2_nflog_retries_packet_size_only_after_NULL():
    w, fd, mid = nf()
    for i in range(4):
        w.write_frame(mid, "rx", i, status=VALID)
    o = w.nflog_alloc(500, 1000, b"x" * 64)
    assert o.err == errno.ENOBUFS and [e.decision for e in o.events] == ["drop", "drop"]
    assert w.sock_info(fd).drops == 2 and w.so_error(fd).value == errno.ENOBUFS


def test_R8_2_nfqueue_full_ring_builds_no_message():
    """The prediction conformance/test_subsystems.py::test_r8_2_* checks on the kernel:
    frames are taken from the head (2, 3, 0, 1 after two released frames); with the ring
    full the allocation fails (drop ring_full at the head, no retry, no plain fallback)
    and the listener gets ENOBUFS once."""
    w, fd, mid = nf()
    for i in range(2):                                   # two earlier messages, released
        w.drv_xmit(w.nfqueue_alloc(500, b"ack").value)
        w.write_frame(mid, "rx", i, status=0)
    got = []
    for k in range(6):
        o = w.nfqueue_alloc(500, b"pkt%d" % k)
        got.append(((o.events[0].decision, o.events[0].reason, o.events[0].frame), o.err))
        if not o.err:
            w.drv_xmit(o.value)
    fits = [(("ring", "fits", f), 0) for f in (2, 3, 0, 1)]
    assert got == fits + [(("drop", "ring_full", 2), errno.ENOBUFS)] * 2
    assert [w.frame(mid, "rx", i).value.status for i in range(4)] == [VALID] * 4
    assert w.so_error(fd).value == errno.ENOBUFS and w.so_error(fd).value == 0


def test_R8_3_ring_order_is_allocation_not_packet_id_order():
    w, fd, mid = nf()
    a = w.nfqueue_alloc(500, b"id=2").value
    b = w.nfqueue_alloc(500, b"id=1").value
    w.drv_xmit(b)
    w.drv_xmit(a)
    assert bytes(w.payload(mid, "rx", 0).value) == b"id=2"


def test_R8_4_ldiff_must_fit_too():
    w, fd, mid = nf()
    o = w.nfqueue_alloc(500, b"h" * 100, ldiff=2000)
    assert o.events[0].reason == "too_big"
    assert w.nfqueue_alloc(500, b"h" * 100, ldiff=1924).events[0].decision == "ring"
