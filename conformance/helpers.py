"""Small building blocks shared by the scenarios (set up a ring socket, read frames)."""

from __future__ import annotations

import errno

import pytest

from .backends.base import Backend, Event
from .genl import held_message
from .uapi import (
    NETLINK_GENERIC,
    NL_MMAP_HDRLEN,
    NL_MMAP_STATUS_COPY,
    NL_MMAP_STATUS_RESERVED,
    NL_MMAP_STATUS_SKIP,
    NL_MMAP_STATUS_UNUSED,
    NL_MMAP_STATUS_VALID,
    NLM_F_ACK,
    NLM_F_REQUEST,
    NLMSG_NOOP,
    PAGE_SIZE,
    RingReq,
    nlmsg,
)

U, R, V, C, S = (NL_MMAP_STATUS_UNUSED, NL_MMAP_STATUS_RESERVED, NL_MMAP_STATUS_VALID,
                 NL_MMAP_STATUS_COPY, NL_MMAP_STATUS_SKIP)

SMALL = RingReq.simple(PAGE_SIZE, 4)  # 4 frames of one page: payload 4072 bytes
DUMP_RING = RingReq.simple(PAGE_SIZE, 8)  # dump chunks fit (payload >= NLMSG_GOODSIZE)


def ring_socket(b: Backend, rx: RingReq | None = SMALL, tx: RingReq | None = None,
                proto: int = NETLINK_GENERIC, mapped: bool = True) -> int:
    s = b.socket(proto)
    if rx is not None:
        b.set_ring(s, False, rx)
    if tx is not None:
        b.set_ring(s, True, tx)
    if mapped:
        b.mmap(s)
    return s


def held(b: Backend, h: int, size: int) -> bytes:
    return held_message(b.kernel_handle(h), size)


def deliver(b: Backend, dst: int, size: int = 32) -> int:
    """ALLOC + XMIT one driver message to ``dst``; returns the handle id."""
    h = b.drv_alloc(dst, size)
    kh = b.kernel_handle(h)
    n = b.drv_xmit(h)
    assert n >= 0, f"xmit -> {n}"
    return kh


def wrap_head_with_skip(b: Backend, s: int, req: RingReq = SMALL) -> None:
    """Fill the ring with ring messages (head wraps to 0), release every frame, then mark
    frame 0 -- the head -- SKIP."""
    for _ in range(req.frame_nr):
        deliver(b, s)
    for i in range(req.frame_nr):
        b.set_status(s, "rx", i, NL_MMAP_STATUS_UNUSED)
    b.set_status(s, "rx", 0, 4)


def errno_of(fn, *args, **kw) -> int:
    with pytest.raises(OSError) as ei:
        fn(*args, **kw)
    return ei.value.errno


def noop(seq: int, ack: bool = True) -> bytes:
    """NLMSG_NOOP request (16 bytes): the smallest message a ring send can carry."""
    return nlmsg(NLMSG_NOOP, NLM_F_REQUEST | (NLM_F_ACK if ack else 0), seq)


def rx_events(evs: list[Event], decision: str | None = None) -> list[Event]:
    return [e for e in evs if e.kind == "rx" and (decision is None or e.decision == decision)]


def tx_events(evs: list[Event]) -> list[Event]:
    return [e for e in evs if e.kind == "tx"]


def payload_max(req: RingReq) -> int:
    return req.frame_size - NL_MMAP_HDRLEN


def fits(size: int, req: RingReq = SMALL) -> bool:
    """A driver message of ``size`` payload bytes fits one frame (INTERFACES.md)."""
    return ((16 + size + 3) & ~3) <= payload_max(req)


__all__ = [
    "U", "R", "V", "C", "S", "SMALL", "DUMP_RING", "ring_socket", "held", "deliver",
    "wrap_head_with_skip",
    "errno_of", "rx_events", "tx_events", "payload_max", "fits", "errno",
    "NL_MMAP_STATUS_COPY", "NL_MMAP_STATUS_UNUSED", "NL_MMAP_STATUS_VALID",
]
