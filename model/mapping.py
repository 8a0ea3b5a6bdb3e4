"""mmap() of the rings and the ``mapped`` counter; byte access through a mapping.

Seed patch: "netlink: add mmap'ed netlink helper functions" (R3.2-R3.9). The RX ring is
mapped first, the TX ring right after it (R3.5).
"""

from __future__ import annotations

import errno

from .outcome import Pattern
from .sock import Sock


def ring_span(sk: Sock) -> int:
    """R3.4: total bytes of the configured rings."""
    return (sk.rx.size if sk.rx else 0) + (sk.tx.size if sk.tx else 0)


def check_mmap(w, sk: Sock, length: int, offset: int) -> int:
    """Generic mmap checks, then netlink_mmap (R3.2-R3.4). Returns 0 or an errno."""
    if length <= 0 or offset % w.page_size:
        return errno.EINVAL
    vma_len = -(-length // w.page_size) * w.page_size   # mm rounds the length up first
    if offset:
        w.apply("R3.2")
        return errno.EINVAL
    if sk.rx is None and sk.tx is None:
        w.apply("R3.3")
        return errno.EINVAL
    w.apply("R3.4")
    return 0 if vma_len == ring_span(sk) else errno.EINVAL


def segments(sk: Sock):
    """(base, ring) pairs in mapping order (R3.5)."""
    base = 0
    for ring in (sk.rx, sk.tx):
        if ring is not None:
            yield base, ring
            base += ring.size


def read(sk: Sock, offset: int, n: int) -> Pattern:
    data = bytearray()
    unknown = []
    for base, ring in segments(sk):
        lo, hi = max(offset, base), min(offset + n, base + ring.size)
        if lo >= hi:
            continue
        data += ring.mem[lo - base:hi - base]
        for a, b in ring.unknown_ranges(base):
            a, b = max(a, lo), min(b, hi)
            if a < b:
                unknown.append((a - offset, b - offset))
    return Pattern(bytes(data), tuple(sorted(unknown)))


def write(sk: Sock, offset: int, data: bytes) -> None:
    for base, ring in segments(sk):
        lo, hi = max(offset, base), min(offset + len(data), base + ring.size)
        if lo < hi:
            ring.store(lo - base, data[lo - offset:hi - offset])
