"""R1: the UAPI as the running implementation sees it -- option level and numbers,
request and frame header layouts, status values, message offset."""

from __future__ import annotations

import errno
import struct

from .helpers import SMALL, R, U, V, errno_of, held, ring_socket
from .uapi import NETLINK_ROUTE, PAGE_SIZE, SOL_NETLINK, TEARDOWN, RingReq


def test_r1_1_other_level_is_enoprotoopt(backend):
    s = backend.socket()
    assert errno_of(backend.set_ring, s, False, SMALL, None, SOL_NETLINK + 1) == errno.ENOPROTOOPT
    assert errno_of(backend.set_ring, s, True, SMALL, None, 0) == errno.ENOPROTOOPT


def test_r1_2_option_6_is_rx_and_7_is_tx(backend):
    """Option 6 creates the ring kernel messages land in; option 7 the ring sendmsg(NULL)
    reads; the mapping has 6's ring first (R3.5)."""
    s = ring_socket(backend, rx=SMALL, tx=SMALL)
    h = backend.drv_alloc(s, 8)
    assert backend.frame(s, "rx", 0).status == R
    assert backend.frame(s, "tx", 0).status == U
    backend.drv_free(h)


def test_r1_3_request_field_order(backend):
    """struct nl_mmap_req is {block_size, block_nr, frame_size, frame_nr}: the same four
    numbers in another order are rejected, in this order accepted."""
    s = backend.socket()
    good = struct.pack("=IIII", PAGE_SIZE, 2, PAGE_SIZE // 2, 4)
    swapped = struct.pack("=IIII", PAGE_SIZE // 2, 4, PAGE_SIZE, 2)
    assert errno_of(backend.set_ring, s, False, swapped) == errno.EINVAL
    backend.set_ring(s, False, good)


def test_r1_4_r1_5_r1_6_header_fields_status_values_and_offset(backend):
    """RESERVED is 1 and VALID 2 in nm_status @0; nm_len @4 is the message length; the
    nlmsghdr starts at frame offset 24 (its nlmsg_len and seq are the driver's)."""
    s = ring_socket(backend)
    h = backend.drv_alloc(s, 36)
    msg = held(backend, h, 36)
    kh = backend.kernel_handle(h)
    assert backend.frame(s, "rx", 0).status == R == 1
    backend.drv_xmit(h)
    f = backend.frame(s, "rx", 0)
    assert (f.status, f.len) == (V, len(msg)) and V == 2
    head = backend.payload(s, "rx", 0, 16)
    assert struct.unpack("=IHHII", head)[0] == 16 + 36
    assert struct.unpack("=IHHII", head)[3] == kh


def test_r1_8_d15_netlink_diag_reports_configured_rings(backend):
    """netlink_diag with NDIAG_SHOW_RING_CFG reports each configured ring's geometry as
    requested (frame_nr, not frame_max); a ring never set up, or torn down, is left out
    (D15), while the mapping keeps the socket's other ring reported."""
    plain = backend.socket()
    assert backend.diag_rings(plain) == (None, None)

    rx = RingReq(2 * PAGE_SIZE, 3, PAGE_SIZE // 2, 12)
    tx = RingReq(PAGE_SIZE, 2, PAGE_SIZE // 4, 8)
    s = backend.socket(NETLINK_ROUTE)
    backend.set_ring(s, False, rx)
    assert backend.diag_rings(s) == (rx, None)
    backend.set_ring(s, True, tx)
    assert backend.diag_rings(s) == (rx, tx)

    backend.set_ring(s, False, TEARDOWN)
    assert backend.diag_rings(s) == (None, tx)
    m = backend.mmap(s)
    assert backend.diag_rings(s) == (None, tx)
    backend.munmap(m)
