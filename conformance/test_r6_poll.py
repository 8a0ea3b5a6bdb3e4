"""R6: poll() on ring sockets -- the RX readable rule (frame before head), errors, and
the side effects of poll (SKIP forwarding)."""

from __future__ import annotations

import pytest

from .helpers import SMALL, C, U, V, deliver, ring_socket, wrap_head_with_skip
from .uapi import POLLIN, POLLOUT, POLLWRNORM, RingReq, nlmsg


def test_r6_4_fresh_ring_not_readable(backend):
    s = ring_socket(backend)
    m = backend.poll(s)
    assert not m & POLLIN
    assert m & POLLOUT  # R6.3/R6.5: writable (send buffer; TX head frame free)


def test_r6_4_valid_frame_before_head_is_readable_until_released(backend):
    s = ring_socket(backend)
    deliver(backend, s)
    assert backend.poll(s) & POLLIN
    backend.set_status(s, "rx", 0, U)
    assert not backend.poll(s) & POLLIN


def test_r6_4_out_of_order_release_hides_older_frames(backend):
    """Only the frame just before head is looked at: releasing the newest frame while an
    older one is still VALID clears POLLIN."""
    s = ring_socket(backend)
    deliver(backend, s)
    deliver(backend, s)
    backend.set_status(s, "rx", 1, U)
    assert backend.frame(s, "rx", 0).status == V
    assert not backend.poll(s) & POLLIN


def test_r6_4_reserved_frame_before_head_is_readable(backend):
    s = ring_socket(backend)
    h = backend.drv_alloc(s, 16)
    assert backend.poll(s) & POLLIN
    backend.drv_free(h)
    assert backend.frame(s, "rx", 0).status == V


def test_r6_3_queued_copy_message_is_readable(backend):
    """A COPY message in the receive queue makes the socket readable even after its frame
    was released (datagram_poll part, R6.3; bug history 1.8 / R9.12)."""
    s = ring_socket(backend)
    backend.drv_plain(s, 10)
    assert backend.frame(s, "rx", 0).status == C
    backend.set_status(s, "rx", 0, U)
    assert backend.poll(s) & POLLIN
    assert backend.recv(s) is not None
    assert not backend.poll(s) & POLLIN


def test_r6_4_poll_forwards_head_over_skip(backend):
    """poll() advances the head past SKIP frames; the slot before the new head is the
    SKIP frame, so the socket is readable (R6.4)."""
    s = ring_socket(backend)
    wrap_head_with_skip(backend, s)
    assert backend.poll(s) & POLLIN
    backend.drv_plain(s, 10)
    assert backend.frame(s, "rx", 1).status == C


def test_r6_5_busy_tx_head_frame_keeps_datagram_pollout(backend):
    """R6.5 adds POLLOUT|POLLWRNORM when the TX head frame is UNUSED; R6.3's
    send-buffer test already sets both for an idle netlink socket, so the ring test
    never takes them away: the mask of a TX-ring socket is POLLOUT|POLLWRNORM with the
    head frame UNUSED, VALID (queued for sending) or RESERVED, and with the whole ring
    VALID. Sending drains the ring and nothing changes either."""
    ring = RingReq.simple(4096, 4)
    out = POLLOUT | POLLWRNORM
    s = ring_socket(backend, rx=None, tx=ring)
    assert backend.poll(s) == out
    msg = nlmsg(1, 1, 1)                                   # NLMSG_NOOP, NLM_F_REQUEST
    backend.put_tx(s, 0, msg)
    assert backend.poll(s) == out
    backend.set_status(s, "tx", 0, 1)                      # RESERVED: not free either
    assert backend.poll(s) == out
    for i in range(ring.frame_nr):
        backend.put_tx(s, i, msg)
    assert backend.poll(s) == out
    assert backend.send_ring(s) == 16 * ring.frame_nr
    assert backend.statuses(s, "tx") == [U] * ring.frame_nr
    assert backend.poll(s) == out


@pytest.mark.kernel
def test_r6_6_delivery_wakes_a_blocked_poll(kernel_backend):
    """A poll() sleeping on an empty ring returns POLLIN when the test driver delivers a
    ring message from another thread (data-ready callback, R6.6)."""
    import threading
    import time

    from .uapi import poll_mask
    b = kernel_backend
    s = ring_socket(b)
    h = b.drv_alloc(s, 16)
    t = threading.Timer(0.3, b.drv_xmit, (h,))
    t0 = time.monotonic()
    t.start()
    m = poll_mask(b.socks[s], 10000, POLLIN)
    t.join()
    assert m & POLLIN and time.monotonic() - t0 < 9


@pytest.mark.kernel
def test_r4_6_r7_2_ring_messages_ignore_tiny_rcvbuf(kernel_backend):
    """SO_RCVBUF at its minimum: ring messages are not charged against it for long
    (freed on delivery), so a ring-full of them is still delivered (R4.6)."""
    import socket as _s
    b = kernel_backend
    s = ring_socket(b)
    b.socks[s].setsockopt(_s.SOL_SOCKET, _s.SO_RCVBUF, 0)
    for _ in range(SMALL.frame_nr):
        deliver(b, s, 2000)
    assert b.statuses(s, "rx") == [V] * SMALL.frame_nr
    assert b.so_error(s) == 0
