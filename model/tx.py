"""sendmsg(): the TX ring path and the ordinary copying path.

Seed patch: "netlink: implement memory mapped sendmsg()" (R5.1-R5.8) with port decisions
D2 (what "exclusive" means), D3 (ring TX only for a single NULL buffer) and D16 (every
ring send copies, as upstream 4682a0358639 did, R5.5/R9.7: no per-call test can rule out
a second writer of the frame, e.g. a fork child, pinned O_DIRECT pages or /proc/PID/mem).
"""

from __future__ import annotations

import errno

from .process import Task
from .rx import broadcast, unicast
from .sock import Skb, Sock
from .uapi import UNUSED, VALID


def exclusivity(sk: Sock, task: Task, dst_portid: int, dst_group: int, file) -> str:
    """D2's classification, first failing condition or "exclusive". Decides nothing
    since D16; kept as the tracepoint's `reason` so sharing stays observable (R5.4)."""
    if dst_portid or dst_group:
        return "dst_not_kernel"
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
    """netlink_mmap_sendmsg (R5.2, R5.3; D16): consume VALID frames from the TX head,
    each copied and set UNUSED before processing, so TX `pending` stays 0 (R5.6 never
    waits, R2.4 teardown never EBUSY for it). Returns the byte total or a negative errno."""
    ring = sk.tx
    reason = w.seams.exclusivity(sk, task, dst_portid, dst_group, file)  # once a call
    w.apply("R5.2", "R5.4", "D2", "D9")
    total = 0
    while ring.status(ring.head) == VALID:
        i = ring.head
        n = ring.nm_len(i)
        if n > ring.payload_max:                           # the frame stays VALID
            return -errno.EINVAL
        if n == 0:                                         # as sendmsg(), stays VALID
            w.apply("D20")
            return -errno.ENODATA
        off = ring.offset(i) + 24
        data = bytes(ring.mem[off:off + n])
        w.emit("tx", sk.portid, "copy", reason, i, n)
        w.apply("R5.3", "R5.5", "R9.7", "D16")             # a copy, UNUSED before use
        ring.set_status(i, UNUSED)
        ring.advance()
        r = deliver(w, task, sk, data, dst_portid, dst_group, dontwait, kernel_rcv)
        if r < 0:
            return r
        total += r
    w.apply("R5.6")                                        # stop at the first not VALID
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
