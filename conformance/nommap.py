"""A kernel without the series (R2.1, R3.1, R9.14): the same probe on the running kernel
and on the model's ``World(netlink_mmap=False)``.

    python -m conformance.nommap      prints the running kernel's outcomes as JSON

Each outcome is an errno name, or ``"ok"`` / a poll mask. The vm tests boot the unpatched
base kernel and compare its outcomes with :func:`model_outcomes` and with the literal
values of the rules (:data:`EXPECTED`); on the patched kernel the probe gives different
answers (a ring is accepted), which is what the conformance suite's feature check relies on.
"""

from __future__ import annotations

import errno
import json
import socket
import sys

from .uapi import (
    NETLINK_GENERIC,
    NETLINK_RX_RING,
    PAGE_SIZE,
    POLLIN,
    POLLOUT,
    POLLRDNORM,
    POLLWRNORM,
    SOL_NETLINK,
    RingReq,
    drop_cap_net_admin,
    fork_call,
    mmap_socket,
    poll_mask,
    sendto_null,
    set_ring,
    set_ring_badptr,
)

REQ = RingReq.simple(PAGE_SIZE, 4)
POLL_EVENTS = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM

# The rules' own values: R2.1 setsockopt(6/7) -> ENOPROTOOPT (also without CAP_NET_ADMIN:
# the option does not exist, so there is no capability check), R2.2 6.12's int prologue
# reads optval first (bad pointer -> EFAULT), R3.1 mmap -> ENODEV (sock_no_mmap), R9.14
# sendto(NULL, 0) is an ordinary zero-length send (6.12: ENODATA, model M8) and poll is
# datagram_poll (an idle socket is writable, nothing to read).
EXPECTED = {
    "rx_ring": "ENOPROTOOPT",
    "tx_ring": "ENOPROTOOPT",
    "rx_ring_unprivileged": "ENOPROTOOPT",
    "rx_ring_bad_pointer": "EFAULT",
    "mmap": "ENODEV",
    "sendto_null": "ENODATA",
    "poll": POLLOUT | POLLWRNORM,
}


def _name(e: int) -> str:
    return errno.errorcode.get(e, str(e))


def _try(fn, *args) -> str:
    try:
        fn(*args)
    except OSError as e:
        return _name(e.errno)
    return "ok"


def kernel_outcomes() -> dict:
    """The running kernel's answers (run as root, with CAP_NET_ADMIN)."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    s.bind((0, 0))
    out = {
        "rx_ring": _try(set_ring, s, False, REQ),
        "tx_ring": _try(set_ring, s, True, REQ),
        "rx_ring_bad_pointer": _try(set_ring_badptr, s, False, 16),
        "mmap": _try(mmap_socket, s, PAGE_SIZE),
        "sendto_null": _try(sendto_null, s, (0, 0)),
        "poll": poll_mask(s, 0, POLL_EVENTS),
    }

    def unprivileged() -> int:
        drop_cap_net_admin()
        try:
            set_ring(s, False, REQ)
        except OSError as e:
            return e.errno
        return 0
    e = fork_call(unprivileged)
    out["rx_ring_unprivileged"] = _name(e) if e else "ok"
    # R2.1: there is no getsockopt for the rings in any version (not modelled)
    try:
        s.getsockopt(SOL_NETLINK, NETLINK_RX_RING)
        out["getsockopt_rx_ring"] = "ok"
    except OSError as e:
        out["getsockopt_rx_ring"] = _name(e.errno)
    s.close()
    return out


def model_outcomes(netlink_mmap: bool = False) -> dict:
    """The same probe on the model of a kernel without the series (or with it)."""
    from model import World
    w = World(netlink_mmap=netlink_mmap)
    fd = w.socket(NETLINK_GENERIC).value
    w.bind(fd)
    req = (REQ.block_size, REQ.block_nr, REQ.frame_size, REQ.frame_nr)

    def res(o) -> str:
        return _name(o.err) if o.err else "ok"
    return {
        "rx_ring": res(w.setsockopt_ring(fd, False, req)),
        "tx_ring": res(w.setsockopt_ring(fd, True, req)),
        "rx_ring_unprivileged": res(w.setsockopt_ring(fd, False, req, privileged=False)),
        "rx_ring_bad_pointer": res(w.setsockopt_ring(fd, False, None, optlen=16)),
        "mmap": res(w.mmap(fd, PAGE_SIZE)),
        "sendto_null": res(w.sendmsg(fd, None, dst=(0, 0))),
        "poll": w.poll(fd, events=POLL_EVENTS).value,
    }


def main() -> int:
    print(json.dumps(kernel_outcomes(), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
