"""Receive memory a ring socket cannot bound by itself (kernel-only, D21).

Threat: a reader that never calls recv() (or that lost its ring) makes the kernel queue
messages outside sk_rcvbuf, so one socket can pin unbounded kernel memory. The oracle is
SO_MEMINFO's rmem_alloc against the socket's own SO_RCVBUF, not the model."""

from __future__ import annotations

import socket
import time

import pytest

from .genl import TestDriver
from .netsetup import unshare_net
from .ring import RingView
from .test_subsystems import in_netns
from .uapi import (
    NETLINK_GENERIC,
    NL_MMAP_STATUS_COPY,
    NL_MMAP_STATUS_UNUSED,
    NL_MMAP_STATUS_VALID,
    NLMSG_DONE,
    RingReq,
    fork_call,
    mmap_socket,
    open_netlink,
    parse_nlmsgs,
    poll_mask,
    portid,
    recv_nowait,
    require_feature,
    rmem_alloc,
    set_ring,
)

pytestmark = pytest.mark.kernel

SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
SLACK = 16384  # one skb over the limit is allowed (the first skb is always accepted)


@pytest.fixture(autouse=True)
def _feature():
    require_feature()


def _reused_portid_queue(held: int) -> int:
    drv = TestDriver()
    a = open_netlink(NETLINK_GENERIC)
    set_ring(a, False, RingReq.simple(4096, held))
    port = portid(a)
    handles = [drv.alloc(port, 1000) for _ in range(held)]   # ring skbs for a's frames
    a.close()                                                # the portid is free again
    b = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)     # the minimum
    b.bind((port, 0))
    refused = sum(drv.xmit(h) < 0 for h in handles)
    rmem, rcvbuf = rmem_alloc(b), b.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    assert refused > 0, f"all {held} queued: rmem {rmem} with rcvbuf {rcvbuf}"
    assert rmem <= rcvbuf + SLACK, f"rmem {rmem} beyond rcvbuf {rcvbuf}"
    return refused


def test_d21_ring_skb_for_a_reused_portid_obeys_rcvbuf():
    """L4: ring skbs reserved for socket A, transmitted after A closed and plain socket B
    took A's portid, are ordinary messages for B (COPY semantics, D6): B's receive buffer
    limits them. Before D21 the "is a ring skb" bypass queued all of them beyond
    sk_rcvbuf (and each pinned the dead socket A)."""
    in_netns(_reused_portid_queue, 16)


def _copy_dump_unread(rounds: int) -> int:
    drv = TestDriver()
    rx = RingReq.simple(2048, 16)          # payload 2024 < NLMSG_GOODSIZE: COPY chunks
    s = open_netlink(NETLINK_GENERIC)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32768)
    set_ring(s, False, rx)
    view = RingView(mmap_socket(s, RingView.length(rx, None)), rx, None).rx
    s.send(drv.dump_request(7, 3000, 1000))
    peak, rcvbuf = 0, s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    for _ in range(rounds):                # release COPY frames, never recv()
        poll_mask(s, 50)
        for i in range(rx.frame_nr):
            if view.status(i) in (NL_MMAP_STATUS_COPY, NL_MMAP_STATUS_VALID):
                view.set_status(i, NL_MMAP_STATUS_UNUSED)
        peak = max(peak, rmem_alloc(s))
    assert peak <= rcvbuf + SLACK, f"rmem reached {peak} with rcvbuf {rcvbuf}"
    done = False
    for _ in range(20000):                 # now read: the dump must still finish
        for i in range(rx.frame_nr):       # keep the ring free: a full ring overruns
            if view.status(i) in (NL_MMAP_STATUS_COPY, NL_MMAP_STATUS_VALID):
                view.set_status(i, NL_MMAP_STATUS_UNUSED)
        data = recv_nowait(s)
        if data is None:
            poll_mask(s, 50)
            continue
        if any(m[1] == NLMSG_DONE for m in parse_nlmsgs(data)):
            done = True
            break
    assert done, "the dump did not finish once the queue was read"
    return peak


def test_d21_copy_dump_chunks_obey_rcvbuf_and_the_dump_finishes():
    """L4: a dump on a ring socket whose frames are too small for a chunk produces COPY
    frames (queued skbs). A reader that releases the COPY frames without recv() must not
    make poll() continue the dump without bound: receive memory stays within the socket's
    buffer. Reading afterwards lets the dump run to NLMSG_DONE (no stall)."""
    in_netns(_copy_dump_unread, 200)


MAX_NETNS = "/proc/sys/user/max_net_namespaces"


def _try_netns() -> int:
    unshare_net()
    return 0


def _netns_fits(limit: int) -> bool:
    """Can one more network namespace be created with the limit at ``limit``? After a
    yes, wait for the probe's own netns to go (it is freed asynchronously); a no created
    nothing to wait for."""
    _set_max_netns(limit)
    try:
        fork_call(_try_netns)
    except AssertionError as e:
        assert "ENOSPC" in str(e) or "No space left" in str(e), e
        return False
    time.sleep(1.0)
    return True


def _smallest_fitting_limit() -> int:
    """The smallest limit that admits one more netns (= live + 1): doubling, then
    bisecting, so that few probes succeed (each costs the 1 s wait) when few netns live."""
    hi = 1
    while not _netns_fits(hi):
        hi *= 2
        assert hi <= 1 << 16, "no netns limit up to 65536 admits one more netns"
    lo = hi // 2 + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if _netns_fits(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _set_max_netns(n: int) -> None:
    with open(MAX_NETNS, "w") as f:
        f.write(str(n))


def _held_message_then_exit() -> int:
    unshare_net()
    dst = open_netlink(NETLINK_GENERIC)
    set_ring(dst, False, RingReq.simple(4096, 4))
    drv = TestDriver()
    drv.alloc(portid(dst), 100)            # a ring skb that pins dst (and so the netns)
    return 0                               # exit: every descriptor is closed


@pytest.mark.alone  # the live netns count of the whole system
def test_l5_abandoned_held_message_does_not_keep_its_netns_alive():
    """L5: a test-driver message held for a ring socket pins that socket, which pins its
    netns. When the requesting process exits without transmitting or freeing it, the held
    message must go (with its requester's socket), or every such run leaks a netns.
    Measured with the netns ucount of root: with the limit set to (live + 2), three such
    runs in a row only fit if each netns is freed after its process exits."""
    with open(MAX_NETNS) as f:
        orig = int(f.read())
    try:
        _set_max_netns(_smallest_fitting_limit() + 1)
        for run in range(3):
            deadline = time.monotonic() + 10
            while True:                    # netns teardown is asynchronous
                try:
                    fork_call(_held_message_then_exit)
                    break
                except AssertionError as e:
                    assert "ENOSPC" in str(e) or "No space left" in str(e), e
                    assert time.monotonic() < deadline, \
                        f"run {run}: netns of the earlier runs never freed (leaked)"
                    time.sleep(0.2)
    finally:
        _set_max_netns(orig)
