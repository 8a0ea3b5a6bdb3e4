"""R6.x: poll mask, ring bits, dump flow control (D3)."""

import pytest

from model import Blocked, RingReq, World
from model.uapi import (
    COPY,
    POLLERR,
    POLLIN,
    POLLOUT,
    POLLRDNORM,
    POLLWRBAND,
    POLLWRNORM,
    RESERVED,
    SKIP,
    UNUSED,
    VALID,
)

from .conftest import FRAMES_2K, Setup

BASE = POLLOUT | POLLWRNORM | POLLWRBAND
READ = POLLIN | POLLRDNORM


def test_R6_3_plain_socket_mask():
    w = World()
    fd = w.socket().value
    w.bind(fd)
    assert w.poll(fd).value == BASE
    w.drv_plain(w.portid(fd), 1)
    assert w.poll(fd).value == BASE | READ
    assert w.poll(fd, events=POLLIN).value == POLLIN


def test_R6_3_sk_err_sets_POLLERR(s):
    for i in range(4):
        s.w.write_frame(s.mid, "rx", i, status=VALID)
    s.w.drv_alloc(s.pid, 1)
    assert s.w.poll(s.fd).value & POLLERR
    s.w.so_error(s.fd)
    assert not s.w.poll(s.fd).value & POLLERR


def test_R6_4_fresh_ring_not_readable(s):
    assert s.w.poll(s.fd).value == BASE


def test_R6_4_reserved_frame_behind_head_is_readable(s):
    s.w.drv_alloc(s.pid, 1)
    assert s.st()[0] == RESERVED and s.w.poll(s.fd).value & POLLIN


def test_R6_4_out_of_order_release_hides_older_valid_frames(s):
    for _ in range(2):
        s.w.drv_xmit(s.w.drv_alloc(s.pid, 1).value)
    s.w.write_frame(s.mid, "rx", 1, status=UNUSED)
    assert s.st()[0] == VALID and s.w.poll(s.fd).value == BASE


def test_R6_4_poll_forwards_head_over_SKIP(s):
    s.w.drv_xmit(s.w.drv_alloc(s.pid, 1).value)
    s.w.write_frame(s.mid, "rx", 0, status=UNUSED)
    s.w.write_frame(s.mid, "rx", 1, status=SKIP)
    assert s.w.poll(s.fd).value & POLLIN            # frame 1 (SKIP) now behind head 2
    assert s.w.sock_info(s.fd).rx_head == 2


def test_R6_5_tx_ring_never_removes_POLLOUT():
    s = Setup(rx=None, tx=FRAMES_2K)
    s.w.write_frame(s.mid, "tx", 0, status=VALID)
    assert s.w.poll(s.fd).value == BASE


def test_R6_1_poll_without_rx_ring_does_not_continue_dumps():
    s = Setup(rx=None, tx=FRAMES_2K)
    s.w.drv_dump(s.fd, 100, 1000)
    before = s.w.sock_info(s.fd).queue_len
    assert s.w.poll(s.fd).events == () and s.w.sock_info(s.fd).queue_len == before


def test_D3_R6_2_space_test_looks_exactly_half_a_ring_ahead():
    s = Setup(rx=RingReq(8192, 1, 1024, 8), goodsize=900)
    w = s.w
    w.drv_dump(s.fd, 1000, 400)                      # chunk 0 in frame 0; head 1
    for i, st in enumerate((VALID, 0, 0, 0, 0, 0, 0, 0)):
        w.write_frame(s.mid, "rx", i, status=st)
    w.write_frame(s.mid, "rx", 5, status=VALID)     # (1 + 8//2) % 8 = 5
    assert w.poll(s.fd).events == ()
    w.write_frame(s.mid, "rx", 5, status=UNUSED)
    w.write_frame(s.mid, "rx", 4, status=VALID)     # 3.10's off-by-one frame: ignored
    evs = w.poll(s.fd).events
    assert [e.frame for e in evs if e.decision == "ring"] == [1, 2, 3]


def test_D3_R6_2_space_test_wraps_modulo_N():
    s = Setup(rx=RingReq(8192, 1, 1024, 8), goodsize=900)
    w = s.w
    w.drv_dump(s.fd, 1000, 400)
    sk = w._file(s.fd, None).sock
    sk.rx.head = 6                                   # as if six chunks had been read
    w.write_frame(s.mid, "rx", 0, status=UNUSED)
    w.write_frame(s.mid, "rx", 2, status=VALID)      # (6 + 4) % 8 = 2
    assert w.poll(s.fd).events == ()
    w.write_frame(s.mid, "rx", 2, status=UNUSED)
    w.write_frame(s.mid, "rx", 3, status=VALID)      # 3.10 would have checked 3
    assert w.poll(s.fd).events[0].frame == 6


def test_R6_6_blocking_poll_sleeps_until_delivery_or_error(s):
    with pytest.raises(Blocked):
        s.w.poll(s.fd, events=POLLIN, block=True)
    s.w.drv_xmit(s.w.drv_alloc(s.pid, 1).value)
    assert s.w.poll(s.fd, events=POLLIN, block=True).value == POLLIN
    for i in range(4):
        s.w.write_frame(s.mid, "rx", i, status=COPY if i else UNUSED)
    s.w.drv_plain(s.pid, 1)                             # head 1 is COPY: dropped
    s.w.write_frame(s.mid, "rx", 0, status=UNUSED)
    assert s.w.poll(s.fd, events=POLLIN, block=True).value & POLLERR
