"""R2: ring setup and teardown through setsockopt (errno table, busy rules, zeroed memory,
queue purge)."""

from __future__ import annotations

import errno

import pytest

from .backends.base import BADPTR
from .helpers import SMALL, R, U, V, deliver, errno_of, ring_socket, rx_events
from .uapi import PAGE_SIZE, RingReq

P = PAGE_SIZE

# (name, request, optlen, expected errno or 0) -- expectations are the rule text (R2.3/R2.5/R2.7)
SETUP_TABLE = [
    ("r2_3_optlen_short", RingReq(P, 1, P, 1), 15, errno.EINVAL),
    ("r2_3_optlen_long_ok", RingReq(P, 1, P, 1), 20, 0),
    ("r2_5_block_size_zero", RingReq(0, 1, 32, 1), None, errno.EINVAL),
    ("r2_5_block_size_negative", RingReq(1 << 31, 1, P, 1 << 31 >> 12), None, errno.EINVAL),
    ("r2_5_block_not_page_multiple", RingReq(P + 4, 1, P + 4, 1), None, errno.EINVAL),
    ("r2_5_frame_below_hdrlen", RingReq(P, 1, 20, P // 20), None, errno.EINVAL),
    ("r2_5_frame_unaligned", RingReq(P, 1, 26, P // 26), None, errno.EINVAL),
    ("r2_5_frame_larger_than_block", RingReq(P, 2, 2 * P, 1), None, errno.EINVAL),
    ("r2_5_frame_nr_mismatch", RingReq(P, 2, P // 2, 3), None, errno.EINVAL),
    ("r2_5_frame_nr_zero_with_blocks", RingReq(P, 1, P, 0), None, errno.EINVAL),
    ("r2_5_minimal_frame_ok", RingReq(P, 1, 24, P // 24), None, 0),
    ("r2_5_frame_larger_than_page_ok", RingReq(2 * P, 2, 2 * P, 2), None, 0),
    ("r2_7_teardown_frame_nr_nonzero", RingReq(P, 0, P, 1), None, errno.EINVAL),
    ("r2_7_teardown_without_ring_ok", RingReq(0, 0, 0, 0), None, 0),
    ("r2_7_teardown_ignores_sizes", RingReq(12345, 0, 7, 0), None, 0),
]


@pytest.mark.parametrize("tx", [False, True], ids=["rx", "tx"])
@pytest.mark.parametrize("name,req,optlen,expect", SETUP_TABLE, ids=[t[0] for t in SETUP_TABLE])
def test_r2_3_r2_5_r2_7_setsockopt_errno_table(backend, tx, name, req, optlen, expect):
    s = backend.socket()
    if expect:
        assert errno_of(backend.set_ring, s, tx, req, optlen) == expect
    else:
        backend.set_ring(s, tx, req, optlen)


@pytest.mark.parametrize("optlen", [4, 15])
def test_r2_2_r2_3_unmapped_optval_short_optlen_is_einval_not_efault(backend, optlen):
    """The ring options read no int from optval before their own checks (R2.2): an
    unmapped optval with optlen 4..15 fails the length check (R2.3 step 2, EINVAL) before
    the 16-byte copy could fault (step 3). 6.12's generic int read, done for every
    option with optlen >= 4, would fault first and answer EFAULT (below 4 it reads
    nothing, so a shorter optlen cannot tell the two apart)."""
    s = backend.socket()
    for tx in (False, True):
        assert errno_of(backend.set_ring, s, tx, BADPTR, optlen) == errno.EINVAL
    assert errno_of(backend.mmap, s) == errno.EINVAL  # R3.3: no ring was configured


def test_r2_2_r2_3_unmapped_optval_without_cap_net_admin_is_eperm_not_efault(backend):
    """Without CAP_NET_ADMIN an unmapped optval of full length is EPERM (R2.3 step 1,
    before anything is read), not the EFAULT of 6.12's int read (R2.2)."""
    s = backend.socket()
    for tx in (False, True):
        assert errno_of(backend.set_ring, s, tx, BADPTR, 16, 270, False) == errno.EPERM


def test_r2_3_eperm_before_length_check(backend):
    """Without CAP_NET_ADMIN: EPERM, checked before the length (optlen 0 -> EPERM, not
    EINVAL); nothing is configured."""
    s = backend.socket()
    assert errno_of(backend.set_ring, s, False, SMALL, None, 270, False) == errno.EPERM
    assert errno_of(backend.set_ring, s, True, b"", 0, 270, False) == errno.EPERM
    assert errno_of(backend.mmap, s, SMALL.size) == errno.EINVAL  # R3.3: still no ring


def test_r2_3_efault_bad_optval(backend):
    s = backend.socket()
    assert errno_of(backend.set_ring, s, False, BADPTR) == errno.EFAULT


@pytest.mark.parametrize("target_tx", [False, True], ids=["rx", "tx"])
def test_r2_4_busy_while_mapped_then_free_after_munmap(backend, target_tx):
    """A mapping covers both rings: neither can be changed or torn down while mapped
    (R2.4); after munmap teardown succeeds (R3.9)."""
    s = backend.socket()
    backend.set_ring(s, False, SMALL)
    backend.set_ring(s, True, SMALL)
    m = backend.mmap(s)
    assert errno_of(backend.set_ring, s, target_tx, RingReq(0, 0, 0, 0)) == errno.EBUSY
    assert errno_of(backend.set_ring, s, target_tx, SMALL) == errno.EBUSY
    backend.munmap(m)
    backend.set_ring(s, target_tx, RingReq(0, 0, 0, 0))
    backend.set_ring(s, target_tx, RingReq.simple(P, 2))


def test_r2_6_fresh_ring_is_zeroed(backend):
    s = ring_socket(backend, rx=SMALL, tx=SMALL)
    for ring in ("rx", "tx"):
        for i in range(SMALL.frame_nr):
            h = backend.frame(s, ring, i)
            assert (h.status, h.len, h.group, h.pid, h.uid, h.gid) == (0, 0, 0, 0, 0, 0)
            assert backend.payload(s, ring, i, 64) == bytes(64)


def test_r2_8_setup_purges_queued_messages(backend):
    """A message queued before the RX ring exists is lost when the ring is set up."""
    s = backend.socket()
    assert backend.drv_plain(s, 40) >= 0
    backend.set_ring(s, False, SMALL)
    assert backend.recv(s) is None


def test_r2_8_noop_teardown_still_purges(backend):
    """Tearing down a non-existent RX ring still empties the receive queue (R2.7/R2.8c)."""
    s = backend.socket()
    assert backend.drv_plain(s, 40) >= 0
    backend.set_ring(s, False, RingReq(0, 0, 0, 0))
    assert backend.recv(s) is None


def test_r2_9_rings_independent_geometry(backend):
    """RX and TX may have different geometry; the mapping is their sum (R2.9/R3.4)."""
    rx = RingReq.simple(2048, 6)
    tx = RingReq.simple(P, 2)
    s = backend.socket()
    backend.set_ring(s, False, rx)
    backend.set_ring(s, True, tx)
    assert errno_of(backend.mmap, s, rx.size) == errno.EINVAL
    backend.mmap(s, rx.size + tx.size)
    deliver(backend, s, 100)
    assert backend.frame(s, "rx", 0).status == V


def test_r2_10_r9_13_last_reference_dropped_by_a_ring_skb_tears_down_quietly(backend):
    """R2.10/R9.13: a socket with both rings, closed and unmapped while one of its RX
    frames is RESERVED for a held message, is released (its portid is free at once) but
    destroyed only when that message is freed: the ring skb's destructor reports the
    release of the frame reserved at allocation and drops the last socket reference, so
    the rings are torn down (closing=true, no pending/mapped checks) from the driver's
    FREE. Nothing else changes: a new socket on the same portid has its own fresh ring
    and receives normally. (On the kernel the gate's console check -- lockdep, KASAN in
    the debug profile -- is what catches a teardown that sleeps or touches freed
    memory; R9.13 promises no visible change.)"""
    a = ring_socket(backend, rx=SMALL, tx=SMALL, mapped=False)
    ma = backend.mmap(a)
    h = backend.drv_alloc(a, 40)
    assert backend.frame(a, "rx", 0).status == R
    backend.close(a)
    backend.munmap(ma)                            # released: portid free, socket alive
    b = backend.socket(port_of=a)
    backend.set_ring(b, False, SMALL)
    backend.set_ring(b, True, SMALL)
    backend.mmap(b)
    backend.events()
    backend.drv_free(h)                           # last reference of a: rings torn down
    assert [(e.sock, e.decision, e.frame) for e in rx_events(backend.events())] == [
        (a, "release", 0)]
    assert backend.statuses(b, "rx") == [U] * SMALL.frame_nr
    deliver(backend, b, 40)
    f = backend.frame(b, "rx", 0)
    assert (f.status, f.len) == (V, 56)
    assert backend.so_error(b) == 0
