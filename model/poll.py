"""poll(): dump continuation, then datagram_poll's mask plus the ring bits.

Seed patch: "netlink: add flow control for memory mapped I/O" (R6.1 with D3's positive
sk_err, R6.2 via dump.space) and "netlink: implement memory mapped recvmsg()" (R6.3-R6.5).
"""

from __future__ import annotations

from . import dump
from .sock import Sock, rcv_wake
from .uapi import POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRBAND, POLLWRNORM, UNUSED


def poll(w, sk: Sock) -> int:
    if sk.rx is not None:                                # R6.1
        # D21: like recvmsg, only while receive memory is at most half the buffer
        while sk.dump is not None and w.seams.dump_space(sk.rx) and sk.rmem <= sk.rcvbuf // 2:
            r = dump.dump(w, sk)
            if r < 0:
                sk.sk_err = -r
                break
        rcv_wake(sk)
    mask = POLLOUT | POLLWRNORM | POLLWRBAND             # R6.3: netlink is always writable
    if sk.queue:
        mask |= POLLIN | POLLRDNORM
    if sk.sk_err:
        mask |= POLLERR
    rx = sk.rx
    if rx is not None:                                   # R6.4
        rx.forward()
        if rx.status(rx.prev()) != UNUSED:
            mask |= POLLIN | POLLRDNORM
    if sk.tx is not None and sk.tx.status(sk.tx.head) == UNUSED:   # R6.5
        mask |= POLLOUT | POLLWRNORM
    return mask
