"""R4: the RX path -- allocation-time destination lookup, ordering, copy fallback,
SKIP, ring full, recvmsg, empty VALID frames, multicast, credentials."""

from __future__ import annotations

import errno

import pytest

from .genl import plain_message
from .helpers import (
    SMALL,
    C,
    R,
    S,
    U,
    V,
    deliver,
    errno_of,
    held,
    payload_max,
    ring_socket,
    rx_events,
    wrap_head_with_skip,
)
from .uapi import NETLINK_USERSOCK, PAGE_SIZE, RingReq, nlmsg


def test_r4_11_frames_in_allocation_order_not_transmission_order(backend):
    """Allocate A then B for one socket, transmit B then A: A is in frame 0, B in frame 1.
    Between the two transmissions frame 0 is still RESERVED (R4.5) and frame 1 VALID."""
    s = ring_socket(backend)
    a = backend.drv_alloc(s, 40)
    b = backend.drv_alloc(s, 60)
    msg_a, msg_b = held(backend, a, 40), held(backend, b, 60)
    assert [backend.frame(s, "rx", i).status for i in (0, 1, 2)] == [R, R, U]
    assert backend.drv_xmit(b) >= 0
    assert backend.frame(s, "rx", 0).status == R
    assert backend.frame(s, "rx", 1).status == V
    assert backend.message(s, "rx", 1) == msg_b
    assert backend.drv_xmit(a) >= 0
    assert backend.frame(s, "rx", 0).status == V
    assert backend.message(s, "rx", 0) == msg_a
    assert backend.message(s, "rx", 1) == msg_b


def test_r4_2_no_destination_socket_falls_back(backend):
    """ALLOC for a portid nobody is bound to: a plain skb (fallback no_socket); XMIT then
    fails with ECONNREFUSED (the destination does not exist)."""
    gone = backend.socket()
    backend.close(gone)
    backend.events()
    h = backend.drv_alloc(gone, 32)
    evs = rx_events(backend.events())
    assert [(e.decision, e.reason) for e in evs if e.sock == gone] == [("fallback", "no_socket")]
    assert backend.drv_xmit(h) == -errno.ECONNREFUSED


def test_r4_3_fallback_no_ring_queues_normally(backend):
    """Destination without RX ring: plain skb, delivered to the receive queue (R4.3c)."""
    s = backend.socket()
    backend.events()
    h = backend.drv_alloc(s, 32)
    msg = held(backend, h, 32)
    evs = rx_events(backend.events())
    assert [(e.decision, e.reason) for e in evs if e.sock == s] == [("fallback", "no_ring")]
    assert backend.drv_xmit(h) >= 0
    assert backend.recv(s) == msg


def test_r4_3_fallback_too_big_becomes_copy(backend):
    """A message larger than the frame payload is a plain skb (R4.3d) delivered as a COPY
    frame (R4.9); recvmsg returns it."""
    s = ring_socket(backend)
    size = payload_max(SMALL)  # 16 + size > payload
    backend.events()
    h = backend.drv_alloc(s, size)
    msg = held(backend, h, size)
    evs = rx_events(backend.events())
    assert [(e.decision, e.reason) for e in evs if e.sock == s] == [("fallback", "too_big")]
    assert backend.frame(s, "rx", 0).status == U
    assert backend.drv_xmit(h) >= 0
    f = backend.frame(s, "rx", 0)
    assert (f.status, f.len) == (C, len(msg))
    assert backend.recv(s) == msg


def test_r4_3_largest_fitting_message_uses_ring(backend):
    s = ring_socket(backend)
    size = payload_max(SMALL) - 16  # exactly the frame payload
    h = backend.drv_alloc(s, size)
    assert backend.frame(s, "rx", 0).status == R
    backend.drv_xmit(h)
    assert backend.frame(s, "rx", 0).len == payload_max(SMALL)


def test_r4_4_r4_13_ring_full_drops_with_enobufs_once(backend):
    """Ring full: ALLOC fails with ENOBUFS (no fallback), the socket gets sk_err ENOBUFS
    once per congestion episode (R4.13), as a positive errno (R9.3, D3)."""
    s = ring_socket(backend)
    for _ in range(SMALL.frame_nr):
        deliver(backend, s)
    assert backend.statuses(s, "rx") == [V] * SMALL.frame_nr
    assert errno_of(backend.drv_alloc, s, 32) == errno.ENOBUFS
    assert errno_of(backend.drv_alloc, s, 32) == errno.ENOBUFS
    assert backend.so_error(s) == errno.ENOBUFS
    assert backend.so_error(s) == 0
    backend.set_status(s, "rx", 0, U)
    deliver(backend, s)
    assert backend.frame(s, "rx", 0).status == V


def test_r4_9_unconverted_sender_gives_copy_frame(backend):
    """PLAIN (alloc_skb + unicast): COPY frame with nm_len, message via recvmsg only."""
    s = ring_socket(backend)
    backend.events()
    assert backend.drv_plain(s, 70) >= 0
    evs = [(e.decision, e.reason, e.frame) for e in rx_events(backend.events()) if e.sock == s]
    assert evs == [("copy", "unconverted", 0)]
    f = backend.frame(s, "rx", 0)
    assert (f.status, f.len) == (C, 16 + 72)
    assert backend.recv(s) == plain_message(70)


def test_r4_9_copy_to_full_ring_is_dropped_silently_for_sender(backend):
    s = ring_socket(backend)
    for _ in range(SMALL.frame_nr):
        deliver(backend, s)
    assert backend.drv_plain(s, 20) >= 0  # the sender is not told
    assert errno_of(backend.recv, s) == errno.ENOBUFS  # recvmsg reports sk_err, clears it
    assert backend.recv(s) is None
    assert backend.so_error(s) == 0


def test_r4_6_r4_13_d21_plain_messages_obey_rcvbuf_ring_messages_do_not(backend):
    """An RX ring lifts the receive buffer limit for ring skbs only (R4.6, D21): with a
    COPY message charged beyond SO_RCVBUF's minimum, a second plain message is refused
    -- no COPY frame, the kernel sender gets EAGAIN and the receiver overruns (R4.13,
    ENOBUFS) -- while a ring message still lands VALID. Once recvmsg() has emptied the
    queue (which ends the congestion) a plain message is taken again."""
    s = ring_socket(backend)
    backend.set_rcvbuf(s, 0)
    assert backend.drv_plain(s, 2000) >= 0            # an empty queue takes one (R4.13)
    assert backend.rmem_charged(s)
    assert backend.drv_plain(s, 2000) == -errno.EAGAIN
    assert backend.statuses(s, "rx") == [C, U, U, U]
    deliver(backend, s)
    assert backend.statuses(s, "rx") == [C, V, U, U]
    assert backend.so_error(s) == errno.ENOBUFS
    assert backend.recv(s) == plain_message(2000)
    assert not backend.rmem_charged(s)
    assert backend.drv_plain(s, 2000) >= 0
    assert backend.statuses(s, "rx") == [C, V, C, U]


def test_r4_9_user_to_user_copy_credentials(backend):
    """NETLINK_USERSOCK: a plain send from a peer arrives COPY with the sender's
    credentials in the frame header (R4.7/R4.9)."""
    import os
    a = ring_socket(backend, proto=NETLINK_USERSOCK)
    b = backend.socket(NETLINK_USERSOCK)
    msg = nlmsg(0x30, 0, 9, b"user data")
    assert backend.send(b, msg, (backend.portid(a), 0)) == len(msg)
    f = backend.frame(a, "rx", 0)
    assert (f.status, f.len, f.group) == (C, len(msg), 0)
    assert (f.pid, f.uid, f.gid) == (os.getpid(), os.getuid(), os.getgid())
    assert backend.recv(a) == msg


def test_r4_10_multicast_is_copy_with_group_number(backend):
    """sendto((0, 1 << 2)): nl_groups is a bitmask, the kernel broadcasts to group
    ffs(4) = 3; the receiver's COPY frame carries the group *number* 3."""
    a = backend.socket(NETLINK_USERSOCK)
    backend.join_group(a, 3)
    backend.set_ring(a, False, SMALL)
    backend.mmap(a)
    b = backend.socket(NETLINK_USERSOCK)
    msg = nlmsg(0x31, 0, 1, b"to group 3")
    # broadcast first, then the unicast to portid 0 finds no USERSOCK kernel socket
    assert errno_of(backend.send, b, msg, (0, 1 << 2)) == errno.ECONNREFUSED
    f = backend.frame(a, "rx", 0)
    assert (f.status, f.group, f.len) == (C, 3, len(msg))
    assert backend.recv(a) == msg


def test_r4_12_skip_frame_forwarded_by_allocation(backend):
    """Fill the ring, mark frame 0 SKIP and frame 1 UNUSED: the next ring message lands in
    frame 1 (head skips frame 0); the SKIP frame is left alone."""
    s = ring_socket(backend)
    for _ in range(SMALL.frame_nr):
        deliver(backend, s)
    backend.set_status(s, "rx", 0, S)
    backend.set_status(s, "rx", 1, U)
    k = deliver(backend, s, 48)
    assert backend.frame(s, "rx", 0).status == S
    f = backend.frame(s, "rx", 1)
    assert f.status == V and backend.message(s, "rx", 1)[8:12] == k.to_bytes(4, "little")


def test_r4_12_skip_at_head_blocks_copy_until_poll(backend):
    """COPY delivery does not forward over SKIP (dropped), poll() does; afterwards COPY
    lands behind the SKIP frame."""
    s = ring_socket(backend)
    wrap_head_with_skip(backend, s)
    backend.drv_plain(s, 10)
    assert backend.frame(s, "rx", 1).status == U
    assert backend.so_error(s) == errno.ENOBUFS
    backend.poll(s)
    backend.drv_plain(s, 10)
    assert backend.frame(s, "rx", 0).status == S
    assert backend.frame(s, "rx", 1).status == C


def test_r4_15_freed_without_delivery_is_empty_valid(backend):
    s = ring_socket(backend)
    h = backend.drv_alloc(s, 40)
    backend.events()
    backend.drv_free(h)
    f = backend.frame(s, "rx", 0)
    assert (f.status, f.len) == (V, 0)
    assert [(e.decision, e.frame) for e in rx_events(backend.events()) if e.sock == s] == [
        ("release", 0)]


def test_r4_4_reservation_advances_head_and_wraps(backend):
    """Frames are reserved at consecutive indices and the head wraps: after N messages
    and releasing all, message N+1 lands in frame 0."""
    s = ring_socket(backend)
    for i in range(SMALL.frame_nr):
        deliver(backend, s, 8 + i)
        assert backend.frame(s, "rx", i).len == 16 + ((8 + i + 3) & ~3)
    for i in range(SMALL.frame_nr):
        backend.set_status(s, "rx", i, U)
    deliver(backend, s, 99)
    assert backend.frame(s, "rx", 0).status == V
    assert backend.frame(s, "rx", 1).status == U


@pytest.mark.parametrize("frame_size", [1200, 2000])
def test_r1_7_frames_with_block_slack(backend, frame_size):
    """Block size not a multiple of the frame size: frame k of block 1 starts at the block,
    not at k*frame_size (R1.7). Read through block-aware addressing."""
    req = RingReq(PAGE_SIZE, 2, frame_size, 2 * (PAGE_SIZE // frame_size))
    s = ring_socket(backend, rx=req)
    msgs = []
    for _ in range(req.frame_nr):
        h = backend.drv_alloc(s, 100)
        msgs.append(held(backend, h, 100))
        backend.drv_xmit(h)
    for i, m in enumerate(msgs):
        assert backend.frame(s, "rx", i).status == V
        assert backend.message(s, "rx", i) == m



def test_r4_8_ring_skb_reaching_another_socket_never_takes_its_frame(backend):
    """R4.8 (frame ownership follows allocation; D6 decides delivery to another socket):
    a message is allocated for socket A (two earlier ones fill frames 0 and 1, so it
    reserves frame 2); A is closed and unmapped (released), and B takes over A's portid
    with a fresh RX ring. Transmitted, the message reaches B but is not a ring message
    *for B*: B gets it as a COPY in its own head frame 0 (recvmsg returns the driver's
    bytes), never VALID. The frame reserved in A's ring is released only when that skb
    is freed (B's recvmsg): the trace reports `release undelivered` for frame 2, the
    allocation frame. Events carry A's id for both sockets (same portid)."""
    a = ring_socket(backend, mapped=False)
    ma = backend.mmap(a)
    deliver(backend, a)
    deliver(backend, a)
    h = backend.drv_alloc(a, 40)
    want = held(backend, h, 40)
    assert backend.frame(a, "rx", 2).status == R
    backend.close(a)
    backend.munmap(ma)
    b = backend.socket(port_of=a)
    assert backend.portid(b) == backend.portid(a)
    backend.set_ring(b, False, SMALL)
    backend.mmap(b)
    backend.events()
    assert backend.drv_xmit(h) == 16 + 40
    assert [(e.sock, e.decision, e.frame, e.len) for e in rx_events(backend.events())] == [
        (a, "copy", 0, 56)]
    f = backend.frame(b, "rx", 0)
    assert (f.status, f.len) == (C, 56)
    assert backend.statuses(b, "rx") == [C, U, U, U]
    assert backend.recv(b) == want
    assert [(e.sock, e.decision, e.frame, e.len) for e in rx_events(backend.events())] == [
        (a, "release", 2, 0)]
    assert backend.statuses(b, "rx") == [C, U, U, U]
    assert backend.recv(b) is None
