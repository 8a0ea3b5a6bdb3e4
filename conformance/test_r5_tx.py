"""R5 + D2 + D16: the TX ring -- path selection, the processing loop, always copy (D16)
and the exclusivity conditions the netlink_mmap_tx tracepoint still reports."""

from __future__ import annotations

import errno
import socket

import pytest

from .helpers import SMALL, U, V, errno_of, noop, payload_max, ring_socket, tx_events
from .uapi import (
    NETLINK_GENERIC,
    NETLINK_ROUTE,
    NETLINK_USERSOCK,
    NLM_F_ACK,
    NLM_F_REQUEST,
    NLMSG_ERROR,
    NLMSG_NOOP,
    PAGE_SIZE,
    RingReq,
    nlmsg,
    parse_nlmsgs,
)


def acks(backend, s) -> list[tuple[int, int]]:
    """(seq, error) of the ACK messages in VALID RX frames, in frame order."""
    out = []
    for i in range(SMALL.frame_nr):
        if backend.frame(s, "rx", i).status == V:
            for _ln, t, _f, seq, _pid, pl in parse_nlmsgs(backend.message(s, "rx", i)):
                assert t == NLMSG_ERROR
                out.append((seq, int.from_bytes(pl[:4], "little", signed=True)))
    return out


def test_r5_1_r5_2_ring_send_consumes_valid_frames_in_order(backend):
    """Three VALID frames, one sendto(NULL): all consumed in order, the return value is
    their byte total, and the ACKs arrive as VALID ring frames (R4.1, R7.6)."""
    s = ring_socket(backend, rx=SMALL, tx=SMALL)
    for i in range(3):
        backend.put_tx(s, i, noop(10 + i))
    assert backend.send_ring(s) == 3 * 16
    assert backend.statuses(s, "tx") == [U] * SMALL.frame_nr
    assert acks(backend, s) == [(10, 0), (11, 0), (12, 0)]


def test_r5_1_plain_buffer_send_leaves_ring_alone(backend):
    s = ring_socket(backend, rx=SMALL, tx=SMALL)
    backend.put_tx(s, 0, noop(1))
    assert backend.send(s, noop(2)) == 16
    assert backend.frame(s, "tx", 0).status == V
    assert acks(backend, s) == [(2, 0)]


def test_r5_1_iovlen_zero_is_not_a_ring_send(backend):
    """Bug history 1.3 / R9.6: msg_iovlen == 0 must not be taken for a ring send."""
    s = ring_socket(backend, rx=SMALL, tx=SMALL)
    backend.put_tx(s, 0, noop(1))
    # an ordinary zero-length send, which 6.12 refuses (ENODATA) -- not a ring send
    assert errno_of(backend.sendmsg_noiov, s) == errno.ENODATA
    assert backend.frame(s, "tx", 0).status == V
    assert acks(backend, s) == []
    assert backend.send_ring(s) == 16  # the ring path still works afterwards
    assert acks(backend, s) == [(1, 0)]


def test_r5_1_null_send_without_tx_ring_is_ordinary(backend):
    """sendto(NULL, 0) without a TX ring is a zero-length send: ENODATA in 6.12."""
    s = ring_socket(backend, rx=SMALL, tx=None)
    assert errno_of(backend.send_ring, s) == errno.ENODATA
    assert backend.statuses(s, "rx") == [U] * SMALL.frame_nr


def test_r5_2_nothing_valid_returns_zero(backend):
    s = ring_socket(backend, rx=SMALL, tx=SMALL)
    backend.put_tx(s, 1, noop(1))  # behind a non-VALID head frame: not seen
    assert backend.send_ring(s) == 0
    assert backend.frame(s, "tx", 1).status == V


def test_r5_2_oversized_nm_len_is_einval_and_sticks(backend):
    """nm_len > frame payload: EINVAL, frame stays VALID, every later send fails the same
    way; messages consumed earlier in the same call are not counted but are processed."""
    s = ring_socket(backend, rx=SMALL, tx=SMALL)
    backend.put_tx(s, 0, noop(1))
    backend.put_tx(s, 1, noop(2), nm_len=payload_max(SMALL) + 1)
    assert errno_of(backend.send_ring, s) == errno.EINVAL
    assert backend.frame(s, "tx", 0).status == U
    assert backend.frame(s, "tx", 1).status == V
    assert errno_of(backend.send_ring, s) == errno.EINVAL
    assert acks(backend, s) == [(1, 0)]
    backend.set_len(s, "tx", 1, 16)
    assert backend.send_ring(s) == 16
    assert acks(backend, s) == [(1, 0), (2, 0)]


def test_d20_r5_2_empty_tx_frame_is_enodata_and_sticks(backend):
    """D20: a VALID TX frame with nm_len 0 fails the ring send with ENODATA, as an empty
    sendmsg() does. Like an oversized nm_len (R5.2) the frame is not taken (no TX
    decision), it stays VALID at the head and every later send fails the same way; the
    message consumed before it in the same call is processed (its ACK arrives)."""
    s = ring_socket(backend, rx=SMALL, tx=SMALL)
    backend.put_tx(s, 0, noop(1))
    backend.put_tx(s, 1, noop(2), nm_len=0)
    backend.events()
    assert errno_of(backend.send_ring, s) == errno.ENODATA
    assert [(e.decision, e.frame) for e in tx_events(backend.events())] == [("copy", 0)]
    assert backend.statuses(s, "tx") == [U, V, U, U]
    assert backend.frame(s, "tx", 1).len == 0
    assert errno_of(backend.send_ring, s) == errno.ENODATA
    assert tx_events(backend.events()) == []
    assert acks(backend, s) == [(1, 0)]
    backend.set_len(s, "tx", 1, 16)
    assert backend.send_ring(s) == 16
    assert acks(backend, s) == [(1, 0), (2, 0)]


def test_r5_2_nm_len_equal_to_payload_is_accepted(backend):
    s = ring_socket(backend, rx=SMALL, tx=SMALL)
    n = payload_max(SMALL)
    msg = nlmsg(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 5, bytes(n - 16))
    assert len(msg) == n
    backend.put_tx(s, 0, msg)
    assert backend.send_ring(s) == n


def test_r5_3_head_advances_and_wraps(backend):
    s = ring_socket(backend, rx=SMALL, tx=SMALL)
    for rnd in range(3):
        for i in range(SMALL.frame_nr):
            backend.put_tx(s, i, noop(100 * rnd + i, ack=False))
        assert backend.send_ring(s) == 16 * SMALL.frame_nr
    backend.put_tx(s, 0, noop(7, ack=False))
    assert backend.send_ring(s) == 16


def _exclusive(backend, s):
    return None


def _dup(backend, s):
    return ("fd", backend.dup(s))


def _fork(backend, s):
    return ("fork", backend.fork_hold())


def _mmap2(backend, s):
    return ("map", backend.mmap(s))


def _thread(backend, s):
    return ("thread", backend.thread_start())


SHARING = [
    ("exclusive", _exclusive, ("copy", "exclusive")),
    ("dup", _dup, ("copy", "file_shared")),
    ("fork", _fork, ("copy", "mapped_multiple")),
    ("second_mmap", _mmap2, ("copy", "mapped_multiple")),
    ("thread", _thread, ("copy", "files_shared")),
]


def _undo(backend, tok):
    kind, v = tok
    {"fd": backend.close_fd, "fork": backend.fork_release, "map": backend.munmap,
     "thread": backend.thread_stop}[kind](v)


@pytest.mark.parametrize("name,share,expect", SHARING, ids=[c[0] for c in SHARING])
def test_d2_d16_exclusivity_is_reported_every_send_copies(backend, name, share, expect):
    """D16: every ring send copies; the TX tracepoint still reports D2's classification
    of the sender: dup, fork, a second mapping or a second thread each give their reason,
    an unshared socket `exclusive`. The frame is UNUSED when sendmsg returns and the ACK
    arrives. Undoing the sharing gives `exclusive` again (classified per call, R5.4)."""
    s = ring_socket(backend, rx=SMALL, tx=SMALL, proto=NETLINK_ROUTE)
    tok = share(backend, s)
    backend.events()
    backend.put_tx(s, 0, noop(1))
    assert backend.send_ring(s) == 16
    tx = [(e.decision, e.reason, e.frame) for e in tx_events(backend.events())]
    assert tx == [(*expect, 0)]
    assert backend.frame(s, "tx", 0).status == U
    assert acks(backend, s) == [(1, 0)]
    if tok is not None:
        _undo(backend, tok)
        backend.put_tx(s, 1, noop(2))
        assert backend.send_ring(s) == 16
        tx = [(e.decision, e.reason) for e in tx_events(backend.events())]
        assert tx == [("copy", "exclusive")]


def test_d16_genetlink_exclusive_send_reports_copy_exclusive(backend):
    """D16 (R5.5/R9.7: always copy) dropped D8's protocol allow-list and its reason
    `protocol`: an exclusive NETLINK_GENERIC sender is reported like a ROUTE one."""
    s = ring_socket(backend, rx=SMALL, tx=SMALL, proto=NETLINK_GENERIC)
    backend.events()
    backend.put_tx(s, 0, noop(1))
    assert backend.send_ring(s) == 16
    tx = [(e.decision, e.reason, e.frame) for e in tx_events(backend.events())]
    assert tx == [("copy", "exclusive", 0)]
    assert backend.frame(s, "tx", 0).status == U
    assert acks(backend, s) == [(1, 0)]


def test_r5_8_ring_send_to_user_peer_is_copied(backend):
    """A ring send to another user socket (non-zero portid) is copy mode
    (dst_not_kernel) and is delivered like a normal send."""
    a = ring_socket(backend, rx=None, tx=SMALL, proto=NETLINK_USERSOCK)
    b = backend.socket(NETLINK_USERSOCK)
    msg = nlmsg(0x40, 0, 3, b"via tx ring")
    backend.put_tx(a, 0, msg)
    backend.events()
    assert backend.send_ring(a, (backend.portid(b), 0)) == len(msg)
    tx = [(e.decision, e.reason) for e in tx_events(backend.events())]
    assert tx == [("copy", "dst_not_kernel")]
    assert backend.frame(a, "tx", 0).status == U
    assert backend.recv(b) == msg


def test_r7_6_ack_to_full_rx_ring_is_lost_with_enobufs(backend):
    """The ACK cannot be built in a full RX ring: no ACK, sk_err ENOBUFS; the request
    itself was processed (sendmsg counts it)."""
    from .helpers import deliver
    s = ring_socket(backend, rx=SMALL, tx=SMALL)
    for _ in range(SMALL.frame_nr):
        deliver(backend, s)
    backend.put_tx(s, 0, noop(9))
    assert backend.send_ring(s) == 16
    assert backend.so_error(s) == errno.ENOBUFS
    types = {parse_nlmsgs(backend.message(s, "rx", i))[0][1] for i in range(SMALL.frame_nr)}
    assert types == {0x7FF0}  # still the driver's messages: no NLMSG_ERROR anywhere
    assert backend.recv(s) is None


def test_r5_6_r7_7_d16_ring_send_leaves_no_tx_frame_pending_teardown_works(backend):
    """D16: each TX frame is copied and set UNUSED before processing, so no TX frame is
    ever pending: a blocking ring send stops at the first non-VALID frame without
    waiting (R5.6); the VALID frame behind the hole is not seen. MSG_DONTWAIT stops at
    the same place; once the hole is filled it consumes the rest. Right after a
    MSG_DONTWAIT send, with the mapping gone, the TX ring can be torn down (R2.4: a
    pending frame would give EBUSY; no TX skb holds a frame, R7.7)."""
    s = ring_socket(backend, rx=SMALL, tx=SMALL, proto=NETLINK_ROUTE, mapped=False)
    m = backend.mmap(s)
    backend.put_tx(s, 0, noop(1))
    backend.put_tx(s, 1, noop(2))
    backend.put_tx(s, 3, noop(4))
    backend.events()
    assert backend.send_ring(s) == 2 * 16                      # blocking
    tx = [(e.decision, e.reason, e.frame) for e in tx_events(backend.events())]
    assert tx == [("copy", "exclusive", 0), ("copy", "exclusive", 1)]
    assert backend.statuses(s, "tx") == [U, U, U, V]
    assert acks(backend, s) == [(1, 0), (2, 0)]
    assert backend.send_ring(s, flags=socket.MSG_DONTWAIT) == 0  # head 2 is UNUSED
    assert backend.statuses(s, "tx") == [U, U, U, V]
    backend.put_tx(s, 2, noop(3))
    assert backend.send_ring(s, flags=socket.MSG_DONTWAIT) == 2 * 16
    tx = [(e.decision, e.reason, e.frame) for e in tx_events(backend.events())]
    assert tx == [("copy", "exclusive", 2), ("copy", "exclusive", 3)]
    assert backend.statuses(s, "tx") == [U] * SMALL.frame_nr
    assert acks(backend, s) == [(1, 0), (2, 0), (3, 0), (4, 0)]
    backend.put_tx(s, 0, noop(5))                              # head wrapped to 0
    assert backend.send_ring(s, flags=socket.MSG_DONTWAIT) == 16
    assert backend.statuses(s, "tx") == [U] * SMALL.frame_nr
    backend.munmap(m)
    backend.set_ring(s, True, RingReq(0, 0, 0, 0))             # TX pending == 0
    backend.set_ring(s, True, RingReq.simple(PAGE_SIZE, 2))    # and a new TX ring
