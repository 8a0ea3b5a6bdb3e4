"""Scenarios the kernel mutation campaign found missing (conformance/kernel-mutants/).

Each test here was written for a mutant that survived the whole gate: the rule was in
the model (or in the series' code) but no kernel scenario exercised it. The mutant a test
was written for is named in its docstring; the test was shown failing on that mutant's
kernel and passing on the series'."""

from __future__ import annotations

import ctypes
import errno
import os
import threading
import time

import pytest

from .helpers import SMALL, R, U, V, errno_of, noop, ring_socket, rx_events, tx_events
from .uapi import (
    NETLINK_GENERIC,
    NETLINK_ROUTE,
    PAGE_SIZE,
    TEARDOWN,
    RingReq,
    _libc,
    open_netlink,
    require_feature,
    set_ring,
)

CLONE_FILES = 0x400


def test_r4_2_r4_3_destination_connected_elsewhere_falls_back(backend):
    """R4.2/R4.3: the allocation-time lookup applies netlink_getsockbyportid()'s rule: a
    destination connected to another portid (here: a third socket, not the test driver)
    would refuse the message, so no frame is reserved in its ring (fallback
    ``connected``) and XMIT fails with ECONNREFUSED, leaving the ring untouched.
    Mutant ``lookup-ignores-connected`` reserves the frame anyway."""
    dst = ring_socket(backend)
    peer = backend.socket()
    backend.connect(dst, (backend.portid(peer), 0))
    backend.events()
    h = backend.drv_alloc(dst, 32)
    evs = rx_events(backend.events())
    assert [(e.decision, e.reason) for e in evs if e.sock == dst] == [("fallback", "connected")]
    assert backend.statuses(dst, "rx") == [U] * SMALL.frame_nr
    assert backend.drv_xmit(h) == -errno.ECONNREFUSED
    assert backend.statuses(dst, "rx") == [U] * SMALL.frame_nr


def test_r2_4_teardown_with_a_reserved_frame_is_ebusy(backend):
    """R2.4: while a frame of the RX ring is RESERVED for a ring skb (the driver holds the
    message), the ring can be neither torn down nor replaced, even unmapped: EBUSY. Once
    the message is freed (R4.15: the frame becomes an empty VALID frame) teardown works.
    Mutant ``teardown-ignores-pending`` frees the ring under the pending skb."""
    s = ring_socket(backend, mapped=False)
    m = backend.mmap(s)
    h = backend.drv_alloc(s, 40)
    assert backend.frame(s, "rx", 0).status == R
    backend.munmap(m)                         # R2.4's mapped rule is not what refuses
    assert errno_of(backend.set_ring, s, False, TEARDOWN) == errno.EBUSY
    assert errno_of(backend.set_ring, s, False, RingReq.simple(PAGE_SIZE, 2)) == errno.EBUSY
    backend.drv_free(h)
    m = backend.mmap(s)
    f = backend.frame(s, "rx", 0)
    assert (f.status, f.len) == (V, 0)
    backend.munmap(m)
    backend.set_ring(s, False, TEARDOWN)
    assert errno_of(backend.mmap, s, SMALL.size) == errno.EINVAL  # R3.3: no ring left


# -- lifetimes: memory that only a leak check sees ------------------------------------------

BIG = RingReq.simple(PAGE_SIZE, 1024)         # 4 MiB of order-0 pages per ring
SOCKETS = 32                                  # x2 rings: 256 MiB, an eighth of the guest


def _mem_available_kib() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    raise AssertionError("/proc/meminfo has no MemAvailable")


@pytest.mark.kernel
@pytest.mark.alone  # MemAvailable of the whole system
def test_r2_10_closed_ring_sockets_give_their_memory_back():
    """R2.10: closing a socket frees its rings. 32 sockets with 4 MiB RX and TX rings
    each (256 MiB) are set up and closed; MemAvailable must come back to within a
    quarter of that (the socket destructor runs after an RCU grace period: polled for
    10 s). test_bug_1_10 counts sockets in /proc/net/netlink, which a leaked ring does
    not show. Mutant ``ring-pages-leak-on-close`` keeps every closed socket's rings."""
    require_feature()
    ring_bytes = SOCKETS * 2 * BIG.size
    before = _mem_available_kib()
    for _ in range(SOCKETS):
        s = open_netlink(NETLINK_GENERIC)
        set_ring(s, False, BIG)
        set_ring(s, True, BIG)
        s.close()
    deadline = time.monotonic() + 10
    while True:
        lost = (before - _mem_available_kib()) * 1024
        if lost < ring_bytes // 4 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert lost < ring_bytes // 4, (
        f"{lost >> 20} MiB of MemAvailable not back 10 s after closing {SOCKETS} sockets "
        f"with {ring_bytes >> 20} MiB of rings: the rings leak")


@pytest.mark.kernel
def test_d2_d9_thread_with_its_own_fd_table_is_mm_shared(kernel_backend):
    """D2/D9: a sender whose memory is shared with another task reports ``mm_shared``
    even when neither its file nor its fd table is shared: a second thread gives itself
    its own fd table (unshare(CLONE_FILES)) and closes its copy of the socket, so the file
    count is 1 and the table unshared, but the thread still shares the mm and could
    rewrite the frame. A plain thread is reported ``files_shared`` first, which is why
    test_d2_d16_exclusivity_is_reported_every_send_copies cannot see this check.
    Mutant ``excl-no-mm-shared`` (no mm_users test) reports ``exclusive``."""
    b = kernel_backend
    s = ring_socket(b, rx=SMALL, tx=SMALL, proto=NETLINK_ROUTE)
    fd = b.socks[s].fileno()
    ready, done, failed = threading.Event(), threading.Event(), []

    def own_fd_table():
        try:
            if _libc.unshare(CLONE_FILES) != 0:
                raise OSError(ctypes.get_errno(), "unshare(CLONE_FILES)")
            os.close(fd)  # this thread's copy only: the file's count is back to 1
        except OSError as e:
            failed.append(e)
        ready.set()
        done.wait()

    t = threading.Thread(target=own_fd_table, daemon=True)
    t.start()
    try:
        assert ready.wait(30) and not failed, failed
        b.events()
        b.put_tx(s, 0, noop(1))
        assert b.send_ring(s) == 16
        assert [(e.decision, e.reason) for e in tx_events(b.events())] == \
            [("copy", "mm_shared")]
    finally:
        done.set()
        t.join()
