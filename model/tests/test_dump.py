"""R7.x: dump chunks, NLMSG_DONE, who drives a dump, ACKs."""

import errno

import pytest

from model import NotModelled, RingReq, World
from model.dump import RING_DUMP_MAX
from model.uapi import (
    COPY,
    DUMP_TYPE,
    NETLINK_CAP_ACK,
    NLM_F_ACK,
    NLM_F_CAPPED,
    NLM_F_MULTI,
    NLMSG_DONE,
    NLMSG_ERROR,
    NLMSG_HDR,
    NLMSG_NOOP,
    UNUSED,
    VALID,
    dump_request,
    nlmsg,
)

from .conftest import FRAMES_2K, FRAMES_8K, Setup


def msgs(data):
    out, off = [], 0
    while off < len(data):
        ln, typ, flags, seq, pid = NLMSG_HDR.unpack_from(data, off)
        out.append((typ, flags, seq, pid, data[off + 16:off + ln]))
        off += (ln + 3) & ~3
    return out


def ring_msgs(s, i):
    return msgs(bytes(s.w.payload(s.mid, "rx", i).value))


def test_R7_1_ring_chunk_room_is_whole_frame_payload_below_the_D18_cap(big):
    big.w.drv_dump(big.fd, 20, 1000, seq=9)
    m = ring_msgs(big, 0)
    assert len(m) == 8                                  # 8 * 1016 <= 8168 < 9 * 1016
    assert m[3] == (DUMP_TYPE, NLM_F_MULTI, 9, big.pid, bytes([3]) * 1000)


def drain(s):
    """Read a ring dump to its end: VALID frames in ring order, each released and the
    dump continued by poll (R6.1). Returns (nm_len, messages) per chunk."""
    chunks, i, n = [], 0, len(s.st())
    while s.hdr(i).status == VALID:
        chunks.append((s.hdr(i).len, ring_msgs(s, i)))
        s.w.write_frame(s.mid, "rx", i, status=UNUSED)
        s.w.poll(s.fd)
        i = (i + 1) % n
    assert not s.w.sock_info(s.fd).dump_running
    return chunks


@pytest.mark.parametrize("frame", [65536, 8 << 20])
def test_R7_1_D18_ring_chunk_is_capped_below_a_large_frame(frame):
    """D18: room = min(frame payload, max(alloc size, RING_DUMP_MAX)); 16 messages of
    1016 bytes fit 16384, a 17th does not, whatever the frame size."""
    s = Setup(rx=RingReq(frame, 2, frame, 2))
    s.w.drv_dump(s.fd, 40, 1000)
    chunks = drain(s)
    assert all(ln <= RING_DUMP_MAX for ln, _ in chunks)
    assert [len(m) for _, m in chunks] == [16, 16, 8 + 1]          # + NLMSG_DONE
    assert sum(len(m) for _, m in chunks) == 40 + 1


def test_R7_1_D18_alloc_size_above_the_cap_is_the_room():
    s = Setup(rx=RingReq(65536, 2, 65536, 2), goodsize=20000)
    s.w.drv_dump(s.fd, 40, 1000)
    assert [len(m) for _, m in drain(s)] == [19, 19, 2 + 1]        # 19 * 1016 <= 20000


def test_R7_1_small_frames_make_copy_chunks_of_goodsize(s):
    o = s.w.drv_dump(s.fd, 20, 1000)
    assert [(e.decision, e.reason) for e in o.events] == [("fallback", "too_big"),
                                                         ("copy", "unconverted")]
    assert len(msgs(s.w.recvmsg(s.fd).value)) == 3     # 3 * 1016 <= 3776 < 4 * 1016


def test_R7_1_goodsize_is_a_parameter():
    s = Setup(goodsize=2000)
    s.w.drv_dump(s.fd, 20, 1000)
    assert s.st()[0] == VALID and len(ring_msgs(s, 0)) == 1


def test_R7_3_ring_only_reader_without_poll_gets_one_chunk(big):
    big.w.drv_dump(big.fd, 20, 1000)
    big.w.write_frame(big.mid, "rx", 0, status=UNUSED)
    assert big.st() == [UNUSED, UNUSED, UNUSED, UNUSED]
    assert big.w.recvmsg(big.fd).err == errno.EAGAIN
    assert big.st() == [UNUSED, UNUSED, UNUSED, UNUSED]


def test_R6_1_R7_3_poll_continues_dump_and_DONE_ends_it(big):
    w = big.w
    w.drv_dump(big.fd, 20, 1000)
    w.write_frame(big.mid, "rx", 0, status=UNUSED)
    w.poll(big.fd)                                      # frames 1, then 2 (space: 2+2=0)
    assert big.st() == [UNUSED, VALID, VALID, UNUSED]
    got = [len(ring_msgs(big, i)) for i in (1, 2)]
    assert got == [8, 5]                                # 4 messages + DONE in frame 2
    last = ring_msgs(big, 2)[-1]
    assert last[:2] == (NLMSG_DONE, NLM_F_MULTI) and last[4] == bytes(4)
    assert not w.sock_info(big.fd).dump_running
    assert w.poll(big.fd).events == ()


def test_R7_3_recvmsg_continues_copy_dump(s):
    s.w.drv_dump(s.fd, 7, 1000)
    for _ in range(2):
        assert s.w.recvmsg(s.fd).ok
    rest = msgs(s.w.recvmsg(s.fd).value)
    assert [m[0] for m in rest] == [DUMP_TYPE, NLMSG_DONE]
    assert s.st() == [COPY, COPY, COPY, UNUSED]


def test_R7_2_plain_socket_over_rcvbuf_gets_no_chunk():
    w = World(rcvbuf=3000)
    fd = w.socket().value
    w.bind(fd)
    for _ in range(3):
        w.drv_plain(w.portid(fd), 1000)       # 2nd: over rcvbuf → overrun; 3rd: CONGESTED
    o = w.drv_dump(fd, 20, 10)
    assert [e.reason for e in o.events] == ["no_ring", "no_ring"]   # chunk, error ACK
    info = w.sock_info(fd)
    assert (info.queue_len, info.drops, info.dump_running) == (1, 3, True)
    assert w.so_error(fd).value == 105


def test_R7_2_R4_13_empty_queue_always_admits_one_message():
    w = World(rcvbuf=1000)
    fd = w.socket().value
    w.bind(fd)
    assert w.drv_plain(w.portid(fd), 2000).value == 2016
    assert w.drv_plain(w.portid(fd), 1).value == -errno.EAGAIN
    assert w.recvmsg(fd).err == errno.ENOBUFS   # the overrun of the refused one
    assert w.recvmsg(fd).value[:4] == (2016).to_bytes(4, "little")   # queue empty again
    w.drv_dump(fd, 1, 10)
    assert w.sock_info(fd).queue_len == 1 and not w.sock_info(fd).dump_running


def test_R7_5_DONE_appended_when_it_fits_else_empty_valid_and_ENOBUFS_310():
    s = Setup(rx=RingReq(4096, 1, 1024, 4), goodsize=900, done_policy="3.10")
    o = s.w.drv_dump(s.fd, 1, 1000 - 16 - 8)          # 984 of 1000: 16 left < 20
    assert [e.decision for e in o.events][:2] == ["ring", "release"]
    assert s.hdr(0)[:2] == (VALID, 0)
    ack = msgs(bytes(s.w.payload(s.mid, "rx", 1).value))[0]
    assert ack[0] == NLMSG_ERROR and ack[4][:4] == (-errno.ENOBUFS).to_bytes(4, "little",
                                                                             signed=True)
    assert s.w.sock_info(s.fd).dump_running
    s.w.write_frame(s.mid, "rx", 0, status=UNUSED)
    s.w.write_frame(s.mid, "rx", 1, status=UNUSED)
    s.w.write_frame(s.mid, "rx", 2, status=UNUSED)
    s.w.poll(s.fd)
    assert [m[0] for m in ring_msgs(s, 2)] == [NLMSG_DONE]   # the message itself is lost


def test_R7_5_DONE_not_fitting_in_poll_sets_positive_sk_err_D3():
    s = Setup(rx=RingReq(4096, 1, 1024, 4), goodsize=900, done_policy="3.10")
    s.w.drv_dump(s.fd, 2, 984)                          # chunk 0 holds message 0
    s.w.write_frame(s.mid, "rx", 0, status=UNUSED)
    s.w.poll(s.fd)                                      # message 1, DONE does not fit
    assert s.w.so_error(s.fd).value == errno.ENOBUFS


def test_R7_5_D14_default_delivers_chunk_and_sends_DONE_next():
    s = Setup(rx=RingReq(4096, 1, 1024, 4), goodsize=900)
    s.w.drv_dump(s.fd, 1, 984)
    assert [m[0] for m in ring_msgs(s, 0)] == [DUMP_TYPE]
    s.w.write_frame(s.mid, "rx", 0, status=UNUSED)
    s.w.poll(s.fd)
    assert [m[0] for m in ring_msgs(s, 1)] == [NLMSG_DONE]


def test_R7_5_message_larger_than_chunk_ends_dump_with_EMSGSIZE_in_DONE(big):
    big.w.drv_dump(big.fd, 1, 9000)
    done = ring_msgs(big, 0)[0]
    assert done[0] == NLMSG_DONE and done[4] == (-errno.EMSGSIZE).to_bytes(4, "little",
                                                                          signed=True)


def test_R9_10_autosize_knob_uses_largest_recv_buffer():
    s = Setup(rx=FRAMES_8K, dump_autosize=True)
    s.w.drv_plain(s.pid, 1)
    s.w.recvmsg(s.fd, bufsize=65536)
    o = s.w.drv_dump(s.fd, 1, 10)
    assert (o.events[0].reason, o.events[0].len) == ("too_big", 32768 - 320)


def test_R7_6_ack_goes_to_ring_as_VALID_with_capped_header(s):
    req = nlmsg(NLMSG_NOOP, NLM_F_ACK, 5, 0)
    s.w.sendmsg(s.fd, req)
    m = ring_msgs(s, 0)[0]
    assert m[:4] == (NLMSG_ERROR, NLM_F_CAPPED, 5, s.pid) and m[4] == bytes(4) + req


def test_R7_6_error_ack_carries_whole_request_unless_cap_ack(big):
    w = big.w
    w.drv_dump(big.fd, 100, 1000)
    req = dump_request(w.drv_family, 3, 1, 1)
    w.sendmsg(big.fd, req)
    m = ring_msgs(big, 1)[0]
    assert m[0] == NLMSG_ERROR and m[1] == 0 and m[4][4:] == req
    assert m[4][:4] == (-errno.EBUSY).to_bytes(4, "little", signed=True)
    w.setsockopt_int(big.fd, NETLINK_CAP_ACK, 1)
    w.sendmsg(big.fd, req)
    m = ring_msgs(big, 2)[0]
    assert m[1] == NLM_F_CAPPED and m[4][4:] == req[:16]


def test_R7_6_ack_to_full_ring_sets_ENOBUFS_and_is_lost(s):
    for i in range(4):
        s.w.write_frame(s.mid, "rx", i, status=VALID)
    o = s.w.sendmsg(s.fd, nlmsg(NLMSG_NOOP, NLM_F_ACK, 1, 0))
    assert o.value == 16 and [e.decision for e in o.events] == ["drop"]
    assert s.w.so_error(s.fd).value == errno.ENOBUFS


def test_R7_unknown_family_is_ENOENT_error_ack(s):
    s.w.sendmsg(s.fd, nlmsg(0x7777, 1, 1, 0, bytes(4)))
    m = ring_msgs(s, 0)[0]
    assert m[4][:4] == (-errno.ENOENT).to_bytes(4, "little", signed=True)


def test_R7_dump_request_needs_cap_net_admin(s):
    s.w.tasks[s.w.main].cap_net_admin = False
    s.w.drv_dump(s.fd, 1, 1)
    m = ring_msgs(s, 0)[0]
    assert m[4][:4] == (-errno.EPERM).to_bytes(4, "little", signed=True)


def test_R7_dump_request_via_tx_ring(big):
    s = Setup(rx=FRAMES_8K, tx=FRAMES_2K)
    req = dump_request(s.w.drv_family, 1, 3, 10)
    s.w.write_frame(s.mid, "tx", 0, status=VALID, payload=req, nm_len=len(req))
    o = s.w.sendmsg(s.fd, None)
    assert [(e.decision, e.reason) for e in o.events][0] == ("copy", "exclusive")  # D16
    assert [e.decision for e in o.events][1:] == ["ring", "deliver"]
    assert [m[0] for m in ring_msgs(s, 0)] == [DUMP_TYPE] * 3 + [NLMSG_DONE]


def test_R5_7_running_dump_does_not_pin_the_tx_frame():
    s = Setup(rx=FRAMES_8K, tx=FRAMES_2K)
    req = dump_request(s.w.drv_family, 1, 100, 1000)
    s.w.write_frame(s.mid, "tx", 0, status=VALID, payload=req, nm_len=len(req))
    s.w.sendmsg(s.fd, None)
    info = s.w.sock_info(s.fd)
    assert info.dump_running and info.tx_pending == 0
    assert s.w.frame(s.mid, "tx", 0).value.status == UNUSED


def test_R7_5_first_chunk_into_full_ring_fails_request_and_its_ack():
    big = Setup(rx=FRAMES_8K)
    for i in range(4):
        big.w.write_frame(big.mid, "rx", i, status=VALID)
    o = big.w.drv_dump(big.fd, 3, 10)
    assert [(e.decision, e.reason) for e in o.events] == [("drop", "ring_full")] * 2
    info = big.w.sock_info(big.fd)
    assert (info.sk_err, info.drops, info.dump_running) == (errno.ENOBUFS, 2, True)


def test_R7_requests_the_model_cannot_answer_raise_NotModelled(s):
    with pytest.raises(NotModelled):
        s.w.sendmsg(s.fd, nlmsg(0x10, 1, 1, 0, bytes(4)))        # genl controller
    r = World()
    fd = r.socket(0).value
    with pytest.raises(NotModelled):
        r.sendmsg(fd, nlmsg(18, 1, 1, 0, bytes(16)))             # RTM_GETLINK


def test_R7_genl_header_check_rejects_stray_flags_and_reserved_bytes(s):
    req = bytearray(dump_request(s.w.drv_family, 1, 1, 1))
    req[6] |= NLM_F_MULTI
    s.w.sendmsg(s.fd, bytes(req))
    req = bytearray(dump_request(s.w.drv_family, 2, 1, 1))
    req[18] = 1
    s.w.sendmsg(s.fd, bytes(req))
    errs = [ring_msgs(s, i)[0][4][:4] for i in (0, 1)]
    assert errs == [(-errno.EINVAL).to_bytes(4, "little", signed=True)] * 2
    assert not s.w.sock_info(s.fd).dump_running


def test_D21_copy_chunks_unread_pause_the_dump_in_poll_and_recv_resumes_it():
    """D21: COPY chunks (frames too small for a chunk) are charged to rmem; a reader that
    releases the COPY frames without recv() makes poll() stop continuing the dump once
    receive memory is above half the buffer, instead of queueing without bound. recv()
    then continues the dump (R7.3) to NLMSG_DONE."""
    s = Setup(rx=FRAMES_2K)
    s.w.setsockopt_int(s.fd, 8, 16384, level=1)           # SO_RCVBUF: 32768 after doubling
    rcvbuf = 32768
    s.w.drv_dump(s.fd, 3000, 1000, seq=4)
    peak = 0
    for _ in range(100):
        for i in range(4):
            if s.hdr(i).status == COPY:
                s.w.write_frame(s.mid, "rx", i, status=UNUSED)
        s.w.poll(s.fd)
        peak = max(peak, s.w.sock_info(s.fd).rmem)
    assert s.w.sock_info(s.fd).dump_running
    assert peak <= rcvbuf + s.w.truesize(4096)
    done = False
    for _ in range(20000):
        for i in range(4):
            if s.hdr(i).status != UNUSED:
                s.w.write_frame(s.mid, "rx", i, status=UNUSED)
        data = s.w.recvmsg(s.fd).value
        if data is None:
            s.w.poll(s.fd)
            continue
        if any(m[0] == NLMSG_DONE for m in msgs(data)):
            done = True
            break
    assert done
