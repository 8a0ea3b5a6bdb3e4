"""Regression scenarios for the historical fixes in shared/research/bug-history.md that
apply to the 6.12 port. Where the scenario fits the backend interface it lives with its
rule and runs on model and kernel:

  1.3 tx dispatch       test_r5_tx.py::test_r5_1_iovlen_zero_is_not_a_ring_send,
                        test_r5_tx.py::test_r5_1_r5_2_ring_send_consumes_valid_frames_in_order
  1.4 frame lookup      test_r7_dump.py::test_r7_dump_restarts_at_every_head_position,
                        test_r7_dump.py::test_r6_2_frame_half_ahead_blocks_continuation
  1.5 dump trim         test_r7_dump.py (every chunk parsed from offset 24),
                        test_subsystems.py::test_rtnetlink_dump_of_many_links_in_netns
  1.7 nfqueue leak      test_subsystems.py (frame headers intact) and below (large packets)
  1.8 poll + queue      test_r6_poll.py::test_r6_3_queued_copy_message_is_readable
  1.12 nfqueue order    test_subsystems.py (distinct ids, no order assumed)
  13  setup validation  test_r2_setup.py

Kernel-only ones (races, other subsystems) are below. 1.2 (store ordering) is not
observable on x86 and has no test. Console splats (BUG/KASAN/lockdep) are judged by the
VM harness for every test."""

from __future__ import annotations

import errno
import socket
import threading
import time

import pytest

from .netsetup import ip_batch
from .ringsock import RingSocket
from .test_subsystems import in_netns
from .uapi import (
    NETLINK_GENERIC,
    NETLINK_NETFILTER,
    NETLINK_ROUTE,
    NL_MMAP_STATUS_UNUSED,
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    NLMSG_NOOP,
    PAGE_SIZE,
    RingReq,
    fork_call,
    mmap_socket,
    nlmsg,
    nlmsgerr_code,
    open_netlink,
    parse_nlmsgs,
    require_feature,
    sendto_null,
    set_ring,
)

pytestmark = pytest.mark.kernel
RTM_GETLINK = 18
IFINFO = b"\0" * 16


@pytest.fixture(autouse=True)
def _feature():
    require_feature()


def test_bug_1_1_tx_frame_rewritten_by_second_thread():
    """1.1 (TOCTOU): a second thread rewrites the TX frame while the first sends. With a
    second thread the socket is not exclusive (D2), so the kernel copies: every reply is
    an ACK for a request that was really written, and every frame ends UNUSED. A copy
    taken while the frame held the scribbler's header (nlmsg_len 80 in a 16-byte nm_len)
    is a truncated message the kernel drops without reply: it acts only on its copy."""
    s = RingSocket(NETLINK_GENERIC, RingReq.simple(PAGE_SIZE, 8), RingReq.simple(PAGE_SIZE, 1))
    t = s.view.tx
    stop = threading.Event()
    good = nlmsg(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 1)
    evil = nlmsg(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 2, b"\xff" * 64)

    def scribble():
        while not stop.is_set():
            t.write_payload(0, evil[:16])
            t.write_payload(0, good)

    th = threading.Thread(target=scribble, daemon=True)
    th.start()
    seqs = []
    dropped = 0
    try:
        for _ in range(100):
            t.put_message(0, good)
            sendto_null(s.sock)
            assert t.status(0) == NL_MMAP_STATUS_UNUSED
            chunk = s.next_chunk(1.0)      # an ACK is built during the call (R5.2)
            if chunk is None:
                dropped += 1
                continue
            for _l, ty, _f, seq, _p, pl in parse_nlmsgs(chunk):
                assert ty == NLMSG_ERROR and nlmsgerr_code(pl) == 0
                seqs.append(seq)
    finally:
        stop.set()
        th.join()
        s.close()
    assert seqs and set(seqs) <= {1, 2} and len(seqs) + dropped == 100


def _nlmon_tap() -> int:
    ip_batch(["link set lo up", "link add nlmon0 type nlmon", "link set nlmon0 up"])
    pk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    pk.bind(("nlmon0", 0))
    pk.settimeout(2)
    s = RingSocket(NETLINK_ROUTE, RingReq.simple(PAGE_SIZE, 8), RingReq.simple(PAGE_SIZE, 2))
    s.send(nlmsg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 5, IFINFO))
    chunks = []
    msgs: list = []
    while not msgs or msgs[-1][1] != NLMSG_DONE:
        c = s.next_chunk(5.0)
        assert c is not None, "dump stalled"
        chunks.append(c)
        msgs.extend(parse_nlmsgs(c))
    s.close()
    seen = []
    try:
        while True:
            seen.append(pk.recv(1 << 17))
    except TimeoutError:
        pass
    replies = [p for p in seen if p in chunks]
    assert len(replies) == len(chunks), (len(seen), len(chunks), [len(c) for c in chunks])
    return len(replies)


def test_bug_1_6_nlmon_tap_sees_full_copies_of_ring_skbs():
    """1.6 / R9.8 / D3: with an nlmon tap up, a ring dump must not crash, and the tap sees
    each chunk as an ordinary copy of exactly the frame's message bytes."""
    assert in_netns(_nlmon_tap) >= 1


@pytest.mark.parametrize("res_id,expect", [(3, errno.EOPNOTSUPP), (99, errno.EINVAL)],
                         ids=["queue_no_commit", "out_of_range"])
@pytest.mark.parametrize("ring", [False, True], ids=["plain", "ring"])
def test_bug_1_9_nfnetlink_batch_error_acks(ring, res_id, expect):
    """1.9: NFNL_MSG_BATCH_BEGIN for a subsystem without commit/abort (EOPNOTSUPP) or out
    of range (EINVAL) is answered by an error ACK -- built in the requester's ring when it
    has one -- and no oops."""
    s = RingSocket(NETLINK_NETFILTER, RingReq.simple(PAGE_SIZE, 4) if ring else None,
                   rings=ring)
    hdr = bytes([0, 0]) + res_id.to_bytes(2, "big")
    begin = nlmsg(0x10, NLM_F_REQUEST | NLM_F_ACK, 1, hdr)
    end = nlmsg(0x11, NLM_F_REQUEST | NLM_F_ACK, 2, hdr)
    s.sock.send(begin + end)
    msgs = s.messages(lambda ms: any(m[1] == NLMSG_ERROR for m in ms), timeout=5)
    errs = [nlmsgerr_code(m[5]) for m in msgs if m[1] == NLMSG_ERROR]
    assert errs[0] == -expect, errs
    if ring:
        assert s.frames["valid"] >= 1, s.frames
    s.close()


def _teardown_loop(n: int) -> int:
    req = RingReq.simple(PAGE_SIZE, 4)
    for i in range(n):
        s = open_netlink(NETLINK_ROUTE)
        set_ring(s, False, req)
        set_ring(s, True, req)
        if i % 2:
            m = mmap_socket(s, 2 * req.size)
            if i % 4 == 1:
                child = fork_call(lambda: 0)  # the child inherits and drops the mapping
                assert child == 0
            m.munmap()
        s.close()
    return n


def test_bug_1_10_ring_teardown_on_close_loop():
    """1.10 / R2.10: set up rings, optionally map/fork/unmap, close -- 300 times; the socket
    destructor must not sleep in RCU context (judged on the console) and sockets must not
    leak (/proc/net/netlink back to its baseline)."""
    def count():
        with open("/proc/net/netlink") as f:
            return len(f.readlines())
    before = count()
    assert _teardown_loop(300) == 300
    time.sleep(0.5)
    assert count() <= before


def _concurrent_dumps(seconds: float) -> tuple[int, int]:
    ip_batch(["link set lo up"] + [f"link add c{i} type veth peer name d{i}" for i in range(8)])
    s = RingSocket(NETLINK_ROUTE, RingReq.simple(PAGE_SIZE, 8), rings=True)
    sent = [0]
    stop = threading.Event()

    def requester():
        seq = 0
        while not stop.is_set():
            seq += 1
            try:
                s.sock.send(nlmsg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, IFINFO))
                sent[0] = seq
            except OSError:
                break
            time.sleep(0.01)

    th = threading.Thread(target=requester, daemon=True)
    th.start()
    ends: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        c = s.next_chunk(0.2)
        if c:
            for _l, t, _f, seq, _p, _pl in parse_nlmsgs(c):
                if t in (NLMSG_DONE, NLMSG_ERROR):
                    ends[seq] = ends.get(seq, 0) + 1
    stop.set()
    th.join()
    while (c := s.next_chunk(1.0)) is not None:
        for _l, t, _f, seq, _p, _pl in parse_nlmsgs(c):
            if t in (NLMSG_DONE, NLMSG_ERROR):
                ends[seq] = ends.get(seq, 0) + 1
    s.close()
    assert all(v == 1 for v in ends.values()), {k: v for k, v in ends.items() if v != 1}
    return len(ends) << 32 | sent[0]  # fork_call carries one int


def test_bug_1_11_concurrent_dump_requests_and_reads():
    """1.11: a thread keeps sending dump requests on a ring socket while the main thread
    reads; every request ends exactly once (DONE, or an error ACK such as EBUSY)."""
    v = in_netns(_concurrent_dumps, 3.0)
    ended, sent = v >> 32, v & 0xFFFFFFFF
    assert sent >= 5 and ended == sent, (ended, sent)
