"""Dump chunks for the requesting socket: sizing, NLMSG_DONE, and the space test.

Seed patches: "netlink: implement memory mapped recvmsg()" (R7.1, R7.2, R7.4, R7.5: dumps
allocate with netlink_alloc_skb) and "netlink: add flow control for memory mapped I/O"
(R6.2 with D3: the head frame and the frame half a ring ahead must both be UNUSED).
D18 caps a ring chunk below the frame payload (R7.1).
The dump callback is the NLMMAP_TEST driver's: messages of ``size`` payload bytes while
they fit; it reports completion as soon as the last message is in the chunk.
"""

from __future__ import annotations

import errno

from .ring import Ring
from .rx import alloc_skb, filtered, free_skb, sendskb
from .sock import Dump, Sock
from .uapi import DUMP_TYPE, NLM_F_MULTI, NLMSG_DONE, UNUSED, align4, nlmsg

DONE_LEN = 20   # nlmsg_total_size(sizeof(int))
RING_DUMP_MAX = 16384   # D18: a ring chunk's room is at most max(alloc size, this)


def space(ring: Ring) -> bool:
    """R6.2 as fixed by D3: frames head and (head + N//2) % N are UNUSED."""
    n = ring.frame_nr
    return ring.status(ring.head) == UNUSED and \
        ring.status((ring.head + n // 2) % n) == UNUSED


def alloc_size(w, sk: Sock) -> int:
    """R7.1: max(min_dump_alloc, NLMSG_GOODSIZE); with 6.12 autosize (R9.10, a World
    knob) the largest recvmsg() buffer seen if that is larger."""
    w.apply("R7.1")
    if w.dump_autosize and sk.max_recvmsg_len > w.goodsize:
        w.apply("R9.10")
        return sk.max_recvmsg_len
    w.apply("M2")
    return w.goodsize


def deliver(w, sk: Sock, skb) -> None:
    """A finished chunk: socket filter, then __netlink_sendskb."""
    if filtered(w, sk, skb):
        w.apply("R7.5")
    else:
        sendskb(w, sk, skb)


def dump(w, sk: Sock) -> int:
    """netlink_dump: produce one chunk. Returns 0 or a negative errno (R7.5)."""
    d = sk.dump
    size = alloc_size(w, sk)
    if sk.rx is not None:                               # up to the frame, capped
        w.apply("D12", "D18")
        size = max(size, min(sk.rx.payload_max, RING_DUMP_MAX))
    skb = alloc_skb(w, sk.table, sk.portid, sk.portid, size)
    if skb is None:                                     # ring full: overrun already done
        w.apply("R7.5")
        return -errno.ENOBUFS
    if sk.rmem and sk.rmem + w.truesize(size) >= sk.rcvbuf:   # over the receive buffer
        w.apply("R7.2")
        if skb.ring is None:                            # COPY chunks stop too
            w.apply("D21")
            free_skb(w, skb, "dropped:freed")
            return -errno.ENOBUFS
    room = size
    parts = []
    used = 0
    if d.done_errno is None:
        step = align4(16 + d.size)
        while d.next < d.count and used + step <= room:
            parts.append(nlmsg(DUMP_TYPE, NLM_F_MULTI, d.seq, sk.portid,
                               bytes([d.next & 0xFF]) * d.size))
            d.next += 1
            used += step
        if d.next < d.count and parts:
            skb.data = b"".join(parts)
            deliver(w, sk, skb)
            return 0
        d.done_errno = 0 if d.next == d.count else -errno.EMSGSIZE
    if room - used < DONE_LEN:                          # NLMSG_DONE does not fit
        if w.done_policy == "3.10":
            w.apply("R7.5", "M1")
            free_skb(w, skb, "dropped:freed")
            return -errno.ENOBUFS
        w.apply("D14", "M1")
        skb.data = b"".join(parts)
        deliver(w, sk, skb)
        return 0
    parts.append(nlmsg(NLMSG_DONE, NLM_F_MULTI, d.seq, sk.portid,
                       d.done_errno.to_bytes(4, "little", signed=True)))
    skb.data = b"".join(parts)
    sk.dump = None
    deliver(w, sk, skb)
    return 0


def start(w, sk: Sock, seq: int, count: int, size: int) -> int:
    """__netlink_dump_start: EBUSY if one runs; else the first chunk now (R7.3).
    Returns -EINTR (no ACK) on success, else the error to ACK."""
    if sk.dump is not None:
        return -errno.EBUSY
    w.apply("R7.3")                                     # the first chunk now
    sk.dump = Dump(seq, count, size)
    r = dump(w, sk)
    return r if r else -errno.EINTR
