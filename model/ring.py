"""One mapped ring: geometry, memory, frame addressing and status words.

Seed patch: "netlink: mmaped netlink: ring setup" (R1.7 frame addressing, R2.6 zeroed
blocks) and "netlink: implement memory mapped recvmsg()" (R4.12 SKIP forwarding).
The memory is the ring's real byte image (blocks back to back, slack included), so a
mapping read returns exactly what userspace sees. ``unspec`` records, per frame, the
payload offset from which bytes are unspecified (D6: payload of a RESERVED frame).
"""

from __future__ import annotations

import struct

from .uapi import NL_MMAP_HDRLEN, SKIP, FrameHdr, RingReq

_U32 = struct.Struct("=I")
_HDR = struct.Struct("=IIIIII")


class Ring:
    __slots__ = ("req", "fpb", "frame_size", "frame_nr", "size", "mem", "head", "pending",
                 "unspec", "watch")

    def __init__(self, req: RingReq) -> None:
        self.req = req
        self.frame_size = req.frame_size
        self.frame_nr = req.frame_nr
        self.fpb = req.block_size // req.frame_size
        self.size = req.block_size * req.block_nr
        self.mem = bytearray(self.size)  # R2.6: zero-filled, every frame UNUSED
        self.head = 0
        self.pending = 0
        self.unspec: dict[int, int] = {}
        self.watch: tuple[int, set] | None = None   # (frame, statuses stored meanwhile)

    @property
    def payload_max(self) -> int:
        return self.frame_size - NL_MMAP_HDRLEN

    def offset(self, i: int) -> int:
        """R1.7: frame i is in block i // fpb at (i % fpb) * frame_size."""
        return (i // self.fpb) * self.req.block_size + (i % self.fpb) * self.frame_size

    def status(self, i: int) -> int:
        return _U32.unpack_from(self.mem, self.offset(i))[0]

    def set_status(self, i: int, status: int) -> None:
        _U32.pack_into(self.mem, self.offset(i), status)
        if self.watch is not None and self.watch[0] == i:
            self.watch[1].add(status)

    def hdr(self, i: int) -> FrameHdr:
        return FrameHdr(*_HDR.unpack_from(self.mem, self.offset(i)))

    def nm_len(self, i: int) -> int:
        return _U32.unpack_from(self.mem, self.offset(i) + 4)[0]

    def set_len(self, i: int, nm_len: int) -> None:
        _U32.pack_into(self.mem, self.offset(i) + 4, nm_len)

    def fill_hdr(self, i: int, nm_len: int, group: int, creds: tuple) -> None:
        """Header fields written at delivery (R4.7) or COPY (R4.9); status separately."""
        off = self.offset(i)
        _HDR.pack_into(self.mem, off, _U32.unpack_from(self.mem, off)[0], nm_len, group,
                       *creds)

    def advance(self) -> None:
        self.head = 0 if self.head == self.frame_nr - 1 else self.head + 1

    def prev(self) -> int:
        return self.frame_nr - 1 if self.head == 0 else self.head - 1

    def forward(self) -> bool:
        """R4.12 netlink_forward_ring: skip SKIP frames, at most one revolution (D19).
        True if the head stood on a SKIP frame."""
        start = self.head
        skipped = self.status(start) == SKIP
        while self.status(self.head) == SKIP:
            self.advance()
            if self.head == start:
                break
        return skipped

    def store(self, off: int, data: bytes) -> None:
        """A store into ring memory (by userspace or the kernel's message copy)."""
        self.mem[off:off + len(data)] = data
        if not self.unspec:
            return
        i = self._frame_at(off)
        if i is None or i not in self.unspec:
            return
        base = self.offset(i) + NL_MMAP_HDRLEN
        u = base + self.unspec[i]
        if off <= u < off + len(data):
            end = off + len(data) - base
            if end >= self.payload_max:
                del self.unspec[i]
            else:
                self.unspec[i] = end

    def _frame_at(self, off: int) -> int | None:
        blk, rem = divmod(off, self.req.block_size)
        k = rem // self.frame_size
        i = blk * self.fpb + k
        return i if k < self.fpb and i < self.frame_nr else None

    def mark_unspec(self, i: int) -> None:
        self.unspec[i] = 0

    def unknown_ranges(self, base: int) -> list[tuple[int, int]]:
        """Unspecified byte ranges, as offsets from ``base`` (the ring's mapping start)."""
        out = []
        for i, u in self.unspec.items():
            off = base + self.offset(i)
            out.append((off + NL_MMAP_HDRLEN + u, off + self.frame_size))
        return out
