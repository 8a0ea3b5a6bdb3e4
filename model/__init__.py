"""Executable model of memory-mapped netlink I/O (McHardy 2013 series, 6.12 port).

Pure Python, deterministic, no I/O. ``World`` holds the state (tasks, file tables,
sockets, rings, mappings, test-driver messages) and offers one method per userspace
operation or kernel event; each returns an ``Outcome(value, err, events)``.
Each decision names the rule it applies with an id of spec/RULES.md (R1.1 … R9.14,
D1–D25, M1–M8): ``w.apply("R2.5.3")``; ``w.take_applied()`` returns the ids applied
since the last call. The full API table
is in model/README.md; the rule map (rule -> model code -> tests) in model/RULES.md.

Quick tour::

    w = World()
    fd = w.socket().value
    w.bind(fd)
    w.setsockopt_ring(fd, False, RingReq(4096, 2, 2048, 4))
    mid = w.mmap(fd, 8192).value
    h = w.drv_alloc(w.portid(fd), 100).value      # frame 0 RESERVED (R4.4, D6)
    w.drv_xmit(h)                                  # frame 0 VALID (R4.7)
    w.frame(mid, "rx", 0).value.status             # 2
"""

from .outcome import Blocked, Event, NotModelled, Outcome, Pattern
from .uapi import FrameHdr, RingReq
from .world import SockInfo, World

__all__ = ["World", "Outcome", "Event", "Pattern", "Blocked", "NotModelled", "FrameHdr",
           "RingReq", "SockInfo"]
