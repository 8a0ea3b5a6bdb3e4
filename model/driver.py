"""The NLMMAP_TEST kernel sender (patches/INTERFACES.md): a converted producer that
allocates now and transmits or frees later (R4.1-R4.4, R4.11, R4.15 with D6), and an
unconverted one that always takes the plain path (R4.1, R4.9).
"""

from __future__ import annotations

import errno

from .rx import alloc_skb, free_skb, unicast
from .sock import Skb
from .uapi import HELD_TYPE, NETLINK_GENERIC, PLAIN_FILL, align4, nlmsg


def alloc(w, dst_portid: int, size: int, handle: int, table: tuple = (0, NETLINK_GENERIC),
          data: bytes | None = None, alloc_len: int | None = None, ldiff: int = 0) -> int:
    """netlink_alloc_skb for ``dst_portid``; the held message is built into the skb.
    Returns 0 or an errno (ENOBUFS when the ring is full)."""
    w.apply("R4.1")                     # a converted producer
    if alloc_len is None:
        alloc_len = align4(16 + size) if data is None else len(data)
    skb = alloc_skb(w, table, 0, dst_portid, alloc_len, ldiff)
    if skb is None:
        return errno.ENOBUFS
    skb.data = nlmsg(HELD_TYPE, 0, handle, 0, bytes([handle & 0xFF]) * size) \
        if data is None else data
    w.held[handle] = (skb, dst_portid, table)
    return 0


def xmit(w, handle: int) -> int:
    """netlink_unicast of a held message: its length or a negative errno."""
    skb, dst_portid, table = w.held.pop(handle)
    return unicast(w, table, 0, skb, dst_portid, True, True)


def free(w, handle: int) -> None:
    skb, _dst, _table = w.held.pop(handle)
    free_skb(w, skb, "dropped:freed")


def plain(w, dst_portid: int, size: int, net: int = 0) -> int:
    """alloc_skb + netlink_unicast now: never a ring frame (COPY on ring sockets)."""
    w.apply("R4.1")
    data = nlmsg(HELD_TYPE, 0, 0, 0, bytes([PLAIN_FILL]) * size)
    skb = Skb(w.new_msg(), len(data), data)
    return unicast(w, (net, NETLINK_GENERIC), 0, skb, dst_portid, True, True)


def known(w, handle: int) -> bool:
    return handle in w.held
