"""A ring-mapped netlink socket for real-subsystem scenarios (kernel-only): read
messages in ring order (VALID from the frame, COPY through recvmsg), send through the TX
ring. With ``rings=False`` the same API uses plain send/recv (used to check the scenario
plumbing on a kernel without the feature)."""

from __future__ import annotations

import time

from .ring import RingView
from .uapi import (
    NL_MMAP_HDRLEN,
    NL_MMAP_STATUS_COPY,
    NL_MMAP_STATUS_UNUSED,
    NL_MMAP_STATUS_VALID,
    RingReq,
    mmap_socket,
    open_netlink,
    parse_nlmsgs,
    poll_mask,
    sendto_null,
    set_ring,
)


class RingSocket:
    def __init__(self, proto: int, rx: RingReq | None, tx: RingReq | None = None,
                 rings: bool = True, groups: int = 0) -> None:
        self.sock = open_netlink(proto, groups=groups)
        self.rings = rings
        self.rx_req, self.tx_req = rx, tx
        self.rx_idx = self.tx_idx = 0
        self.frames = {"valid": 0, "copy": 0}
        self.frame_lens: list[int] = []
        if rings:
            if rx:
                set_ring(self.sock, False, rx)
            if tx:
                set_ring(self.sock, True, tx)
            self.map = mmap_socket(self.sock, RingView.length(rx, tx))
            self.view = RingView(self.map, rx, tx)

    @property
    def portid(self) -> int:
        return self.sock.getsockname()[0]

    def send(self, msg: bytes, dst: tuple[int, int] = (0, 0)) -> int:
        """Through the TX ring (one frame, sendto NULL) or plainly."""
        if not (self.rings and self.tx_req):
            return self.sock.sendto(msg, dst)
        t = self.view.tx
        assert t.status(self.tx_idx) == NL_MMAP_STATUS_UNUSED, "TX frame busy"
        t.put_message(self.tx_idx, msg)
        n = sendto_null(self.sock, dst)
        assert t.status(self.tx_idx) == NL_MMAP_STATUS_UNUSED, "TX frame not released"
        self.tx_idx = (self.tx_idx + 1) % self.tx_req.frame_nr
        return n

    def next_chunk(self, timeout: float = 5.0) -> bytes | None:
        """The next chunk of netlink bytes (one frame or one recvmsg), or None on timeout.
        Polls (which continues dumps, R6.1) when the next frame is not ready."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.rings:
                if not poll_mask(self.sock, int(max(0, deadline - time.monotonic()) * 1000),
                                 1):
                    return None
                return self.sock.recv(1 << 16)
            r = self.view.rx
            st = r.status(self.rx_idx)
            if st == NL_MMAP_STATUS_VALID:
                h = r.hdr(self.rx_idx)
                assert h.len <= r.payload_max, f"VALID nm_len {h.len} > frame payload"
                data = r.payload(self.rx_idx, h.len)
                self.frames["valid"] += 1
            elif st == NL_MMAP_STATUS_COPY:
                h = r.hdr(self.rx_idx)
                data = self.sock.recv(1 << 17)
                assert len(data) == h.len, f"COPY nm_len {h.len} != recvmsg {len(data)}"
                self.frames["copy"] += 1
            elif st == NL_MMAP_STATUS_UNUSED or st == 1:  # RESERVED: poll again
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                poll_mask(self.sock, int(min(left, 0.2) * 1000), 1)
                continue
            else:
                raise AssertionError(f"unexpected RX frame status {st}")
            self.frame_lens.append(h.len)
            r.release(self.rx_idx)
            self.rx_idx = (self.rx_idx + 1) % self.rx_req.frame_nr
            return data

    def messages(self, until, timeout: float = 10.0) -> list[tuple]:
        """Collect parsed messages until ``until(msgs)`` is true; fails on timeout."""
        msgs: list[tuple] = []
        deadline = time.monotonic() + timeout
        while not until(msgs):
            left = deadline - time.monotonic()
            chunk = self.next_chunk(max(0.0, left))
            if chunk is None:
                raise AssertionError(f"timed out after {len(msgs)} messages")
            msgs.extend(parse_nlmsgs(chunk))
        return msgs

    def check_frame_headers(self) -> None:
        """Bug history 1.7: every frame header is intact (status in the enum, VALID
        lengths within the frame)."""
        if not self.rings:
            return
        r = self.view.rx
        for i in range(r.frame_nr):
            h = r.hdr(i)
            assert 0 <= h.status <= 4, f"frame {i} header corrupted: {h}"
            if h.status == NL_MMAP_STATUS_VALID:
                assert h.len <= r.frame_size - NL_MMAP_HDRLEN, f"frame {i}: {h}"

    def close(self) -> None:
        if self.rings:
            self.map.munmap()
        self.sock.close()
