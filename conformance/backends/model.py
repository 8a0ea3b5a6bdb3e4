"""Model backend: the executable model (``model/``) behind the :class:`Backend` interface.

Socket ids are this backend's own small integers; each socket is bound to
``port_base + sid`` like in the kernel backend, so portids agree between the two and the
ring bytes (which contain portids) can be compared byte for byte.
"""

from __future__ import annotations

import os
import socket as _socket

from model import Pattern, World

from ..ring import FrameHdr
from ..uapi import (
    NETLINK_ADD_MEMBERSHIP,
    NETLINK_GENERIC,
    POLLIN,
    POLLOUT,
    POLLRDNORM,
    POLLWRNORM,
    SOL_NETLINK,
    RingReq,
)
from .base import BADPTR, PORT_SPACING, Backend, Event, err, next_port_base

POLL_EVENTS = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM  # what uapi.poll_mask asks for


class PatternBytes(bytes):
    """Bytes as the model predicts them, with the model's Pattern (unknown ranges) kept
    for comparison with the kernel (``accepts``)."""

    pattern: Pattern


def _pb(p: Pattern) -> PatternBytes:
    b = PatternBytes(bytes(p))
    b.pattern = p
    return b


class ModelBackend(Backend):
    name = "model"

    def __init__(self, port_base: int | None = None, drv_family: int | None = None,
                 **world_kw) -> None:
        kw = dict(pid=os.getpid())
        if drv_family is not None:
            kw["drv_family"] = drv_family
        kw.update(world_kw)
        self.w = World(**kw)
        self.port_base = next_port_base() if port_base is None else port_base
        self._next = 1
        self.fds: dict[int, int] = {}  # sid -> fd of the main task
        self.reqs: dict[int, list[RingReq | None]] = {}
        self.maps: dict[int, tuple[int, int]] = {}  # mapping id -> (sid, model mid)
        self.extra: dict[int, int] = {}  # dup'ed descriptor id -> fd
        self.tasks: dict[int, int] = {}  # fork/thread token -> task id
        self.handles: dict[int, int] = {}
        self.port_sid: dict[int, int] = {}  # sid -> the sid whose portid it took over
        self._events: list[Event] = []

    def _id(self) -> int:
        self._next += 1
        return self._next

    def _o(self, out):
        for e in out.events:
            sid = e.sock - self.port_base
            if 0 < sid < PORT_SPACING:  # like the kernel backend: only this backend's sockets
                self._events.append(e._replace(sock=sid))
        if out.err:
            raise err(out.err)
        return out.value

    # sockets ------------------------------------------------------------------------------
    def socket(self, proto: int = NETLINK_GENERIC, port_of: int | None = None) -> int:
        sid = self._id()
        if port_of is not None:
            self.port_sid[sid] = self.port_sid.get(port_of, port_of)
        fd = self._o(self.w.socket(proto))
        try:
            self._o(self.w.bind(fd, self.portid(sid)))
        except OSError:
            self._o(self.w.close(fd))
            raise
        self.fds[sid] = fd
        self.reqs[sid] = [None, None]
        return sid

    def portid(self, s: int) -> int:
        return self.port_base + self.port_sid.get(s, s)

    def close(self, s: int) -> None:
        self._o(self.w.close(self.fds.pop(s)))

    def dup(self, s: int) -> int:
        fid = self._id()
        self.extra[fid] = self._o(self.w.dup(self.fds[s]))
        return fid

    def close_fd(self, fd: int) -> None:
        self._o(self.w.close(self.extra.pop(fd)))

    def fork_hold(self) -> int:
        tok = self._id()
        self.tasks[tok] = self._o(self.w.fork())
        return tok

    def fork_release(self, token: int) -> None:
        self._o(self.w.exit(self.tasks.pop(token)))

    def thread_start(self) -> int:
        tok = self._id()
        self.tasks[tok] = self._o(self.w.spawn_thread())
        return tok

    thread_stop = fork_release

    # rings ----------------------------------------------------------------------------------
    def set_ring(self, s: int, tx: bool, req: RingReq | bytes, optlen: int | None = None,
                 level: int = SOL_NETLINK, privileged: bool = True) -> None:
        if req == BADPTR:
            mreq = None
        elif isinstance(req, RingReq):
            mreq = (req.block_size, req.block_nr, req.frame_size, req.frame_nr)
        else:
            mreq = bytes(req)
        self._o(self.w.setsockopt_ring(self.fds[s], tx, mreq,
                                       optlen=16 if optlen is None else optlen,
                                       privileged=privileged, level=level))
        self._record_ring(s, tx, req, optlen)

    def mmap(self, s: int, length: int | None = None, offset: int = 0) -> int:
        if length is None:
            length = self.ring_size(s) or 4096
        mm = self._o(self.w.mmap(self.fds[s], length, offset))
        mid = self._id()
        self.maps[mid] = (s, mm)
        return mid

    def munmap(self, m: int) -> None:
        _s, mm = self.maps.pop(m)
        self._o(self.w.munmap(mm))

    def _mid(self, s: int) -> int:
        for owner, mm in self.maps.values():
            if owner == s:
                return mm
        raise err(6)  # ENXIO: the test has no mapping of this socket

    def frame(self, s: int, ring: str, i: int) -> FrameHdr:
        return FrameHdr(*self._o(self.w.frame(self._mid(s), ring, i)))  # same fields

    def frames(self, s: int, ring: str) -> list[FrameHdr]:
        return [FrameHdr(*h) for h in self._o(self.w.frames(self._mid(s), ring))]

    def set_status(self, s: int, ring: str, i: int, status: int) -> None:
        self._o(self.w.write_frame(self._mid(s), ring, i, status=status))

    def set_len(self, s: int, ring: str, i: int, n: int) -> None:
        self._o(self.w.write_frame(self._mid(s), ring, i, nm_len=n))

    def payload(self, s: int, ring: str, i: int, n: int) -> bytes:
        return _pb(self._o(self.w.payload(self._mid(s), ring, i, n)))

    def write_payload(self, s: int, ring: str, i: int, data: bytes) -> None:
        self._o(self.w.write_frame(self._mid(s), ring, i, payload=data))

    def put_tx(self, s, i, data, status=2, nm_len=None) -> None:
        self._o(self.w.write_frame(self._mid(s), "tx", i, status=status,
                                   nm_len=len(data) if nm_len is None else nm_len,
                                   payload=data))

    # syscalls -------------------------------------------------------------------------------
    def send_ring(self, s: int, dst: tuple[int, int] | None = (0, 0), flags: int = 0) -> int:
        return self._o(self.w.sendmsg(self.fds[s], None, dst=dst,
                                      dontwait=bool(flags & _socket.MSG_DONTWAIT)))

    def send(self, s: int, data: bytes, dst: tuple[int, int] = (0, 0)) -> int:
        return self._o(self.w.sendmsg(self.fds[s], bytes(data), dst=dst, dontwait=True))

    def sendmsg_noiov(self, s: int, dst: tuple[int, int] = (0, 0)) -> int:
        return self._o(self.w.sendmsg(self.fds[s], b"", dst=dst, dontwait=True))

    def recv(self, s: int) -> bytes | None:
        out = self.w.recvmsg(self.fds[s], dontwait=True)
        if out.err == 11:  # EAGAIN
            self._o(out.__class__(out.value, 0, out.events))
            return None
        v = self._o(out)
        return _pb(v) if isinstance(v, Pattern) else bytes(v)

    def poll(self, s: int) -> int:
        return self._o(self.w.poll(self.fds[s], events=POLL_EVENTS))

    def so_error(self, s: int) -> int:
        return self._o(self.w.so_error(self.fds[s]))

    def rmem_charged(self, s: int) -> bool:
        return self.w.sock_info(self.fds[s]).rmem > 0

    def diag_rings(self, s: int) -> tuple[RingReq | None, RingReq | None]:
        rx, tx = self._o(self.w.ring_cfg(self.fds[s]))
        return (RingReq(*rx) if rx else None, RingReq(*tx) if tx else None)

    def join_group(self, s: int, group: int) -> None:
        self._o(self.w.setsockopt_int(self.fds[s], NETLINK_ADD_MEMBERSHIP, group))

    def connect(self, s: int, dst: tuple[int, int]) -> None:
        self._o(self.w.connect(self.fds[s], dst[0], dst[1]))

    def set_rcvbuf(self, s: int, size: int) -> None:
        self._o(self.w.setsockopt_int(self.fds[s], _socket.SO_RCVBUF, size,
                                      level=_socket.SOL_SOCKET))

    # test driver ------------------------------------------------------------------------------
    def drv_alloc(self, dst: int, size: int, handle: int | None = None) -> int:
        # the kernel's handle (lockstep) so message bytes agree without translation
        h = self._o(self.w.drv_alloc(self.portid(dst), size, handle=handle))
        hid = self._id()
        self.handles[hid] = h
        return hid

    def kernel_handle(self, h: int) -> int:
        return self.handles[h]

    def drv_xmit(self, h: int) -> int:
        return self._o(self.w.drv_xmit(self.handles.pop(h)))

    def drv_free(self, h: int) -> None:
        self._o(self.w.drv_free(self.handles.pop(h)))

    def drv_plain(self, dst: int, size: int) -> int:
        return self._o(self.w.drv_plain(self.portid(dst), size))

    def dump_request(self, s: int, seq: int, count: int, size: int) -> bytes:
        from model.uapi import dump_request
        return dump_request(self.w.drv_family, seq, count, size)

    def drv_family(self) -> int:
        return self.w.drv_family

    # observation --------------------------------------------------------------------------------
    def events(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    def rules(self) -> frozenset[str]:
        """The rule ids (spec/rules.toml) the model applied to decide the operations
        since the last call: in lockstep, those of one operation."""
        return self.w.take_applied()

    def accepts(self, method: str, args: tuple, kernel: tuple, model: tuple) -> bool:
        if kernel[0] == model[0] == "ok" and isinstance(model[1], PatternBytes):
            return isinstance(kernel[1], bytes) and model[1].pattern.matches(kernel[1])
        return kernel == model

    def close_all(self) -> None:
        pass
