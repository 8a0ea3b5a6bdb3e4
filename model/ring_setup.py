"""setsockopt(SOL_NETLINK, NETLINK_RX_RING / NETLINK_TX_RING): validation and commit.

Seed patch: "netlink: mmaped netlink: ring setup" (R1.1, R2.1-R2.9; D4 keeps the 3.10
order of checks and errnos, CAP_NET_ADMIN and the queue purge).
"""

from __future__ import annotations

import errno

from .outcome import NotModelled
from .ring import Ring
from .rx import purge
from .sock import Sock
from .uapi import NETLINK_RX_RING, NETLINK_TX_RING, NL_MMAP_HDRLEN, NL_MMAP_REQ, RingReq


def invalid_step(req: RingReq, page_size: int) -> str:
    """R2.5 steps 2-7 for a creation request: the step it fails ("" if none); step 7
    as D22 bounds it (a ring is at most 4 GiB, no 32-bit wrap-around)."""
    bs, bn, fs, fn = req
    if bs == 0 or bs >= 1 << 31:
        return "R2.5.2"
    if bs % page_size:
        return "R2.5.3"
    if fs < NL_MMAP_HDRLEN:
        return "R2.5.4"
    if fs % 4:
        return "R2.5.5"
    fpb = bs // fs
    if fpb == 0:
        return "R2.5.6"
    if bn > 0xFFFFFFFF // bs or fpb * bn != fn:
        return "R2.5.7"
    return ""


def set_ring(w, sk: Sock, optname: int, req, optlen: int, privileged: bool) -> int:
    """R2.3 then netlink_set_ring (R2.4, R2.5, R2.7, R2.8). Returns 0 or an errno.
    R2.2/D4: no int is read from optval first, so EPERM precedes EFAULT."""
    if optname not in (NETLINK_RX_RING, NETLINK_TX_RING):
        return errno.ENOPROTOOPT
    if req is None and optlen >= 4 and (not privileged or optlen < NL_MMAP_REQ.size):
        w.apply("R2.2")             # 6.12's int read would have failed first with EFAULT
    if not privileged:                                  # before the length
        w.apply("R2.3.1")
        return errno.EPERM
    if optlen < NL_MMAP_REQ.size:
        w.apply("R2.3.2")
        return errno.EINVAL
    if req is None:                                     # bad pointer
        w.apply("R2.3.3")
        return errno.EFAULT
    w.apply("R2.3.4")
    if isinstance(req, bytes | bytearray):
        if len(req) < NL_MMAP_REQ.size:
            raise NotModelled("the kernel would read bytes past the buffer")
        req = NL_MMAP_REQ.unpack_from(req)
    req = RingReq(*(v & 0xFFFFFFFF for v in req))
    tx = optname == NETLINK_TX_RING
    ring = sk.tx if tx else sk.rx
    if sk.mapped or ring is not None and ring.pending:
        w.apply("R2.4")
        return errno.EBUSY
    if req.block_nr:
        if ring is not None:                            # no resize in place
            w.apply("R2.5.1")
            return errno.EBUSY
        step = invalid_step(req, w.page_size)
        if step:
            w.apply(step, *(("D22",) if step == "R2.5.7" else ()))
            return errno.EINVAL
        if req.block_nr * req.block_size > w.mem_limit:
            w.apply("R2.5.8", "M4")
            return errno.ENOMEM
        w.apply("R2.6")
        new = Ring(req)
    else:
        w.apply("R2.7")
        if req.frame_nr:
            return errno.EINVAL
        new = None
    w.apply("R2.8")                                     # commit
    if tx:
        sk.tx = new
    else:
        sk.rx = new
        purge(w, sk)
    return 0
