"""Userspace loads and stores through a mapping, and what a racing reader may see.

Byte layout per R1.7/R3.5 (mapping.py); unspecified bytes (D6) come back as Pattern
ranges; ``during`` gives the SibylFS-style set of statuses a concurrent reader may see.
"""

from __future__ import annotations

import errno

from . import mapping
from .outcome import Failed, Outcome, op
from .process import Mapping
from .uapi import NL_MMAP_HDRLEN


class MemoryOps:
    """Mixin of World: read/write/frame/payload/ring_bytes/during."""

    def _mapping(self, mid: int, task: int | None, offset: int = 0, n: int = 0) -> Mapping:
        m = self._task(task).mm.maps.get(mid)
        if m is None or offset < 0 or offset + n > m.length:
            raise Failed(errno.EFAULT)
        return m

    def _ring(self, mid: int, ring: str, i: int | None, task: int | None):
        """The ring of a mapping; with ``i``, also check that it has frame ``i``."""
        sk = self._mapping(mid, task).file.sock
        r = sk.rx if ring == "rx" else sk.tx
        if r is None:
            raise Failed(errno.ENXIO)
        if i is not None and not 0 <= i < r.frame_nr:
            raise Failed(errno.EINVAL)
        self.apply("R1.7")                                  # the frame's address
        return r

    @op
    def write(self, mid: int, offset: int, data: bytes, task: int | None = None) -> Outcome:
        m = self._mapping(mid, task, offset, len(data))
        self.apply("R3.5")                                  # RX blocks first, then TX
        mapping.write(m.file.sock, m.start + offset, data)
        return Outcome(0)

    @op
    def read(self, mid: int, offset: int, n: int, task: int | None = None) -> Outcome:
        m = self._mapping(mid, task, offset, n)
        self.apply("R3.5")
        return Outcome(mapping.read(m.file.sock, m.start + offset, n))

    @op
    def ring_bytes(self, mid: int, task: int | None = None) -> Outcome:
        m = self._mapping(mid, task)
        self.apply("R3.5")
        return Outcome(mapping.read(m.file.sock, m.start, m.length))

    @op
    def frame(self, mid: int, ring: str, i: int, task: int | None = None) -> Outcome:
        r = self._ring(mid, ring, i, task)
        self.apply("R1.4")
        return Outcome(r.hdr(i))

    @op
    def frames(self, mid: int, ring: str, task: int | None = None) -> Outcome:
        r = self._ring(mid, ring, None, task)
        self.apply("R1.4")
        return Outcome([r.hdr(i) for i in range(r.frame_nr)])

    @op
    def write_frame(self, mid: int, ring: str, i: int, status: int | None = None,
                    nm_len: int | None = None, payload: bytes | None = None,
                    task: int | None = None) -> Outcome:
        """Userspace stores: payload at offset 24, then nm_len, then status."""
        r = self._ring(mid, ring, i, task)
        off = r.offset(i)
        if payload is not None:
            r.store(off + NL_MMAP_HDRLEN, payload[:r.size - off - NL_MMAP_HDRLEN])
        if nm_len is not None:
            r.set_len(i, nm_len & 0xFFFFFFFF)
        if status is not None:
            r.set_status(i, status & 0xFFFFFFFF)
        return Outcome(0)

    @op
    def payload(self, mid: int, ring: str, i: int, n: int | None = None,
                task: int | None = None) -> Outcome:
        sk = self._mapping(mid, task).file.sock
        r = self._ring(mid, ring, i, task)
        base = 0 if ring == "rx" or sk.rx is None else sk.rx.size
        off = base + r.offset(i) + NL_MMAP_HDRLEN
        self.apply("R1.6", "R3.5")                          # after the RX ring, byte 24
        n = r.nm_len(i) if n is None else n
        return Outcome(mapping.read(sk, off, min(n, base + r.size - off)))

    def during(self, mid: int, ring: str, i: int, name: str, *args,
               task: int | None = None, **kw) -> tuple[Outcome, frozenset]:
        """Run operation ``name`` and return its outcome with the set of statuses a
        concurrent reader of frame ``i`` may see meanwhile (SibylFS-style: any member is
        allowed), e.g. RESERVED for an RX frame until delivery (R4.5), never for a TX
        frame (D16)."""
        r = self._ring(mid, ring, i, task)
        seen = {r.status(i)}
        r.watch = (i, seen)
        try:
            out = getattr(self, name)(*args, **kw)
        finally:
            r.watch = None
        return out, frozenset(seen)
