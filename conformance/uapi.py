"""Python client of the memory-mapped netlink UAPI (spec/RULES.md R1-R6).

The standard library covers sockets, poll and recvmsg; ctypes is used where it cannot
express the interface:

* ``mmap`` of the socket: ``mmap.mmap`` dup()s the descriptor, which would make the
  socket's file "shared" (D2) and change the kernel's TX decision, so the mapping is
  made with libc ``mmap`` directly (:class:`Mapping`);
* a ring send needs a *real* NULL buffer (R5.1, ITER_UBUF with a NULL base in 6.x):
  :func:`sendto_null` calls libc ``sendto(fd, NULL, 0, flags, addr, addrlen)``;
* ``sendmsg`` with ``msg_iovlen == 0`` (bug-history 1.3) is expressed with
  ``socket.sendmsg([])``.

Every failing call raises :class:`OSError` with the kernel's errno.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import select
import signal
import socket
import struct
import threading
import time
from dataclasses import dataclass

# R1.1 / R1.2
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_DROP_MEMBERSHIP = 2
NETLINK_NO_ENOBUFS = 5
NETLINK_RX_RING = 6
NETLINK_TX_RING = 7

# R1.5
NL_MMAP_STATUS_UNUSED = 0
NL_MMAP_STATUS_RESERVED = 1
NL_MMAP_STATUS_VALID = 2
NL_MMAP_STATUS_COPY = 3
NL_MMAP_STATUS_SKIP = 4
STATUS_NAMES = {0: "UNUSED", 1: "RESERVED", 2: "VALID", 3: "COPY", 4: "SKIP"}

# R1.4 / R1.6
NL_MMAP_MSG_ALIGNMENT = 4
NL_MMAP_HDR = struct.Struct("=IIIIII")  # status len group pid uid gid
NL_MMAP_HDRLEN = 24
NL_MMAP_REQ = struct.Struct("=IIII")  # block_size block_nr frame_size frame_nr

NETLINK_ROUTE = 0
NETLINK_USERSOCK = 2
NETLINK_NETFILTER = 12
NETLINK_GENERIC = 16

NLMSG_HDR = struct.Struct("=IHHII")  # len type flags seq pid
NLMSG_HDRLEN = 16
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

POLLIN = select.POLLIN
POLLOUT = select.POLLOUT
POLLERR = select.POLLERR
POLLRDNORM = getattr(select, "POLLRDNORM", 0x40)
POLLWRNORM = getattr(select, "POLLWRNORM", 0x100)

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
_libc.munmap.restype = ctypes.c_int
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.sendto.restype = ctypes.c_ssize_t
_libc.sendto.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                         ctypes.c_void_p, ctypes.c_uint32]
_libc.setsockopt.restype = ctypes.c_int
_libc.setsockopt.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                             ctypes.c_uint32]

PROT_READ = 1
PROT_WRITE = 2
MAP_SHARED = 1
MAP_FAILED = ctypes.c_void_p(-1).value


class FeatureAbsent(AssertionError):
    """The running kernel does not implement memory-mapped netlink I/O.

    An AssertionError on purpose: kernel-marked tests that hit it *fail* (never skip)."""


def _raise_errno(what: str) -> None:
    e = ctypes.get_errno()
    raise OSError(e, f"{what}: {os.strerror(e)}")


@dataclass(frozen=True)
class RingReq:
    """struct nl_mmap_req (R1.3)."""

    block_size: int
    block_nr: int
    frame_size: int
    frame_nr: int

    def pack(self) -> bytes:
        return NL_MMAP_REQ.pack(self.block_size & 0xFFFFFFFF, self.block_nr & 0xFFFFFFFF,
                                self.frame_size & 0xFFFFFFFF, self.frame_nr & 0xFFFFFFFF)

    @property
    def size(self) -> int:
        """Bytes this ring contributes to the mapping (R3.4)."""
        return self.block_size * self.block_nr

    @property
    def frames_per_block(self) -> int:
        return self.block_size // self.frame_size if self.frame_size else 0

    @classmethod
    def simple(cls, frame_size: int, frame_nr: int, block_size: int | None = None) -> RingReq:
        """A valid request: blocks of ``block_size`` (default: the smallest page multiple
        holding one frame), ``frame_nr`` rounded to whole blocks by the caller."""
        if block_size is None:
            block_size = -(-frame_size // PAGE_SIZE) * PAGE_SIZE
        fpb = block_size // frame_size
        if frame_nr % fpb:
            raise ValueError(f"frame_nr {frame_nr} is not a multiple of {fpb} frames/block")
        return cls(block_size, frame_nr // fpb, frame_size, frame_nr)


TEARDOWN = RingReq(0, 0, 0, 0)


def open_netlink(proto: int, *, bind: bool = True, groups: int = 0) -> socket.socket:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
    if bind:
        s.bind((0, groups))
    return s


def portid(sock: socket.socket) -> int:
    return sock.getsockname()[0]


def set_ring(sock: socket.socket | int, tx: bool, req: RingReq | bytes,
             optlen: int | None = None, level: int = SOL_NETLINK) -> None:
    """setsockopt(SOL_NETLINK, NETLINK_{RX,TX}_RING, req) (R2.3-R2.8).

    ``req`` may be raw bytes and ``optlen`` may differ from the buffer size to exercise
    the EINVAL/EFAULT rules; a ``optlen`` larger than the buffer is passed through libc
    with a buffer of exactly that size (zero-padded)."""
    fd = sock if isinstance(sock, int) else sock.fileno()
    raw = req.pack() if isinstance(req, RingReq) else bytes(req)
    if optlen is None:
        optlen = len(raw)
    buf = ctypes.create_string_buffer(raw, max(len(raw), optlen, 1))
    opt = NETLINK_TX_RING if tx else NETLINK_RX_RING
    if _libc.setsockopt(fd, level, opt, buf, optlen) != 0:
        _raise_errno(f"setsockopt({'TX' if tx else 'RX'}_RING)")


CAP_NET_ADMIN = 12


def drop_cap_net_admin() -> None:
    """Clear CAP_NET_ADMIN from this process's effective set (capset(2))."""
    hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this pid
    data = (ctypes.c_uint32 * 6)()
    if _libc.capget(hdr, data) != 0:
        _raise_errno("capget")
    data[0] &= ~(1 << CAP_NET_ADMIN)  # data[0].effective
    if _libc.capset(hdr, data) != 0:
        _raise_errno("capset")


def set_ring_badptr(sock: socket.socket | int, tx: bool, optlen: int = 16) -> None:
    """setsockopt with an unmapped optval pointer (R2.3 step 3 → EFAULT)."""
    fd = sock if isinstance(sock, int) else sock.fileno()
    opt = NETLINK_TX_RING if tx else NETLINK_RX_RING
    if _libc.setsockopt(fd, SOL_NETLINK, opt, ctypes.c_void_p(8), optlen) != 0:
        _raise_errno("setsockopt(bad pointer)")


def feature_probe() -> str | None:
    """None if the kernel accepts an RX ring, else a 'feature absent: ...' message."""
    s = open_netlink(NETLINK_USERSOCK)
    try:
        set_ring(s, False, RingReq.simple(PAGE_SIZE, 1))
    except OSError as e:
        if e.errno == errno.ENOPROTOOPT:
            return ("feature absent: setsockopt(SOL_NETLINK=270, NETLINK_RX_RING=6) -> "
                    f"ENOPROTOOPT on kernel {os.uname().release}: this kernel has no "
                    "memory-mapped netlink I/O (CONFIG_NETLINK_MMAP not built in?)")
        raise
    finally:
        s.close()
    return None


def require_feature() -> None:
    msg = feature_probe()
    if msg:
        raise FeatureAbsent(msg)


class Mapping:
    """A libc mmap() of a netlink socket (R3): RX ring first, then TX (R3.5)."""

    def __init__(self, fd: int, length: int, offset: int = 0,
                 prot: int = PROT_READ | PROT_WRITE) -> None:
        addr = _libc.mmap(None, length, prot, MAP_SHARED, fd, offset)
        if addr is None or addr == MAP_FAILED:
            _raise_errno("mmap")
        self.addr: int = addr
        self.length = length
        self.buf = (ctypes.c_char * length).from_address(addr)
        self.mv = memoryview(self.buf).cast("B")

    def u32(self, off: int) -> int:
        return ctypes.c_uint32.from_address(self.addr + off).value

    def set_u32(self, off: int, value: int) -> None:
        ctypes.c_uint32.from_address(self.addr + off).value = value & 0xFFFFFFFF

    def read(self, off: int, n: int) -> bytes:
        return ctypes.string_at(self.addr + off, n)

    def write(self, off: int, data: bytes) -> None:
        ctypes.memmove(self.addr + off, data, len(data))

    def munmap(self) -> None:
        if self.addr is not None:
            self.mv.release()
            if _libc.munmap(self.addr, self.length) != 0:
                _raise_errno("munmap")
            self.addr = None  # type: ignore[assignment]

    @property
    def closed(self) -> bool:
        return self.addr is None


def mmap_socket(sock: socket.socket | int, length: int, offset: int = 0) -> Mapping:
    fd = sock if isinstance(sock, int) else sock.fileno()
    return Mapping(fd, length, offset)


def sockaddr_nl(pid: int = 0, groups: int = 0) -> bytes:
    return struct.pack("=HHII", socket.AF_NETLINK, 0, pid, groups)


def sendto_null(sock: socket.socket | int, dst: tuple[int, int] | None = (0, 0),
                flags: int = 0) -> int:
    """sendto(fd, NULL, 0, flags, addr, addrlen): a TX-ring send (R5.1).

    ``dst`` None passes a NULL address (use the connected peer)."""
    fd = sock if isinstance(sock, int) else sock.fileno()
    if dst is None:
        r = _libc.sendto(fd, None, 0, flags, None, 0)
    else:
        a = ctypes.create_string_buffer(sockaddr_nl(*dst), 12)
        r = _libc.sendto(fd, None, 0, flags, a, 12)
    if r < 0:
        _raise_errno("sendto(NULL)")
    return r


def poll_mask(sock: socket.socket | int, timeout_ms: int = 0,
              events: int = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM) -> int:
    """poll() on one fd; returns revents (0 on timeout). Has side effects on RX-ring
    sockets (R6.1, R6.4)."""
    p = select.poll()
    p.register(sock, events)
    r = p.poll(timeout_ms)
    return r[0][1] if r else 0


def so_error(sock: socket.socket) -> int:
    """getsockopt(SO_ERROR): returns and clears sk_err."""
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)


SO_MEMINFO = getattr(socket, "SO_MEMINFO", 55)


def rmem_alloc(sock: socket.socket) -> int:
    """SO_MEMINFO[SK_MEMINFO_RMEM_ALLOC]: receive memory charged to the socket."""
    return struct.unpack_from("=I", sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 36))[0]


def recv_nowait(sock: socket.socket, bufsize: int = 65536) -> bytes | None:
    """recv(MSG_DONTWAIT): bytes, or None on EAGAIN. Other errors raise."""
    try:
        return sock.recv(bufsize, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return None


def nlmsg(mtype: int, flags: int, seq: int, payload: bytes = b"", pid: int = 0) -> bytes:
    ln = NLMSG_HDRLEN + len(payload)
    pad = (-ln) % 4
    return NLMSG_HDR.pack(ln, mtype, flags, seq, pid) + payload + b"\0" * pad


def parse_nlmsgs(data: bytes) -> list[tuple[int, int, int, int, int, bytes]]:
    """Split a netlink byte stream into (len, type, flags, seq, pid, payload).
    Raises ValueError on a malformed stream."""
    out = []
    off = 0
    while off + NLMSG_HDRLEN <= len(data):
        ln, t, f, seq, pid = NLMSG_HDR.unpack_from(data, off)
        if ln < NLMSG_HDRLEN or off + ln > len(data):
            raise ValueError(f"bad nlmsg_len {ln} at offset {off} of {len(data)}")
        out.append((ln, t, f, seq, pid, bytes(data[off + NLMSG_HDRLEN:off + ln])))
        off += (ln + 3) & ~3
    if off < len(data) and any(data[off:]):
        raise ValueError(f"trailing bytes at offset {off} of {len(data)}")
    return out


def nlmsgerr_code(payload: bytes) -> int:
    """The (negative) error of an NLMSG_ERROR payload; 0 for an ACK."""
    return struct.unpack_from("=i", payload, 0)[0]


def _read_exact(fd: int, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            break
        data += chunk
    return data


class ChildLost(AssertionError):
    """A :func:`fork_call` child that gave no result: killed (by a signal, the OOM
    killer, a crash) or out of time."""


def fork_call(fn, *args, timeout: float | None = None) -> int:
    """Run ``fn(*args)`` in a forked child; return its int result.

    The child inherits mappings (R3.7) and descriptors; it exits with os._exit. The
    result travels length-prefixed, so a grandchild that inherited the pipe cannot keep
    the parent waiting for end-of-file. A child that gives no result in ``timeout``
    seconds is killed; either way :class:`ChildLost` says how it ended."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(r)
        try:
            msg = b"R" + struct.pack("=q", int(fn(*args)))
        except BaseException as e:  # noqa: BLE001
            msg = f"E{type(e).__name__}: {e}".encode()[:4000]
        try:
            os.write(w, struct.pack("=I", len(msg)) + msg)
        finally:
            os._exit(0)
    os.close(w)
    try:
        answered = select.select([r], [], [], timeout)[0]
        hdr = _read_exact(r, 4) if answered else b""
        data = _read_exact(r, struct.unpack("=I", hdr)[0]) if len(hdr) == 4 else b""
    finally:
        os.close(r)
    if not answered:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if not answered:
        raise ChildLost(f"child gave no result in {timeout:g} s (killed)")
    if not data and os.WIFSIGNALED(status):
        raise ChildLost(f"child killed by signal {os.WTERMSIG(status)} before its result")
    if data[:1] != b"R":
        raise ChildLost(f"child failed: {data[1:].decode(errors='replace') or 'no result'}")
    return struct.unpack("=q", data[1:9])[0]


def join_thread(t: threading.Thread, timeout: float = 10.0) -> None:
    """``t.join()``, then wait until the kernel task is gone too. ``join`` returns when
    the thread's Python code has ended, before the task exits and drops its references
    to the fd table and mm (on the host the task was still there after 151 of 500
    joins): a ring send right after it could still be classified ``files_shared``."""
    t.join()
    task = f"/proc/self/task/{t.native_id}"
    deadline = time.monotonic() + timeout
    while os.path.exists(task):
        if time.monotonic() > deadline:
            raise AssertionError(f"thread {t.native_id} still a task {timeout:g} s after join")
        time.sleep(0.001)


class ForkedHolder:
    """A child process that keeps the parent's mappings (and fds) alive until released:
    the 'fork' case of single-mapping validation (D2, R3.7)."""

    def __init__(self) -> None:
        self._r, w = os.pipe()
        self._ready_r, ready_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - child
            os.close(self._ready_r)
            os.write(ready_w, b"!")
            os.read(self._r, 1)
            os._exit(0)
        os.close(ready_w)
        os.read(self._ready_r, 1)
        os.close(self._ready_r)
        self._w = w

    def release(self) -> None:
        if self.pid:
            os.write(self._w, b"x")
            os.close(self._w)
            os.close(self._r)
            os.waitpid(self.pid, 0)
            self.pid = 0
