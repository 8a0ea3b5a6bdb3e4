"""Kernel backend: the running (patched) kernel through the UAPI, the test driver and
the tracepoints. Only usable inside the gate's guest; on any other kernel it raises
:class:`conformance.uapi.FeatureAbsent` (an AssertionError: the test fails)."""

from __future__ import annotations

import errno
import os
import socket
import threading

from .. import sockdiag
from ..genl import TestDriver, Tracer
from ..ring import FrameHdr, RingView
from ..uapi import (
    NETLINK_ADD_MEMBERSHIP,
    NETLINK_GENERIC,
    SOL_NETLINK,
    Mapping,
    RingReq,
    drop_cap_net_admin,
    fork_call,
    join_thread,
    mmap_socket,
    open_netlink,
    poll_mask,
    recv_nowait,
    require_feature,
    rmem_alloc,
    sendto_null,
    set_ring,
    set_ring_badptr,
    so_error,
)
from .base import BADPTR, PORT_SPACING, Backend, Event, err, next_port_base


def _set_ring(sock, tx: bool, req: RingReq | bytes, optlen: int | None, level: int) -> None:
    """The ring setsockopt; with ``req`` BADPTR from an unmapped optval pointer."""
    if req == BADPTR:
        set_ring_badptr(sock, tx, 16 if optlen is None else optlen)
    else:
        set_ring(sock, tx, req, optlen, level)


class KernelBackend(Backend):
    name = "kernel"

    def __init__(self, trace: bool = True, port_base: int | None = None) -> None:
        require_feature()
        self.drv = TestDriver()
        self.tracer = Tracer.get() if trace else None
        self._next = 1
        self.socks: dict[int, socket.socket] = {}
        self.reqs: dict[int, list[RingReq | None]] = {}
        self.maps: dict[int, tuple[int, Mapping, RingView]] = {}
        self.fds: dict[int, int] = {}
        self.children: dict[int, object] = {}
        self.threads: dict[int, tuple[threading.Thread, threading.Event]] = {}
        self.handles: dict[int, int] = {}
        self.port_sid: dict[int, int] = {}  # sid -> the sid whose portid it took over
        self.port_base = next_port_base() if port_base is None else port_base

    def _id(self) -> int:
        self._next += 1
        return self._next

    # sockets ------------------------------------------------------------------------
    def socket(self, proto: int = NETLINK_GENERIC, port_of: int | None = None) -> int:
        sid = self._id()
        if port_of is not None:
            self.port_sid[sid] = self.port_sid.get(port_of, port_of)
        s = open_netlink(proto, bind=False)
        try:
            s.bind((self.portid(sid), 0))
        except OSError:
            s.close()
            raise
        self.socks[sid] = s
        self.reqs[sid] = [None, None]
        return sid

    def portid(self, s: int) -> int:
        return self.port_base + self.port_sid.get(s, s)  # bound explicitly in socket()

    def close(self, s: int) -> None:
        # a live mapping keeps the rings (and the socket) alive; the view stays usable
        self.socks.pop(s).close()

    def dup(self, s: int) -> int:
        fd = os.dup(self.socks[s].fileno())
        fid = self._id()
        self.fds[fid] = fd
        return fid

    def close_fd(self, fd: int) -> None:
        os.close(self.fds.pop(fd))

    def fork_hold(self) -> int:
        from ..uapi import ForkedHolder
        tok = self._id()
        self.children[tok] = ForkedHolder()
        return tok

    def fork_release(self, token: int) -> None:
        self.children.pop(token).release()

    def thread_start(self) -> int:
        ev = threading.Event()
        t = threading.Thread(target=ev.wait, daemon=True)
        t.start()
        tok = self._id()
        self.threads[tok] = (t, ev)
        return tok

    def thread_stop(self, token: int) -> None:
        t, ev = self.threads.pop(token)
        ev.set()
        join_thread(t)

    # rings ----------------------------------------------------------------------------
    def set_ring(self, s: int, tx: bool, req: RingReq | bytes, optlen: int | None = None,
                 level: int = SOL_NETLINK, privileged: bool = True) -> None:
        if not privileged:
            fd = self.socks[s].fileno()

            def child():
                drop_cap_net_admin()
                try:
                    _set_ring(fd, tx, req, optlen, level)
                except OSError as e:
                    return e.errno
                return 0
            e = fork_call(child)
            if e:
                raise err(e)
        else:
            _set_ring(self.socks[s], tx, req, optlen, level)
        self._record_ring(s, tx, req, optlen)

    def mmap(self, s: int, length: int | None = None, offset: int = 0) -> int:
        if length is None:
            length = self.ring_size(s)
            if length == 0:
                length = 4096  # no rings: the kernel must refuse (R3.3)
        m = mmap_socket(self.socks[s], length, offset)
        rx, tx = self.rings(s)
        mid = self._id()
        self.maps[mid] = (s, m, RingView(m, rx, tx))
        return mid

    def munmap(self, m: int) -> None:
        _s, mp, _v = self.maps.pop(m)
        mp.munmap()

    def _view(self, s: int, ring: str):
        for owner, _m, v in self.maps.values():
            if owner == s:
                r = v.rx if ring == "rx" else v.tx
                if r is None:
                    raise err(errno.ENXIO)
                return r
        raise err(errno.ENXIO)

    def frame(self, s: int, ring: str, i: int) -> FrameHdr:
        return self._view(s, ring).hdr(i)

    def frames(self, s: int, ring: str) -> list[FrameHdr]:
        v = self._view(s, ring)
        return [v.hdr(i) for i in range(v.frame_nr)]

    def set_status(self, s: int, ring: str, i: int, status: int) -> None:
        self._view(s, ring).set_status(i, status)

    def set_len(self, s: int, ring: str, i: int, n: int) -> None:
        self._view(s, ring).set_len(i, n)

    def payload(self, s: int, ring: str, i: int, n: int) -> bytes:
        return self._view(s, ring).payload(i, n)

    def write_payload(self, s: int, ring: str, i: int, data: bytes) -> None:
        self._view(s, ring).write_payload(i, data)

    # syscalls -----------------------------------------------------------------------
    def send_ring(self, s: int, dst: tuple[int, int] | None = (0, 0), flags: int = 0) -> int:
        return sendto_null(self.socks[s], dst, flags)

    def send(self, s: int, data: bytes, dst: tuple[int, int] = (0, 0)) -> int:
        return self.socks[s].sendto(data, dst)

    def recv(self, s: int) -> bytes | None:
        return recv_nowait(self.socks[s])

    def poll(self, s: int) -> int:
        return poll_mask(self.socks[s], 0)

    def so_error(self, s: int) -> int:
        return so_error(self.socks[s])

    def rmem_charged(self, s: int) -> bool:
        return rmem_alloc(self.socks[s]) > 0

    def diag_rings(self, s: int) -> tuple[RingReq | None, RingReq | None]:
        sock = self.socks[s]
        return sockdiag.ring_cfg(sock.proto, self.portid(s))

    def sendmsg_noiov(self, s: int, dst: tuple[int, int] = (0, 0)) -> int:
        return self.socks[s].sendmsg([], [], 0, dst)

    def join_group(self, s: int, group: int) -> None:
        self.socks[s].setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)

    def connect(self, s: int, dst: tuple[int, int]) -> None:
        self.socks[s].connect(dst)

    def set_rcvbuf(self, s: int, size: int) -> None:
        self.socks[s].setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)

    # test driver ----------------------------------------------------------------------
    def drv_alloc(self, dst: int, size: int) -> int:
        h = self.drv.alloc(self.portid(dst), size)
        hid = self._id()
        self.handles[hid] = h
        return hid

    def drv_xmit(self, h: int) -> int:
        return self.drv.xmit(self.handles.pop(h))

    def drv_free(self, h: int) -> None:
        self.drv.free(self.handles.pop(h))

    def drv_plain(self, dst: int, size: int) -> int:
        return self.drv.plain(self.portid(dst), size)

    def kernel_handle(self, h: int) -> int:
        """The driver's own handle number (it is the message's seq and fill byte)."""
        return self.handles[h]

    def dump_request(self, s: int, seq: int, count: int, size: int) -> bytes:
        return self.drv.dump_request(seq, count, size)

    def drv_family(self) -> int:
        return self.drv.family

    # observation ------------------------------------------------------------------------
    def events(self) -> list[Event]:
        if self.tracer is None:
            return []
        out = []
        for ev in self.tracer.take():
            sid = ev.sock - self.port_base
            if not 0 < sid < PORT_SPACING:
                continue  # another socket of the system (e.g. the driver client)
            out.append(ev._replace(sock=sid))
        return out

    def close_all(self) -> None:
        for tok in list(self.children):
            self.fork_release(tok)
        for tok in list(self.threads):
            self.thread_stop(tok)
        for mid in list(self.maps):
            self.munmap(mid)
        for fid in list(self.fds):
            self.close_fd(fid)
        for sid in list(self.socks):
            self.socks.pop(sid).close()
        for h in list(self.handles):
            try:
                self.drv_free(h)
            except OSError:
                pass
        self.drv.close()
