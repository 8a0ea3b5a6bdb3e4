"""sendmsg(): the TX ring path and the ordinary copying path.

Seed patch: "netlink: implement memory mapped sendmsg()" (R5.1-R5.8) with port decisions
D1 (zero-copy only to the kernel and when exclusive), D2 (what "exclusive" means), D3
(ring TX only for a single NULL buffer) and D8 (zero-copy only for a protocol whose kernel
input neither clones nor keeps pointers into the request: NETLINK_ROUTE; genetlink keeps
parsed attributes pointing into the message, so it copies).
"""

from __future__ import annotations

import errno

from .process import Task
from .rx import broadcast, unicast
from .sock import Skb, Sock
from .uapi import NETLINK_ROUTE, RESERVED, UNUSED, VALID

ZEROCOPY_PROTOCOLS = frozenset({NETLINK_ROUTE})   # D8


def copy_reason(sk: Sock, task: Task, dst_portid: int, dst_group: int, file) -> str:
    """D1/D2/D8: first failing zero-copy condition, or "exclusive" for zero-copy."""
    if dst_portid or dst_group:
        return "dst_not_kernel"
    if sk.proto not in ZEROCOPY_PROTOCOLS:
        return "protocol"
    if sk.mapped != 1:
        return "mapped_multiple"
    if file.fd_refs > 1:
        return "file_shared"
    if task.files.users > 1:
        return "files_shared"
    if task.mm.users > 1:
        return "mm_shared"
    return "exclusive"


def ring_send(w, task: Task, sk: Sock, file, dst_portid: int, dst_group: int,
              dontwait: bool, kernel_rcv) -> int:
    """netlink_mmap_sendmsg (R5.2-R5.4): consume VALID frames from the TX head.
    Returns the byte total or a negative errno."""
    ring = sk.tx
    reason = copy_reason(sk, task, dst_portid, dst_group, file)   # once per call (R5.4)
    mode = "zerocopy" if reason == "exclusive" else "copy"
    total = 0
    while ring.status(ring.head) == VALID:               # R5.6: pending is 0 here
        i = ring.head
        n = ring.nm_len(i)
        if n > ring.payload_max:                           # R5.2: frame stays VALID
            return -errno.EINVAL
        off = ring.offset(i) + 24
        data = bytes(ring.mem[off:off + n])
        w.emit("tx", sk.portid, mode, reason, i, n)
        if mode == "copy":
            ring.set_status(i, UNUSED)                     # R5.3: before processing
        else:
            ring.set_status(i, RESERVED)                   # R5.4
            ring.pending += 1
        ring.advance()
        r = deliver(w, task, sk, data, dst_portid, dst_group, dontwait, kernel_rcv)
        if mode == "zerocopy":                             # R7.7: TX destructor
            ring.set_status(i, UNUSED)
            ring.pending -= 1
        if r < 0:
            return r
        total += r
    return total


def deliver(w, task: Task, sk: Sock, data: bytes, dst_portid: int, dst_group: int,
            dontwait: bool, kernel_rcv) -> int:
    """Common tail of both paths (R5.2, R5.8): broadcast, then unicast."""
    skb = Skb(w.new_msg(), len(data), data, dst_group=dst_group, creds=task.creds)
    if dst_group:
        broadcast(w, sk.table, skb, dst_portid, dst_group)
    return unicast(w, sk.table, sk.portid, skb, dst_portid, dontwait, False, kernel_rcv)


def plain_send(w, task: Task, sk: Sock, data: bytes, dst_portid: int, dst_group: int,
               dontwait: bool, kernel_rcv) -> int:
    """The normal path (also for a TX-ring socket given a real buffer, R5.1)."""
    if len(data) > w.sndbuf - 32:
        return -errno.EMSGSIZE
    r = deliver(w, task, sk, data, dst_portid, dst_group, dontwait, kernel_rcv)
    return r if r < 0 else len(data)
