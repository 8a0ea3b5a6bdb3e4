"""nfnetlink producers converted by the seed patch "nfnetlink: add support for memory
mapped netlink" (R8.1-R8.4). Messages are opaque bytes supplied by the caller; the
model decides only where they go. Handles are shared with the test driver
(``drv_xmit``/``drv_free`` transmit or drop them).
"""

from __future__ import annotations

import errno

from . import driver
from .uapi import NETLINK_NETFILTER


def queue_alloc(w, dst_portid: int, data: bytes, handle: int, ldiff: int = 0,
                net: int = 0) -> int:
    """nfqnl_build_packet_message (R8.1, R8.2): one try; with ``ldiff`` (payload that
    would be zero-copied) a frame is used only if the full length fits (R8.4)."""
    w.apply("R8.1")
    e = driver.alloc(w, dst_portid, 0, handle, (net, NETLINK_NETFILTER), data, ldiff=ldiff)
    if e == errno.ENOBUFS:
        w.apply("R8.2")                 # the packet is not queued
    return e


def log_alloc(w, dst_portid: int, inst_size: int, data: bytes, handle: int,
              net: int = 0) -> int:
    """nfulnl_alloc_skb (R8.1): try max(instance buffer, packet) first; only a NULL
    (ring full) result triggers the packet-sized retry (R8.2)."""
    w.apply("R8.1")
    n = max(inst_size, len(data))
    table = (net, NETLINK_NETFILTER)
    e = driver.alloc(w, dst_portid, 0, handle, table, data, alloc_len=n)
    if e == errno.ENOBUFS:
        w.apply("R8.2")
        if n > len(data):
            e = driver.alloc(w, dst_portid, 0, handle, table, data)
    return e
