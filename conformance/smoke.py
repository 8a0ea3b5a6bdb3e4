"""Smoke test of memory-mapped netlink I/O on the running kernel.

    python -m conformance.smoke      (or: python conformance/smoke.py)

1. NETLINK_ROUTE socket with RX and TX rings, one mmap (RX then TX).
2. An RTM_GETLINK dump request written into TX frame 0, sent with sendto(fd, NULL, 0).
3. Replies read from VALID RX frames (nm_len and netlink headers checked), released,
   poll() called to continue the dump until NLMSG_DONE.
4. A COPY frame: a plain NETLINK_USERSOCK sender to a ring socket; read with recvmsg.

Exit 0 on success, 2 if the feature is absent (setsockopt -> ENOPROTOOPT), 1 on any
other failure.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import struct
import sys
import time

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "conformance"  # noqa: A001

from conformance.ring import RingView  # noqa: E402
from conformance.uapi import (  # noqa: E402
    NETLINK_ROUTE,
    NETLINK_USERSOCK,
    NL_MMAP_STATUS_COPY,
    NL_MMAP_STATUS_UNUSED,
    NL_MMAP_STATUS_VALID,
    NLM_F_DUMP,
    NLM_F_MULTI,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    PAGE_SIZE,
    STATUS_NAMES,
    RingReq,
    mmap_socket,
    nlmsg,
    nlmsgerr_code,
    open_netlink,
    parse_nlmsgs,
    poll_mask,
    portid,
    sendto_null,
    set_ring,
)

log = logging.getLogger("smoke")
RTM_NEWLINK = 16
RTM_GETLINK = 18


class SmokeFailure(Exception):
    pass


class Absent(Exception):
    pass


def check(cond: bool, what: str) -> None:
    if not cond:
        raise SmokeFailure(what)


def setup_rings(sock: socket.socket, rx: RingReq | None, tx: RingReq | None) -> None:
    for is_tx, req in ((False, rx), (True, tx)):
        if req is None:
            continue
        try:
            set_ring(sock, is_tx, req)
        except OSError as e:
            if e.errno == errno.ENOPROTOOPT:
                raise Absent(
                    f"setsockopt(SOL_NETLINK=270, NETLINK_{'TX' if is_tx else 'RX'}_RING="
                    f"{7 if is_tx else 6}) -> ENOPROTOOPT: kernel {os.uname().release} "
                    "has no memory-mapped netlink I/O") from None
            raise
        log.info("setsockopt %s_RING %s: ok", "TX" if is_tx else "RX", req)


def dump_links() -> int:
    rx = RingReq.simple(16384, 8)
    tx = RingReq.simple(4096, 4)
    s = open_netlink(NETLINK_ROUTE)
    try:
        setup_rings(s, rx, tx)
        m = mmap_socket(s, RingView.length(rx, tx))
        log.info("mmap %d bytes at %#x (RX %d + TX %d)", m.length, m.addr, rx.size, tx.size)
        view = RingView(m, rx, tx)
        check(all(b == 0 for b in view.rx.raw()), "fresh RX ring is not all zero (R2.6)")
        seq = 4242
        req = nlmsg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, struct.pack("=BBHiII",
                                                                              0, 0, 0, 0, 0, 0))
        view.tx.put_message(0, req)
        log.info("TX frame 0: %s", view.tx.hdr(0))
        n = sendto_null(s)
        log.info("sendto(fd, NULL, 0) -> %d (request %d bytes)", n, len(req))
        check(n == len(req), f"ring send returned {n}, expected {len(req)} (R5.2)")
        check(view.tx.status(0) == NL_MMAP_STATUS_UNUSED,
              f"TX frame 0 is {STATUS_NAMES.get(view.tx.status(0))} after send (R5.3)")
        idx = 0
        links = 0
        frames = 0
        done = False
        deadline = time.monotonic() + 60
        while not done:
            check(time.monotonic() < deadline, "dump did not finish within 60 s")
            st = view.rx.status(idx)
            if st == NL_MMAP_STATUS_UNUSED:
                mask = poll_mask(s, 1000)
                log.info("RX frame %d UNUSED: poll -> %#x (continues the dump, R6.1)",
                         idx, mask)
                continue
            h = view.rx.hdr(idx)
            if st == NL_MMAP_STATUS_VALID:
                check(h.len <= view.rx.payload_max, f"nm_len {h.len} exceeds frame")
                data = view.rx.payload(idx, h.len)
            elif st == NL_MMAP_STATUS_COPY:
                data = s.recv(65536)
                check(len(data) == h.len, f"COPY nm_len {h.len} != recv {len(data)}")
            else:
                check(False, f"RX frame {idx}: unexpected status {h}")
            msgs = parse_nlmsgs(data)
            for _ln, t, f, sq, _pid, payload in msgs:
                check(sq == seq, f"reply seq {sq} != {seq}")
                if t == NLMSG_DONE:
                    done = True
                elif t == NLMSG_ERROR:
                    raise SmokeFailure(f"dump error {nlmsgerr_code(payload)}")
                else:
                    check(t == RTM_NEWLINK and f & NLM_F_MULTI, f"unexpected msg {t} {f:#x}")
                    links += 1
            log.info("RX frame %d: %s, %d messages%s", idx, h, len(msgs),
                     " (NLMSG_DONE)" if done else "")
            view.rx.release(idx)
            frames += 1
            idx = (idx + 1) % rx.frame_nr
        check(links >= 1, "no RTM_NEWLINK (at least lo exists)")
        log.info("dump complete: %d links in %d frames", links, frames)
        m.munmap()
        return links
    finally:
        s.close()


def copy_frame() -> None:
    rx = RingReq.simple(PAGE_SIZE, 4)
    a = open_netlink(NETLINK_USERSOCK)
    b = open_netlink(NETLINK_USERSOCK)
    try:
        setup_rings(a, rx, None)
        m = mmap_socket(a, rx.size)
        view = RingView(m, rx, None)
        msg = nlmsg(0x20, 0, 7, b"hello ring")
        b.sendto(msg, (portid(a), 0))
        h = view.rx.hdr(0)
        log.info("USERSOCK plain send %d bytes from portid %d -> RX frame 0: %s",
                 len(msg), portid(b), h)
        check(h.status == NL_MMAP_STATUS_COPY, f"expected COPY frame, got {h} (R4.9)")
        check(h.len == len(msg), f"nm_len {h.len} != {len(msg)}")
        check((h.pid, h.uid, h.gid) == (os.getpid(), os.getuid(), os.getgid()),
              f"credentials {h} != pid/uid/gid {os.getpid()}/{os.getuid()}/{os.getgid()}")
        data = a.recv(65536)
        check(data == msg, f"recv returned {data!r}")
        log.info("recvmsg -> %d bytes, identical to what was sent; releasing frame 0",
                 len(data))
        view.rx.release(0)
        m.munmap()
    finally:
        a.close()
        b.close()


def main() -> int:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(name)s: %(message)s")
    log.info("kernel %s, page size %d", os.uname().release, PAGE_SIZE)
    try:
        dump_links()
        copy_frame()
    except Absent as e:
        log.error("feature absent: %s", e)
        return 2
    except (SmokeFailure, OSError, ValueError) as e:
        log.error("FAILED: %s: %s", type(e).__name__, e)
        return 1
    log.info("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
