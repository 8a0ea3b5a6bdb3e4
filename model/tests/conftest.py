"""Shared set-ups: a socket with rings, mapped."""

from __future__ import annotations

import pytest

from model import RingReq, World
from model.uapi import NETLINK_GENERIC

FRAMES_2K = RingReq(4096, 2, 2048, 4)      # 4 frames of 2048 (payload 2024)
FRAMES_8K = RingReq(8192, 4, 8192, 4)        # 4 frames of 8192 (payload 8168 >= GOODSIZE)


class Setup:
    """A world with one bound socket ``fd`` (portid ``pid``) and its mapping ``mid``."""

    def __init__(self, rx=FRAMES_2K, tx=None, proto=NETLINK_GENERIC, **kw):
        self.w = World(**kw)
        self.fd = self.w.socket(proto).value
        assert self.w.bind(self.fd).ok
        self.pid = self.w.portid(self.fd)
        for is_tx, req in ((False, rx), (True, tx)):
            if req is not None:
                assert self.w.setsockopt_ring(self.fd, is_tx, req).ok
        size = (rx.block_size * rx.block_nr if rx else 0) + (tx.block_size * tx.block_nr
                                                              if tx else 0)
        self.mid = self.w.mmap(self.fd, size).value if size else None

    def st(self, ring="rx"):
        w, mid = self.w, self.mid
        sk = w._file(self.fd, None).sock
        r = sk.rx if ring == "rx" else sk.tx
        return [w.frame(mid, ring, i).value.status for i in range(r.frame_nr)]

    def hdr(self, i, ring="rx"):
        return self.w.frame(self.mid, ring, i).value


@pytest.fixture
def s():
    return Setup()


@pytest.fixture
def big():
    return Setup(rx=FRAMES_8K)
