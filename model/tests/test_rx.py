"""R4.x and D6: allocation-time lookup, reservation, delivery, COPY, drops."""

import errno

import pytest

from model import Blocked, World
from model.uapi import (
    COPY,
    HELD_TYPE,
    NETLINK_NO_ENOBUFS,
    NETLINK_USERSOCK,
    PLAIN_FILL,
    RESERVED,
    SKIP,
    UNUSED,
    VALID,
    nlmsg,
)

from .conftest import FRAMES_2K, Setup


def decisions(o):
    return [(e.decision, e.reason, e.frame) for e in o.events]


def test_R4_1_converted_sender_gets_VALID_unconverted_gets_COPY(s):
    h = s.w.drv_alloc(s.pid, 10).value
    s.w.drv_xmit(h)
    o = s.w.drv_plain(s.pid, 10)
    assert o.value == 28 and decisions(o) == [("copy", "unconverted", 1)]
    assert s.st()[:2] == [VALID, COPY]
    assert s.w.recvmsg(s.fd).value == nlmsg(HELD_TYPE, 0, 0, 0, bytes([PLAIN_FILL]) * 10)


def test_R4_2_no_socket_and_connected_elsewhere_fall_back(s):
    o = s.w.drv_alloc(4242, 10)
    assert decisions(o) == [("fallback", "no_socket", -1)] and o.events[0].sock == 4242
    s.w.connect(s.fd, 77)
    assert decisions(s.w.drv_alloc(s.pid, 10)) == [("fallback", "connected", -1)]


def test_R4_2_connected_to_kernel_still_uses_ring(s):
    s.w.connect(s.fd, 0)
    assert decisions(s.w.drv_alloc(s.pid, 10)) == [("ring", "fits", 0)]


def test_R4_3_no_ring_falls_back_and_message_is_queued():
    w = World()
    fd = w.socket().value
    w.bind(fd)
    h = w.drv_alloc(w.portid(fd), 10)
    assert decisions(h) == [("fallback", "no_ring", -1)]
    assert w.drv_xmit(h.value).value == 28
    assert w.recvmsg(fd).value[:4] == b"\x1a\0\0\0"


def test_R4_3_d_size_boundary_is_frame_payload(s):
    assert decisions(s.w.drv_alloc(s.pid, 2024 - 16)) == [("ring", "fits", 0)]
    o = s.w.drv_alloc(s.pid, 2024 - 15)
    assert decisions(o) == [("fallback", "too_big", -1)] and o.events[0].len == 2028
    assert decisions(s.w.drv_xmit(o.value)) == [("copy", "unconverted", 1)]


def test_R4_4_reservation_sets_RESERVED_advances_head_counts_pending(s):
    s.w.drv_alloc(s.pid, 10)
    assert s.st() == [RESERVED, UNUSED, UNUSED, UNUSED]
    info = s.w.sock_info(s.fd)
    assert (info.rx_head, info.rx_pending) == (1, 1)


def test_R4_4_ring_full_returns_ENOBUFS_with_overrun(s):
    for _ in range(4):
        assert s.w.drv_alloc(s.pid, 10).ok
    o = s.w.drv_alloc(s.pid, 10)
    assert o.err == errno.ENOBUFS and decisions(o) == [("drop", "ring_full", 0)]
    info = s.w.sock_info(s.fd)
    assert (info.sk_err, info.drops, info.congested) == (errno.ENOBUFS, 1, True)


def test_R4_5_D6_reserved_payload_is_unspecified_until_valid(s):
    s.w.write_frame(s.mid, "rx", 0, payload=b"old!")
    h = s.w.drv_alloc(s.pid, 10).value
    p = s.w.payload(s.mid, "rx", 0, 8).value
    assert not p.known and p.matches(b"anything") and p.matches(bytes(8))
    s.w.drv_xmit(h)
    p = s.w.payload(s.mid, "rx", 0).value
    assert p.known and bytes(p) == nlmsg(HELD_TYPE, 0, h, 0, bytes([h]) * 10)
    assert not s.w.payload(s.mid, "rx", 0, 40).value.known   # beyond nm_len: never written


def test_R4_6_ring_skbs_delivered_even_when_congested(s):
    for _ in range(4):
        s.w.drv_plain(s.pid, 10)
    s.w.drv_plain(s.pid, 10)                 # dropped: congested now
    s.w.setsockopt_ring(s.fd, False, (0, 0, 0, 0))   # mapped: EBUSY, state unchanged
    for i in range(4):
        s.w.write_frame(s.mid, "rx", i, status=UNUSED)
    assert s.w.sock_info(s.fd).congested
    h = s.w.drv_alloc(s.pid, 10).value
    assert decisions(s.w.drv_xmit(h)) == [("deliver", "delivered", 0)]
    assert decisions(s.w.drv_plain(s.pid, 1)) == []   # plain: EAGAIN + overrun, no frame


def test_R4_7_kernel_message_header_fields(s):
    h = s.w.drv_alloc(s.pid, 13).value
    s.w.drv_xmit(h)
    assert s.hdr(0) == (VALID, 32, 0, 0, 0, 0)


def test_R4_9_user_to_user_copy_carries_sender_credentials():
    s = Setup(proto=NETLINK_USERSOCK)
    w = s.w
    child = w.fork().value
    tx = w.socket(NETLINK_USERSOCK, task=child).value
    w.tasks[child].uid = 1234
    o = w.sendmsg(tx, b"hello", (s.pid, 0), task=child)
    assert o.value == 5 and decisions(o) == [("copy", "unconverted", 0)]
    assert s.hdr(0) == (COPY, 5, 0, child, 1234, 0)
    assert w.recvmsg(s.fd).value == b"hello"
    assert s.st()[0] == COPY                 # recvmsg does not release the frame


def test_R4_9_copy_to_full_ring_is_silent_for_sender():
    s = Setup(proto=NETLINK_USERSOCK)
    for i in range(4):
        s.w.write_frame(s.mid, "rx", i, status=VALID)
    tx = s.w.socket(NETLINK_USERSOCK).value
    o = s.w.sendmsg(tx, b"x", (s.pid, 0))
    assert o.value == 1 and decisions(o) == [("drop", "ring_full", 0)]
    assert s.w.so_error(s.fd).value == errno.ENOBUFS


def test_R4_10_multicast_is_COPY_with_group_number():
    s = Setup(proto=NETLINK_USERSOCK)
    s.w.setsockopt_int(s.fd, 1, 5)
    tx = s.w.socket(NETLINK_USERSOCK).value
    s.w.bind(tx)
    o = s.w.sendmsg(tx, b"mc", (0, 1 << 4))     # nl_groups bitmask: group 5
    assert o.err == errno.ECONNREFUSED          # no kernel socket for USERSOCK
    assert decisions(o) == [("copy", "unconverted", 0)]
    assert s.hdr(0).group == 5 and s.hdr(0).status == COPY


def test_R4_11_frames_follow_allocation_order(s):
    a = s.w.drv_alloc(s.pid, 1).value
    b = s.w.drv_alloc(s.pid, 2).value
    s.w.drv_xmit(b)
    assert s.st()[:2] == [RESERVED, VALID]
    assert s.w.drv_plain(s.pid, 3).events[0].frame == 2
    s.w.drv_xmit(a)
    assert s.st()[:3] == [VALID, VALID, COPY]


def test_R4_12_allocation_forwards_over_SKIP(s):
    s.w.write_frame(s.mid, "rx", 0, status=SKIP)
    s.w.write_frame(s.mid, "rx", 1, status=SKIP)
    assert decisions(s.w.drv_alloc(s.pid, 1)) == [("ring", "fits", 2)]


def test_R4_12_SKIP_at_head_blocks_COPY_until_poll(s):
    s.w.write_frame(s.mid, "rx", 0, status=SKIP)
    assert decisions(s.w.drv_plain(s.pid, 1)) == [("drop", "ring_full", 0)]
    s.w.so_error(s.fd)
    s.w.poll(s.fd)
    assert decisions(s.w.drv_plain(s.pid, 1)) == [("copy", "unconverted", 1)]


def test_R4_12_all_SKIP_ring_is_full(s):
    for i in range(4):
        s.w.write_frame(s.mid, "rx", i, status=SKIP)
    assert s.w.drv_alloc(s.pid, 1).err == errno.ENOBUFS


def test_R4_13_ENOBUFS_once_per_episode_and_cleared_by_recv_on_empty_queue(s):
    for i in range(4):
        s.w.write_frame(s.mid, "rx", i, status=VALID)
    s.w.drv_alloc(s.pid, 1)
    assert s.w.so_error(s.fd).value == errno.ENOBUFS   # SO_ERROR leaves CONGESTED set
    s.w.drv_alloc(s.pid, 1)
    assert s.w.so_error(s.fd).value == 0        # same episode: no new sk_err
    assert s.w.sock_info(s.fd).drops == 2
    assert s.w.recvmsg(s.fd).err == errno.EAGAIN  # rcv_wake clears CONGESTED
    s.w.drv_alloc(s.pid, 1)
    assert s.w.recvmsg(s.fd).err == errno.ENOBUFS  # reported first, then cleared


def test_R4_13_NO_ENOBUFS_counts_drops_only(s):
    s.w.setsockopt_int(s.fd, NETLINK_NO_ENOBUFS, 1)
    for i in range(4):
        s.w.write_frame(s.mid, "rx", i, status=VALID)
    s.w.drv_alloc(s.pid, 1)
    info = s.w.sock_info(s.fd)
    assert (info.sk_err, info.congested, info.drops) == (0, False, 1)


def test_R4_13_congested_receiver_gives_user_sender_EAGAIN_or_blocks():
    s = Setup(proto=NETLINK_USERSOCK)
    for i in range(4):
        s.w.write_frame(s.mid, "rx", i, status=VALID)
    tx = s.w.socket(NETLINK_USERSOCK).value
    s.w.sendmsg(tx, b"1", (s.pid, 0))
    assert s.w.sendmsg(tx, b"2", (s.pid, 0), dontwait=True).err == errno.EAGAIN
    with pytest.raises(Blocked):
        s.w.sendmsg(tx, b"3", (s.pid, 0))


def test_R4_14_recvmsg_ignores_VALID_frames(s):
    s.w.drv_xmit(s.w.drv_alloc(s.pid, 1).value)
    assert s.w.recvmsg(s.fd).err == errno.EAGAIN
    with pytest.raises(Blocked):
        s.w.recvmsg(s.fd, dontwait=False)


def test_R4_15_freed_undelivered_frame_becomes_empty_VALID(s):
    h = s.w.drv_alloc(s.pid, 1).value
    o = s.w.drv_free(h)
    assert decisions(o) == [("release", "undelivered", 0)]
    assert s.hdr(0)[:2] == (VALID, 0) and s.w.sock_info(s.fd).rx_pending == 0


def test_R4_15_xmit_to_vanished_destination_is_refused_and_released(s):
    h = s.w.drv_alloc(s.pid, 1).value
    s.w.close(s.fd)
    s.w.munmap(s.mid)
    o = s.w.drv_xmit(h)
    assert o.value == -errno.ECONNREFUSED
    assert decisions(o) == [("release", "undelivered", 0)]


def test_R4_8_frame_follows_allocation_not_delivery_socket(s):
    """R4.8 as decided by the port (D6): the frame reserved at allocation is never
    written with another socket's delivery; the new owner of the portid gets the bytes
    as a COPY message, the old frame stays RESERVED until that skb is freed (recvmsg),
    then it is an empty VALID frame (seen here through the model's ring object: the
    released socket has no mapping left)."""
    h = s.w.drv_alloc(s.pid, 1).value
    old = s.w._file(s.fd, None).sock.rx
    s.w.close(s.fd)
    s.w.munmap(s.mid)                             # released: the portid is free
    w = s.w
    fd = w.socket().value                         # a new socket takes over the portid
    assert w.bind(fd, s.pid).err == 0
    w.setsockopt_ring(fd, False, FRAMES_2K)
    mid = w.mmap(fd, 8192).value
    o = w.drv_xmit(h)
    assert [(e.decision, e.frame) for e in o.events] == [("copy", 0)]
    assert w.frame(mid, "rx", 0).value.status == COPY
    assert (old.status(0), old.pending) == (RESERVED, 1)
    o = w.recvmsg(fd)
    assert len(o.value) == 20 and [(e.decision, e.frame) for e in o.events] == [
        ("release", 0)]
    assert (old.status(0), old.nm_len(0), old.pending) == (VALID, 0, 0)


def test_R4_5_concurrent_reader_sees_RESERVED_until_delivery(s):
    _, seen = s.w.during(s.mid, "rx", 0, "drv_alloc", s.pid, 1)
    assert seen == {UNUSED, RESERVED}
    _, seen = s.w.during(s.mid, "rx", 0, "drv_xmit", 1)
    assert seen == {RESERVED, VALID}


def test_R4_2_lookup_repeated_at_transmission(s):
    s.w.connect(s.fd, 77)
    h = s.w.drv_alloc(s.pid, 10).value
    assert s.w.drv_xmit(h).value == -errno.ECONNREFUSED
    assert s.w.ledger[max(s.w.ledger)] == "dropped:refused"


def test_R4_10_subscribe_and_drop_membership():
    s = Setup(proto=NETLINK_USERSOCK)
    assert s.w.subscribe(s.fd, 33).err == errno.EINVAL
    s.w.subscribe(s.fd, 2)
    tx = s.w.socket(NETLINK_USERSOCK).value
    s.w.bind(tx)
    assert s.w.sendmsg(tx, b"a", (0, 1 << 1)).events[0].decision == "copy"
    s.w.setsockopt_int(s.fd, 2, 2)
    assert s.w.sendmsg(tx, b"b", (0, 1 << 1)).events == ()


def test_R4_10_listening_needs_privilege_on_usersock_not_generic():
    w = World()
    child = w.fork().value
    w.tasks[child].cap_net_admin = False
    u = w.socket(NETLINK_USERSOCK, task=child).value
    g = w.socket(task=child).value
    assert w.subscribe(u, 1, task=child).err == errno.EPERM
    assert w.bind(u, 0, groups=1, task=child).err == errno.EPERM
    assert w.subscribe(g, 1, task=child).ok


def test_R4_2_rebinding_a_bound_socket_to_another_portid_is_EINVAL(s):
    assert s.w.bind(s.fd, 0).err == errno.EINVAL
    assert s.w.bind(s.fd, s.pid).ok


def test_R4_13_small_SO_RCVBUF_admits_one_plain_message_then_overruns():
    w = World()
    fd = w.socket().value
    w.bind(fd)
    assert w.setsockopt_int(fd, 8, 1, level=1).ok           # SO_RCVBUF → minimum
    assert w.drv_plain(w.portid(fd), 1500).value == 1516
    assert w.drv_plain(w.portid(fd), 1500).value == -errno.EAGAIN
    assert w.sock_info(fd).drops == 1


def test_R4_2_lookup_stays_inside_the_network_namespace():
    w = World()
    child = w.fork().value
    net = w.unshare_net(child).value
    fd = w.socket(task=child).value
    w.bind(fd, 4000, task=child)
    assert w.drv_alloc(4000, 1).events[0].reason == "no_socket"
    assert w.drv_alloc(4000, 1, net=net).events[0].reason == "no_ring"
    other = w.socket().value
    w.bind(other, 4000)                                 # same portid, other netns: fine
    o = w.sendmsg(other, b"x", (4000, 0))
    assert o.ok and w.recvmsg(other).value == b"x"
    assert w.recvmsg(fd, task=child).err == errno.EAGAIN


def test_R4_15_socket_filter_rejection_leaves_empty_VALID_and_sender_succeeds(s):
    s.w.set_filter(s.fd, True)
    h = s.w.drv_alloc(s.pid, 10).value
    o = s.w.drv_xmit(h)
    assert o.value == 28 and decisions(o) == [("release", "undelivered", 0)]
    assert s.hdr(0)[:2] == (VALID, 0)
    assert s.w.drv_plain(s.pid, 1).events == () and s.w.sock_info(s.fd).queue_len == 0
    s.w.sendmsg(s.fd, nlmsg(1, 4, 1, 0))                  # NOOP + ACK: the ACK is filtered
    assert s.hdr(1)[:2] == (VALID, 0)
