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


def validate(req: RingReq, page_size: int) -> int:
    """R2.5 steps 2-7 for a creation request: 0 or the errno."""
    bs, bn, fs, fn = req
    if bs == 0 or bs >= 1 << 31:
        return errno.EINVAL
    if bs % page_size:
        return errno.EINVAL
    if fs < NL_MMAP_HDRLEN or fs % 4:
        return errno.EINVAL
    fpb = bs // fs
    if fpb == 0:
        return errno.EINVAL
    if bn > 0xFFFFFFFF // bs:                           # D22: a ring is at most 4 GiB
        return errno.EINVAL
    if fpb * bn != fn:                                  # D22: no 32-bit wrap-around
        return errno.EINVAL
    return 0


def set_ring(w, sk: Sock, optname: int, req, optlen: int, privileged: bool) -> int:
    """R2.3 then netlink_set_ring (R2.4, R2.5, R2.7, R2.8). Returns 0 or an errno.
    R2.2/D4: no int is read from optval first, so EPERM precedes EFAULT."""
    if optname not in (NETLINK_RX_RING, NETLINK_TX_RING):
        return errno.ENOPROTOOPT
    if not privileged:                                  # R2.3.1: before the length
        return errno.EPERM
    if optlen < NL_MMAP_REQ.size:                       # R2.3.2
        return errno.EINVAL
    if req is None:                                     # R2.3.3: bad pointer
        return errno.EFAULT
    if isinstance(req, bytes | bytearray):
        if len(req) < NL_MMAP_REQ.size:
            raise NotModelled("the kernel would read bytes past the buffer")
        req = NL_MMAP_REQ.unpack_from(req)
    req = RingReq(*(v & 0xFFFFFFFF for v in req))
    tx = optname == NETLINK_TX_RING
    ring = sk.tx if tx else sk.rx
    if sk.mapped:                                       # R2.4
        return errno.EBUSY
    if ring is not None and ring.pending:
        return errno.EBUSY
    if req.block_nr:
        if ring is not None:                            # R2.5.1: no resize in place
            return errno.EBUSY
        e = validate(req, w.page_size)
        if e:
            return e
        if req.block_nr * req.block_size > w.mem_limit:  # R2.5.8
            return errno.ENOMEM
        new = Ring(req)
    elif req.frame_nr:                                  # R2.7
        return errno.EINVAL
    else:
        new = None
    if tx:                                              # R2.8 commit
        sk.tx = new
    else:
        sk.rx = new
        purge(w, sk)
    return 0
