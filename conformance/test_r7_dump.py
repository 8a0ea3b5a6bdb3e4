"""R6.1/R6.2/R7: dumps on an RX ring -- first chunk in sendmsg, continuation only from
poll() (flow control: head frame and the frame half a ring ahead must be free, D3),
a dump larger than the ring, NLMSG_DONE, chunks as COPY when frames are too small and
capped when frames are large (D18)."""

from __future__ import annotations

import errno

import pytest

from .genl import DUMP_TYPE, plain_message
from .helpers import DUMP_RING, C, U, V, ring_socket
from .uapi import NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, PAGE_SIZE, RingReq, parse_nlmsgs


def start_dump(b, s, count, size, seq=77, via_ring=False):
    req = b.dump_request(s, seq, count, size)
    if via_ring:
        b.put_tx(s, 0, req)
        return b.send_ring(s)
    return b.send(s, req)


def check_dump_messages(b, s, msgs, count, size, seq=77):
    """Messages 0..count-1 in order with the driver's contents, then NLMSG_DONE."""
    port = b.portid(s)
    assert len(msgs) == count + 1
    for k, (ln, t, f, sq, pid, pl) in enumerate(msgs[:-1]):
        assert (ln, t, f, sq, pid) == (16 + size, DUMP_TYPE, NLM_F_MULTI, seq, port), k
        assert pl == bytes([k & 0xFF]) * size, k
    ln, t, f, sq, pid, pl = msgs[-1]
    assert (t, f & NLM_F_MULTI, sq) == (NLMSG_DONE, NLM_F_MULTI, seq)


def drain(b, s, req, idx, msgs, max_polls=200):
    """In-order ring reader: consume VALID (and COPY via recv) frames, release them, poll
    when the next frame is UNUSED; stop at NLMSG_DONE. Returns (next index, polls)."""
    polls = 0
    while not msgs or msgs[-1][1] != NLMSG_DONE:
        st = b.frame(s, "rx", idx).status
        if st == U:
            assert polls < max_polls, f"dump stalled at frame {idx} after {len(msgs)} msgs"
            b.poll(s)
            polls += 1
            if b.frame(s, "rx", idx).status == U:
                raise AssertionError(f"poll produced nothing at frame {idx}, "
                                     f"{len(msgs)} messages so far")
            continue
        if st == V:
            data = b.message(s, "rx", idx)
        else:
            assert st == C, f"frame {idx} status {st}"
            data = b.recv(s)
        msgs.extend(parse_nlmsgs(data))
        b.set_status(s, "rx", idx, U)
        idx = (idx + 1) % req.frame_nr
    return idx, polls


def whole_dump(b, s, req, count, size):
    """Start a dump, read it from frame 0 to NLMSG_DONE and check every message; returns
    frame 0's header as the first chunk left it."""
    start_dump(b, s, count, size)
    first = b.frame(s, "rx", 0)
    msgs: list = []
    drain(b, s, req, 0, msgs)
    check_dump_messages(b, s, msgs, count, size)
    return first


def test_r7_3_first_chunk_only_without_poll(backend):
    """The request produces exactly one chunk synchronously; nothing more arrives until
    poll() (a ring-only reader never gets more than the first chunk)."""
    s = ring_socket(backend, rx=DUMP_RING)
    start_dump(backend, s, 200, 200)
    st = backend.statuses(s, "rx")
    assert st[0] == V and st[1:] == [U] * (DUMP_RING.frame_nr - 1)
    assert backend.recv(s) is None
    assert backend.statuses(s, "rx")[1] == U


def test_r6_1_r6_2_poll_fills_up_to_half_the_ring(backend):
    """With frame 0 unreleased, poll() produces chunks while the head frame and the frame
    half a ring ahead are free: frames 1..N/2-1 fill, then at head N/2 the frame
    (N/2 + N/2) mod N = 0 is not UNUSED and the loop stops (D3)."""
    n = DUMP_RING.frame_nr
    s = ring_socket(backend, rx=DUMP_RING)
    start_dump(backend, s, 400, 200)
    backend.poll(s)
    st = backend.statuses(s, "rx")
    assert st[: n // 2] == [V] * (n // 2)
    assert st[n // 2:] == [U] * (n - n // 2)


def test_r6_2_frame_half_ahead_blocks_continuation(backend):
    """Release frame 0 (head 1); a busy frame at (1 + N/2) mod N stops the dump in poll;
    freeing it lets the dump continue."""
    n = DUMP_RING.frame_nr
    s = ring_socket(backend, rx=DUMP_RING)
    start_dump(backend, s, 400, 200)
    backend.set_status(s, "rx", 0, U)
    blocker = (1 + n // 2) % n
    backend.set_status(s, "rx", blocker, V)
    backend.poll(s)
    assert backend.frame(s, "rx", 1).status == U
    backend.set_status(s, "rx", blocker, U)
    backend.poll(s)
    assert backend.frame(s, "rx", 1).status == V


def test_r7_dump_larger_than_ring_completes_in_order(backend):
    """A dump of several ring-fulls: every message exactly once, in order, then DONE."""
    s = ring_socket(backend, rx=DUMP_RING)
    count, size = 300, 200  # ~18 per chunk -> ~17 chunks for an 8-frame ring
    start_dump(backend, s, count, size)
    msgs: list = []
    _idx, polls = drain(backend, s, DUMP_RING, 0, msgs)
    check_dump_messages(backend, s, msgs, count, size)
    assert polls >= 2


def test_r7_dump_requested_through_tx_ring(backend):
    s = ring_socket(backend, rx=DUMP_RING, tx=RingReq.simple(PAGE_SIZE, 2))
    assert start_dump(backend, s, 50, 100, seq=5, via_ring=True) > 0
    msgs: list = []
    drain(backend, s, DUMP_RING, 0, msgs)
    check_dump_messages(backend, s, msgs, 50, 100, seq=5)


def test_r7_1_small_frames_make_copy_chunks(backend):
    """Frame payload below NLMSG_GOODSIZE: dump chunks are plain skbs, delivered as COPY
    frames, continued by recvmsg (R7.1, R7.3a)."""
    req = RingReq.simple(2048, 8)
    s = ring_socket(backend, rx=req)
    assert whole_dump(backend, s, req, 60, 100).status == C


@pytest.mark.parametrize("frame", [65536, 8 << 20], ids=["64k", "8m"])
def test_r7_1_d18_ring_chunks_are_capped_in_large_frames(backend, frame):
    """D18: a ring chunk holds at most max(alloc size, 16384) bytes however large the
    frame (16 x 1016 fit, a 17th does not); 8 MiB frames get VALID chunks as well."""
    req = RingReq.simple(frame, 2)
    s = ring_socket(backend, rx=req)
    f = whole_dump(backend, s, req, 40, 1000)
    assert (f.status, f.len) == (V, 16 * 1016)


def test_r7_dump_restarts_at_every_head_position(backend):
    """Bug history 1.4: start dumps with the ring head at every position 0..N-1; each
    completes without loss or duplication."""
    s = ring_socket(backend, rx=DUMP_RING)
    idx = 0
    for seq in range(1, DUMP_RING.frame_nr + 1):
        start_dump(backend, s, 60, 300, seq=seq)
        msgs: list = []
        idx, _ = drain(backend, s, DUMP_RING, idx, msgs)
        check_dump_messages(backend, s, msgs, 60, 300, seq=seq)


def test_r7_5_d14_done_not_fitting_goes_in_the_next_chunk(backend):
    """R7.5 as decided by D14 (patches/DECISIONS.md, 6.12 callback semantics kept): the
    callback completes with the chunk exactly full (2 x 2036 = 4072 bytes) and NLMSG_DONE
    does not fit: the chunk is delivered VALID with both messages, no error is raised, and
    DONE arrives in the next chunk (on poll)."""
    s = ring_socket(backend, rx=DUMP_RING)
    f = whole_dump(backend, s, DUMP_RING, 2, 2020)
    assert (f.status, f.len) == (V, 2 * 2036)
    assert backend.so_error(s) == 0


def test_r6_1_r9_3_failed_continuation_sets_positive_sk_err(backend):
    """R7.3(a): recvmsg() of a COPY message continues a running dump; with the ring full
    the chunk cannot be allocated (overrun) and recvmsg stores the error in sk_err as a
    *positive* ENOBUFS (R9.3 fix, D3), while the dequeued message is still returned."""
    n = DUMP_RING.frame_nr
    s = ring_socket(backend, rx=DUMP_RING)
    start_dump(backend, s, 400, 200)                  # chunk 1 in frame 0
    backend.drv_plain(s, 10)                          # unconverted: COPY in frame 1
    assert backend.frame(s, "rx", 1).status == C
    for i in range(2, n):                             # the rest of the ring is busy
        backend.set_status(s, "rx", i, V)
    assert backend.recv(s) is not None
    assert backend.so_error(s) == errno.ENOBUFS


def test_r7_4_ring_chunks_leave_no_rmem_charge_copy_chunks_hold_it_until_read(backend):
    """R7.4: a dump chunk is charged to the requester's receive memory when it gets its
    owner, and the same destructor uncharges it. A ring chunk is freed as soon as it is
    written into its frame, so with VALID chunks nothing stays charged -- after the
    first chunk, while the dump runs, and at the end (R4.6/R7.2: ring skbs do not
    accumulate). A COPY chunk (frames smaller than NLMSG_GOODSIZE) sits in the receive
    queue charged until recvmsg() takes it; once the dump is drained nothing is left."""
    s = ring_socket(backend, rx=DUMP_RING)
    assert not backend.rmem_charged(s)
    start_dump(backend, s, 200, 200)
    assert backend.frame(s, "rx", 0).status == V
    assert not backend.rmem_charged(s)
    backend.set_status(s, "rx", 0, U)
    backend.poll(s)                                   # more chunks (R6.1)
    assert backend.statuses(s, "rx")[1:3] == [V, V]
    assert not backend.rmem_charged(s)

    small = RingReq.simple(2048, 8)
    c = ring_socket(backend, rx=small)
    start_dump(backend, c, 60, 100)
    assert backend.frame(c, "rx", 0).status == C
    assert backend.rmem_charged(c)                    # queued for recvmsg
    msgs: list = []
    drain(backend, c, small, 0, msgs)
    check_dump_messages(backend, c, msgs, 60, 100)
    assert not backend.rmem_charged(c)


def test_r7_2_ring_chunk_passes_the_receive_buffer_limit(backend):
    """R7.2: a ring chunk does not stop at the receive buffer limit. With a COPY message
    queued and charged (R4.9) and SO_RCVBUF at its minimum, so that the chunk's charge
    takes receive memory past the buffer, the first chunk is still built and lands VALID
    in the next frame with the whole dump."""
    s = ring_socket(backend, rx=DUMP_RING)
    backend.set_rcvbuf(s, 0)
    assert backend.drv_plain(s, 100) >= 0
    assert backend.rmem_charged(s)
    start_dump(backend, s, 3, 100)
    assert backend.statuses(s, "rx")[:3] == [C, V, U]
    check_dump_messages(backend, s, parse_nlmsgs(backend.message(s, "rx", 1)), 3, 100)
    assert backend.recv(s) == plain_message(100)
    assert backend.so_error(s) == 0


def test_r7_2_d21_copy_chunk_stops_at_the_receive_buffer_limit(backend):
    """D21 (R7.2): a chunk in frames too small for it is a COPY message and obeys the
    receive buffer limit. With a COPY message charged and SO_RCVBUF at its minimum the
    first chunk is not built: the request is answered with ENOBUFS (R7.6: an error ACK,
    VALID in the ring) and the dump stays open; when recvmsg() has read the queue it
    continues the dump (R7.3) with a COPY chunk holding the whole dump."""
    small = RingReq.simple(2048, 8)
    s = ring_socket(backend, rx=small)
    backend.set_rcvbuf(s, 0)
    assert backend.drv_plain(s, 100) >= 0
    start_dump(backend, s, 3, 100)
    assert backend.statuses(s, "rx")[:3] == [C, V, U]
    [(_ln, t, _f, seq, _pid, pl)] = parse_nlmsgs(backend.message(s, "rx", 1))
    assert (t, seq, int.from_bytes(pl[:4], "little", signed=True)) == \
        (NLMSG_ERROR, 77, -errno.ENOBUFS)
    assert backend.recv(s) == plain_message(100)
    assert backend.statuses(s, "rx")[:4] == [C, V, C, U]
    check_dump_messages(backend, s, parse_nlmsgs(backend.recv(s)), 3, 100)


def test_r6_1_d21_poll_continues_a_dump_only_up_to_half_the_receive_buffer(backend):
    """D21: poll() continues a dump (R6.1) only while receive memory is at most half the
    buffer, as recvmsg() does (R7.3). A COPY message charged beyond half of SO_RCVBUF's
    minimum stops it although the ring has room (R6.2); reading the message lets
    recvmsg() continue it, and from then on poll() does, to NLMSG_DONE."""
    s = ring_socket(backend, rx=DUMP_RING)
    backend.set_rcvbuf(s, 0)
    start_dump(backend, s, 20, 1000)
    assert backend.frame(s, "rx", 0).status == V
    msgs = parse_nlmsgs(backend.message(s, "rx", 0))
    backend.set_status(s, "rx", 0, U)
    assert backend.drv_plain(s, 2000) >= 0            # COPY frame 1, charged
    backend.poll(s)
    assert backend.statuses(s, "rx") == [U, C] + [U] * 6
    assert backend.recv(s) == plain_message(2000)
    assert backend.frame(s, "rx", 2).status == V      # recvmsg continued the dump
    backend.set_status(s, "rx", 1, U)
    drain(backend, s, DUMP_RING, 2, msgs)
    check_dump_messages(backend, s, msgs, 20, 1000)
