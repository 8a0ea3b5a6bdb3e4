"""R3: mmap() of a ring socket -- offset, length, ordering, mapping count."""

from __future__ import annotations

import errno

import pytest

from .helpers import SMALL, U, V, deliver, errno_of, ring_socket
from .uapi import PAGE_SIZE, RingReq


def test_r3_2_nonzero_offset_einval(backend):
    s = ring_socket(backend, mapped=False)
    assert errno_of(backend.mmap, s, SMALL.size, PAGE_SIZE) == errno.EINVAL


def test_r3_3_no_rings_einval(backend):
    s = backend.socket()
    assert errno_of(backend.mmap, s, PAGE_SIZE) == errno.EINVAL


@pytest.mark.parametrize("delta", [-PAGE_SIZE, PAGE_SIZE])
def test_r3_4_length_must_be_exact(backend, delta):
    s = ring_socket(backend, rx=SMALL, tx=SMALL, mapped=False)
    assert errno_of(backend.mmap, s, 2 * SMALL.size + delta) == errno.EINVAL
    backend.mmap(s, 2 * SMALL.size)


def test_r3_4_tx_only_mapping(backend):
    s = ring_socket(backend, rx=None, tx=SMALL, mapped=False)
    backend.mmap(s, SMALL.size)
    assert backend.statuses(s, "tx") == [U] * SMALL.frame_nr


def test_r3_5_rx_mapped_before_tx(backend):
    """RX ring first: a kernel message written to RX frame 0 is not visible in TX frame 0
    (which is at offset rx_size), with different geometries for the two rings."""
    rx = RingReq.simple(2048, 4)
    s = ring_socket(backend, rx=rx, tx=SMALL)
    deliver(backend, s, 20)
    assert backend.frame(s, "rx", 0).status == V
    assert backend.statuses(s, "tx") == [U] * SMALL.frame_nr


def test_r3_7_forked_child_keeps_mapping(backend):
    """fork() duplicates the VMA: after the parent unmaps, the child's copy keeps the rings
    busy until the child exits."""
    s = ring_socket(backend, mapped=False)
    m = backend.mmap(s)
    child = backend.fork_hold()
    backend.munmap(m)
    assert errno_of(backend.set_ring, s, False, RingReq(0, 0, 0, 0)) == errno.EBUSY
    backend.fork_release(child)
    backend.set_ring(s, False, RingReq(0, 0, 0, 0))


def test_r3_mapping_outlives_close(backend):
    """The mapping keeps the rings alive after close(); kernel messages to the closed
    portid find no socket (R4.2), the frames stay readable."""
    s = ring_socket(backend)
    deliver(backend, s, 12)
    backend.close(s)
    assert backend.frame(s, "rx", 0).status == V
