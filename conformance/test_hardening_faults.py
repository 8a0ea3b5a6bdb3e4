"""Allocation failures on the ring paths (kernel-only, D18): every message arrives or
the rule-specified error is raised, never a silent loss.

Each scenario is repeated with the n-th slab allocation of the calling task failing
(``/proc/thread-self/fail-nth`` with failslab, GFP_KERNEL allocations included), for
n = 1, 2, ... until the scenario makes fewer than n allocations. Needs fault injection
(the fast profile has it: vm/configs/fast.config); elsewhere the tests skip and say so."""

from __future__ import annotations

import errno
import logging
import os
import struct

import pytest

from .helpers import noop
from .ringsock import RingSocket
from .test_subsystems import in_netns
from .uapi import (
    NETLINK_ROUTE,
    NL_MMAP_STATUS_VALID,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    RingReq,
    nlmsg,
    nlmsgerr_code,
    open_netlink,
    parse_nlmsgs,
    poll_mask,
    portid,
    require_feature,
    sendto_null,
    so_error,
)

pytestmark = pytest.mark.kernel

FAILSLAB = "/sys/kernel/debug/failslab"
FAIL_NTH = "/proc/thread-self/fail-nth"
NOMEM = (errno.ENOBUFS, errno.ENOMEM)
RTM_GETLINK = 18
MAX_SITES = 200
log = logging.getLogger(__name__)


@pytest.fixture(autouse=True)
def _fault_injection():
    require_feature()
    if not (os.path.exists(FAIL_NTH) and os.path.isdir(FAILSLAB)):
        pytest.skip("NOT TESTED: this kernel has no failslab/fail-nth fault injection "
                    "(the fast profile has it: vm/configs/fast.config)")
    for knob, value in (("ignore-gfp-wait", "N"), ("verbose", "0")):
        with open(os.path.join(FAILSLAB, knob), "w") as f:
            f.write(value)


def faulted(n: int, op):
    """Run ``op()`` with the n-th slab allocation of this thread failing. Returns
    (injected, result or OSError). The fail-nth file stays open across the op: opening
    it afterwards would itself allocate and take a pending fault."""
    fd = os.open(FAIL_NTH, os.O_RDWR)
    try:
        os.write(fd, str(n).encode())
        try:
            res = op()
        except OSError as e:
            res = e
        left = int(os.pread(fd, 32, 0) or b"0")
        os.pwrite(fd, b"0", 0)
    finally:
        os.close(fd)
    return left == 0, res


def sweep(scenario) -> int:
    """Call ``scenario(n)`` for n = 1.. until it reports that no fault was injected;
    returns the number of fault sites covered."""
    for n in range(1, MAX_SITES):
        if not scenario(n):
            assert n > 1, "the scenario made no slab allocation at all"
            return n - 1
    raise AssertionError(f"more than {MAX_SITES} fault sites: scenario does not end")


def report_sites(record_testsuite_property, path: str, sites: int) -> None:
    """Keep the number of allocation sites a sweep covered in the JUnit record and the
    log: a sweep that suddenly covers fewer sites tests less, and nothing else shows it."""
    log.info("fail-nth sweep %s: %d slab allocation sites failed in turn", path, sites)
    record_testsuite_property(f"fault_sites_{path}", sites)
    assert sites >= 2, f"{path}: only {sites} allocation site(s): is the injection reaching " \
        "the ring path at all?"


def expect_ack(s: RingSocket, seq: int, what: str) -> None:
    """The ACK for ``seq`` in the ring (VALID or COPY), or ENOBUFS reported on the
    socket (netlink_ack could not allocate), or an empty VALID frame (a ring skb freed
    undelivered, R4.15). Nothing at all is a silent loss."""
    chunk = s.next_chunk(timeout=2)
    if chunk is None:
        err = so_error(s.sock)
        assert err in NOMEM, f"{what}: ACK {seq} silently lost (no frame, SO_ERROR {err})"
        return
    if chunk == b"":
        return
    msgs = parse_nlmsgs(chunk)
    assert [(m[1], m[3]) for m in msgs] == [(NLMSG_ERROR, seq)], f"{what}: {msgs}"
    assert nlmsgerr_code(msgs[0][5]) == 0, f"{what}: {msgs}"


def _ack_sites() -> int:
    copies = 0

    def scenario(n: int) -> bool:
        nonlocal copies
        s = RingSocket(NETLINK_ROUTE, rx=RingReq.simple(4096, 8))
        try:
            injected, res = faulted(n, lambda: s.sock.send(noop(n)))
            if isinstance(res, OSError):
                assert res.errno in NOMEM, f"fail-nth {n}: send {res}"
            else:
                expect_ack(s, n, f"fail-nth {n}")
                copies += s.frames["copy"]
            return injected
        finally:
            s.close()
    sites = sweep(scenario)
    # D18: where the ring skb's allocation failed, a plain skb carries the ACK (COPY)
    assert copies >= 1, f"D18: no ACK degraded to a COPY frame in {sites} fault sites"
    return sites


def test_d18_ack_to_a_ring_under_allocation_failures(record_testsuite_property):
    """Every allocation of a plain send + ACK into an RX ring fails once in turn
    (request skb, ring skb, fallback skb, ...): the ACK arrives (VALID or COPY) or the
    error is raised (send fails, or SO_ERROR ENOBUFS)."""
    report_sites(record_testsuite_property, "ack", in_netns(_ack_sites))


def _tx_sites() -> int:
    def scenario(n: int) -> bool:
        s = RingSocket(NETLINK_ROUTE, rx=RingReq.simple(4096, 8), tx=RingReq.simple(4096, 4))
        try:
            s.view.tx.put_message(0, noop(n))
            injected, res = faulted(n, lambda: sendto_null(s.sock))
            if isinstance(res, OSError):
                assert res.errno in NOMEM, f"fail-nth {n}: ring send {res}"
                assert s.view.tx.status(0) == NL_MMAP_STATUS_VALID, \
                    f"fail-nth {n}: the frame of a failed ring send was consumed"
                assert sendto_null(s.sock) == 16        # retried without the fault
            else:
                assert res == 16, f"fail-nth {n}: ring send returned {res}"
            expect_ack(s, n, f"fail-nth {n}")
            return injected
        finally:
            s.close()
    return sweep(scenario)


def test_d18_tx_ring_send_under_allocation_failures(record_testsuite_property):
    """A TX ring send whose allocations fail in turn: either the frame is consumed and
    the ACK arrives (or its loss is reported), or the send fails with ENOBUFS/ENOMEM and
    the frame is still VALID, so a retry sends it."""
    report_sites(record_testsuite_property, "tx", in_netns(_tx_sites))


def _dump_sites() -> int:
    req = nlmsg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 5, struct.pack("=BBHiII", *[0] * 6))

    def scenario(n: int) -> bool:
        s = RingSocket(NETLINK_ROUTE, rx=RingReq.simple(4096, 8))
        try:
            injected, res = faulted(n, lambda: s.sock.send(req))
            if isinstance(res, OSError):
                assert res.errno in NOMEM, f"fail-nth {n}: dump request {res}"
                return injected
            for _ in range(50):
                chunk = s.next_chunk(timeout=1)
                if chunk is None:
                    err = so_error(s.sock)
                    assert err in NOMEM, f"fail-nth {n}: dump stalled silently (SO_ERROR {err})"
                    return injected
                msgs = parse_nlmsgs(chunk)
                if any(m[1] == NLMSG_DONE for m in msgs):
                    return injected
                for m in msgs:
                    if m[1] == NLMSG_ERROR:
                        assert -nlmsgerr_code(m[5]) in NOMEM, f"fail-nth {n}: {m}"
                        return injected
                poll_mask(s.sock, 0)
            raise AssertionError(f"fail-nth {n}: dump did not end")
        finally:
            s.close()
    return sweep(scenario)


def test_d18_dump_request_under_allocation_failures(record_testsuite_property):
    """An rtnetlink dump into an RX ring whose request/first-chunk allocations fail in
    turn: the dump completes (NLMSG_DONE) or reports ENOBUFS/ENOMEM (error message or
    SO_ERROR); it never stalls silently."""
    report_sites(record_testsuite_property, "dump", in_netns(_dump_sites))


def _ringless_reasons() -> int:
    from .genl import Tracer
    tracer = Tracer.get()
    reasons: set[str] = set()

    def scenario(n: int) -> bool:
        s = open_netlink(NETLINK_ROUTE)
        try:
            injected, res = faulted(n, lambda: s.send(noop(n)))
            if not isinstance(res, OSError):
                s.settimeout(2)
                try:
                    s.recv(4096)
                except (TimeoutError, OSError):
                    pass  # the ACK's allocation failed: reported or not, not our concern
            reasons.update(e.reason for e in tracer.take()
                           if e.kind == "rx" and e.sock == portid(s))
            return injected
        finally:
            s.close()
    sites = sweep(scenario)
    assert reasons == {"no_ring"}, f"R4.3c: ring-less requester, {sites} fault sites: {reasons}"
    return sites


def test_r4_3c_ringless_destination_never_gets_a_ring_allocation():
    """R4.3c and the cost to sockets without rings: a plain NOOP+ACK on a socket with no
    ring, every slab allocation failing once in turn. The ACK's allocation is always
    decided `fallback no_ring`; `no_memory` at some fault site would mean a ring skb was
    attempted (and failed) for a destination that has no ring -- an allocation every
    ring-less message pays for nothing."""
    assert in_netns(_ringless_reasons) >= 2
