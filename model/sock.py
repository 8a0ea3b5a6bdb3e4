"""Per-socket state and the two small routines every path shares.

``overrun`` and ``rcv_wake`` come from af_netlink.c as the seed uses them (R4.13;
seed patch "netlink: add symbolic value for congested state" names the CONGESTED bit).
"""

from __future__ import annotations

import errno
from collections import deque
from dataclasses import dataclass, field

from .ring import Ring


@dataclass(eq=False)
class Skb:
    """A message: ``ring``/``frame`` set for a ring skb (R4.4); ``data`` the bytes."""

    mid: int                     # ledger id
    size: int                    # allocation size
    data: bytes = b""
    ring: Ring | None = None
    frame: int = -1
    owner: Sock | None = None    # allocation-time destination (R4.8)
    dst_group: int = 0
    creds: tuple = (0, 0, 0)


@dataclass(eq=False)
class Dump:
    """Driver dump in progress (R7.x): next message index, and DONE bookkeeping."""

    seq: int
    count: int
    size: int
    next: int = 0
    done_errno: int | None = None   # set once the callback reported completion


@dataclass(eq=False)
class Sock:
    proto: int
    net: int = 0                 # network namespace id (R4.2: lookups stay inside it)
    portid: int = 0
    bound: bool = False
    hashed: bool = False
    connected: bool = False
    dst_portid: int = 0
    dst_group: int = 0
    groups: set = field(default_factory=set)
    no_enobufs: bool = False
    cap_ack: bool = False
    sk_err: int = 0
    congested: bool = False
    drops: int = 0
    rx: Ring | None = None
    tx: Ring | None = None
    mapped: int = 0
    queue: deque = field(default_factory=deque)   # (Skb, truesize)
    rmem: int = 0
    rcvbuf: int = 212992
    dump: Dump | None = None
    max_recvmsg_len: int = 0
    reject_all: bool = False     # a socket filter that drops everything (R4.15)
    released: bool = False

    @property
    def table(self) -> tuple[int, int]:
        """(netns, protocol): the portid and multicast table this socket lives in."""
        return (self.net, self.proto)


def overrun(w, sk: Sock) -> None:
    """netlink_overrun: ENOBUFS once per congestion episode, drops always."""
    w.apply("R4.13")
    if not sk.no_enobufs and not sk.congested:
        sk.congested = True
        sk.sk_err = errno.ENOBUFS
    sk.drops += 1


def rcv_wake(sk: Sock) -> None:
    """netlink_rcv_wake (R4.13): CONGESTED clears only when the queue is empty."""
    if not sk.queue:
        sk.congested = False
