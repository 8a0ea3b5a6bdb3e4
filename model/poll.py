"""poll(): dump continuation, then datagram_poll's mask plus the ring bits.

Seed patch: "netlink: add flow control for memory mapped I/O" (R6.1 with D3's positive
sk_err, R6.2 via dump.space) and "netlink: implement memory mapped recvmsg()" (R6.3-R6.5).
"""

from __future__ import annotations

from . import dump
from .sock import Sock, rcv_wake
from .uapi import POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRBAND, POLLWRNORM, UNUSED


def poll(w, sk: Sock) -> int:
    if sk.rx is not None:
        if sk.dump is not None:
            w.apply("R6.1", "R6.2")
        while sk.dump is not None and w.seams.dump_space(sk.rx):
            if sk.rmem > sk.rcvbuf // 2:    # like recvmsg: at most half the buffer held
                w.apply("D21")
                break
            r = dump.dump(w, sk)
            if r < 0:
                w.apply("D3", "R9.3")                    # a positive errno
                sk.sk_err = -r
                break
        rcv_wake(sk)
    w.apply("R6.3")
    mask = POLLOUT | POLLWRNORM | POLLWRBAND             # netlink is always writable
    if sk.queue:
        mask |= POLLIN | POLLRDNORM
    if sk.sk_err:
        mask |= POLLERR
    rx = sk.rx
    if rx is not None:
        w.apply("R6.4")
        if rx.forward():
            w.apply("R4.12", "D19")
        if rx.status(rx.prev()) != UNUSED:
            mask |= POLLIN | POLLRDNORM
    if sk.tx is not None:
        w.apply("R6.5")
        if sk.tx.status(sk.tx.head) == UNUSED:
            mask |= POLLOUT | POLLWRNORM
    return mask
