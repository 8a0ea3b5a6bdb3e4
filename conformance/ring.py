"""A view of mapped netlink rings: frame headers (R1.4) and payloads (R1.6).

Frame ``i`` of a ring lives in block ``i // frames_per_block`` at offset
``(i % frames_per_block) * frame_size`` (R1.7); the RX ring is mapped first, the TX ring
right after it (R3.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from .uapi import (
    NL_MMAP_HDR,
    NL_MMAP_HDRLEN,
    NL_MMAP_STATUS_UNUSED,
    NL_MMAP_STATUS_VALID,
    STATUS_NAMES,
    Mapping,
    RingReq,
)


@dataclass(frozen=True)
class FrameHdr:
    status: int
    len: int
    group: int
    pid: int
    uid: int
    gid: int

    def __str__(self) -> str:
        st = STATUS_NAMES.get(self.status, str(self.status))
        return (f"{st} len={self.len} group={self.group} pid={self.pid} "
                f"uid={self.uid} gid={self.gid}")


class Ring:
    """One ring (RX or TX) inside a mapping."""

    def __init__(self, mapping: Mapping, base: int, req: RingReq, name: str) -> None:
        self.m = mapping
        self.base = base
        self.req = req
        self.name = name
        self.fpb = req.frames_per_block
        self.frame_nr = req.frame_nr
        self.frame_size = req.frame_size
        self.payload_max = req.frame_size - NL_MMAP_HDRLEN

    def offset(self, i: int) -> int:
        """Byte offset of frame ``i`` inside the mapping (R1.7)."""
        if not 0 <= i < self.frame_nr:
            raise IndexError(f"{self.name} frame {i} out of 0..{self.frame_nr - 1}")
        return (self.base + (i // self.fpb) * self.req.block_size
                + (i % self.fpb) * self.frame_size)

    def status(self, i: int) -> int:
        return self.m.u32(self.offset(i))

    def set_status(self, i: int, status: int) -> None:
        self.m.set_u32(self.offset(i), status)

    def hdr(self, i: int) -> FrameHdr:
        return FrameHdr(*NL_MMAP_HDR.unpack_from(self.m.mv, self.offset(i)))

    def set_len(self, i: int, n: int) -> None:
        self.m.set_u32(self.offset(i) + 4, n)

    def payload(self, i: int, n: int | None = None) -> bytes:
        """``n`` bytes of frame ``i``'s message area (default: nm_len, capped)."""
        if n is None:
            n = min(self.m.u32(self.offset(i) + 4), self.payload_max)
        return self.m.read(self.offset(i) + NL_MMAP_HDRLEN, n)

    def write_payload(self, i: int, data: bytes) -> None:
        if len(data) > self.payload_max:
            raise ValueError(f"{len(data)} bytes do not fit a {self.frame_size}-byte frame")
        self.m.write(self.offset(i) + NL_MMAP_HDRLEN, data)

    def put_message(self, i: int, data: bytes, status: int = NL_MMAP_STATUS_VALID) -> None:
        """Userspace TX: write the message, nm_len, then the status last (R5.2)."""
        self.write_payload(i, data)
        self.set_len(i, len(data))
        self.set_status(i, status)

    def release(self, i: int) -> None:
        self.set_status(i, NL_MMAP_STATUS_UNUSED)

    def statuses(self) -> list[int]:
        return [self.status(i) for i in range(self.frame_nr)]

    def raw(self) -> bytes:
        """All bytes of the ring's blocks (including any block slack)."""
        return self.m.read(self.base, self.req.size)


class RingView:
    """RX then TX ring of one mapping (R3.5). Either request may be None (absent ring)."""

    def __init__(self, mapping: Mapping, rx: RingReq | None, tx: RingReq | None) -> None:
        self.m = mapping
        self.rx = Ring(mapping, 0, rx, "rx") if rx and rx.block_nr else None
        tx_base = rx.size if rx and rx.block_nr else 0
        self.tx = Ring(mapping, tx_base, tx, "tx") if tx and tx.block_nr else None

    @staticmethod
    def length(rx: RingReq | None, tx: RingReq | None) -> int:
        return (rx.size if rx else 0) + (tx.size if tx else 0)
