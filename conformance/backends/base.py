"""The interface both backends implement (model and kernel).

Scenario tests and the differential state machine are written against :class:`Backend`.
Sockets, descriptors, mappings and driver handles are small integers chosen by the
backend; errors are raised as ``OSError(errno)`` by both backends, so a test can
``pytest.raises(OSError)`` and compare ``.errno``.

Ring names are ``"rx"`` and ``"tx"``. Frame headers are :class:`conformance.ring.FrameHdr`.
Trace events (:meth:`Backend.events`) are :class:`model.outcome.Event` values with the
socket renumbered to the backend's id: the kernel backend reads them from the series'
tracepoints, the model backend returns the model's predictions.
"""

from __future__ import annotations

import abc
import errno
import itertools
from typing import Literal, NewType

from model.outcome import Event

from ..ring import FrameHdr
from ..uapi import NETLINK_GENERIC, NL_MMAP_STATUS_VALID, SOL_NETLINK, RingReq

BADPTR = b"BADPTR"  # set_ring(req=BADPTR): optval points at unmapped memory (EFAULT)

# What the operations' arguments and results are: the annotations below use these, and
# conformance/script.py writes each type as text (ids by name, portids through sockets)
Sock = NewType("Sock", int)  # a socket id of the backend
Fd = NewType("Fd", int)  # a dup()ed descriptor
Map = NewType("Map", int)  # a mapping
Task = NewType("Task", int)  # a forked child or a thread
Handle = NewType("Handle", int)  # a held test-driver message
Portid = NewType("Portid", int)  # a netlink address (0: the kernel)
Dst = tuple[Portid, int]  # (portid, group mask) as sendto/connect take it
Ring = Literal["rx", "tx"]
IsTx = NewType("IsTx", bool)  # which ring a setsockopt configures
Proto = NewType("Proto", int)  # NETLINK_ROUTE, ...
Status = NewType("Status", int)  # frame status (R1.5)
Errno = NewType("Errno", int)  # a pending socket error (0: none)
PollMask = NewType("PollMask", int)

# What an operation of the interface is, declared once on its method below:
ACT = "act"  # changes or observes state: results and trace decisions compared, recorded
READ = "read"  # reads ring memory or identity: results compared (no decisions), recorded
DERIVED = "derived"  # written here on top of the others: not forwarded, recorded


def operation(kind: str):
    """Declare a :class:`Backend` method an operation of ``kind``. The lockstep backend
    forwards and compares ACT and READ operations, the recorder records all of them:
    adding an operation is one method here with its kind."""
    def mark(fn):
        fn.operation = kind
        return fn
    return mark


def operations(kind: str | None = None) -> dict[str, str]:
    """The declared operations (name -> kind), optionally only those of ``kind``."""
    return {n: f.operation for n, f in vars(Backend).items()
            if hasattr(f, "operation") and kind in (None, f.operation)}


class Backend(abc.ABC):
    name = "?"

    # -- sockets and descriptors ----------------------------------------------------
    @operation(ACT)
    @abc.abstractmethod
    def socket(self, proto: Proto = NETLINK_GENERIC, port_of: Sock | None = None) -> Sock:
        """A new socket bound to its own portid, or with ``port_of`` to the portid of
        that (closed, unmapped, hence released) socket id: a socket taking over a
        portid (R4.8). Trace events of both then carry ``port_of``'s id."""

    @operation(READ)
    @abc.abstractmethod
    def portid(self, s: Sock) -> Portid: ...

    @operation(ACT)
    @abc.abstractmethod
    def close(self, s: Sock) -> None:
        """Close the socket's primary descriptor (and forget the socket id)."""

    @operation(ACT)
    @abc.abstractmethod
    def dup(self, s: Sock) -> Fd:
        """dup() the socket's descriptor; returns a descriptor id for :meth:`close_fd`."""

    @operation(ACT)
    @abc.abstractmethod
    def close_fd(self, fd: Fd) -> None: ...

    @operation(ACT)
    @abc.abstractmethod
    def fork_hold(self) -> Task:
        """fork() a child that keeps every mapping and descriptor until released."""

    @operation(ACT)
    @abc.abstractmethod
    def fork_release(self, token: Task) -> None: ...

    @operation(ACT)
    @abc.abstractmethod
    def thread_start(self) -> Task:
        """Start a second thread (shares files and mm) that idles until stopped."""

    @operation(ACT)
    @abc.abstractmethod
    def thread_stop(self, token: Task) -> None: ...

    # -- ring setup and mapping -----------------------------------------------------
    @operation(ACT)
    @abc.abstractmethod
    def set_ring(self, s: Sock, tx: IsTx, req: RingReq | bytes, optlen: int | None = None,
                 level: int = SOL_NETLINK, privileged: bool = True) -> None:
        """setsockopt(level, NETLINK_{RX,TX}_RING); ``privileged=False`` makes the call
        without CAP_NET_ADMIN (kernel: from a child that dropped it)."""

    @operation(ACT)
    @abc.abstractmethod
    def mmap(self, s: Sock, length: int | None = None, offset: int = 0) -> Map:
        """Map the socket (default length: both rings). Returns a mapping id."""

    @operation(ACT)
    @abc.abstractmethod
    def munmap(self, m: Map) -> None: ...

    @operation(DERIVED)
    def ring_size(self, s: Sock) -> int:
        rx, tx = self.rings(s)
        return (rx.size if rx else 0) + (tx.size if tx else 0)

    reqs: dict[int, list[RingReq | None]]  # sid -> [rx, tx] as successfully requested

    @operation(READ)
    def rings(self, s: Sock) -> tuple[RingReq | None, RingReq | None]:
        """The geometry of the configured rings (from the successful requests)."""
        rx, tx = self.reqs[s]
        return rx, tx

    def _record_ring(self, s: int, tx: bool, req, optlen: int | None) -> None:
        """Remember a ring request that succeeded (a teardown clears it)."""
        if isinstance(req, RingReq) and (optlen is None or optlen >= 16):
            self.reqs[s][1 if tx else 0] = req if req.block_nr else None

    # -- ring memory (through any live mapping of the socket) -----------------------
    @operation(READ)
    @abc.abstractmethod
    def frame(self, s: Sock, ring: Ring, i: int) -> FrameHdr: ...

    @operation(READ)
    @abc.abstractmethod
    def frames(self, s: Sock, ring: Ring) -> list[FrameHdr]:
        """Every frame header of the ring in order: the differential compares them all
        after each step, one call instead of one per frame."""

    @operation(ACT)
    @abc.abstractmethod
    def set_status(self, s: Sock, ring: Ring, i: int, status: Status) -> None: ...

    @operation(ACT)
    @abc.abstractmethod
    def set_len(self, s: Sock, ring: Ring, i: int, n: int) -> None: ...

    @operation(READ)
    @abc.abstractmethod
    def payload(self, s: Sock, ring: Ring, i: int, n: int) -> bytes: ...

    @operation(ACT)
    @abc.abstractmethod
    def write_payload(self, s: Sock, ring: Ring, i: int, data: bytes) -> None: ...

    @operation(DERIVED)
    def put_tx(self, s: Sock, i: int, data: bytes, status: Status = NL_MMAP_STATUS_VALID,
               nm_len: int | None = None) -> None:
        """Userspace fills TX frame ``i``: message, nm_len, then status (R5.2)."""
        self.write_payload(s, "tx", i, data)
        self.set_len(s, "tx", i, len(data) if nm_len is None else nm_len)
        self.set_status(s, "tx", i, status)

    @operation(DERIVED)
    def statuses(self, s: Sock, ring: Ring) -> list[Status]:
        rx, tx = self.rings(s)
        req = rx if ring == "rx" else tx
        return [self.frame(s, ring, i).status for i in range(req.frame_nr if req else 0)]

    @operation(DERIVED)
    def message(self, s: Sock, ring: Ring, i: int) -> bytes:
        """The message bytes of frame ``i`` (nm_len of them)."""
        return self.payload(s, ring, i, self.frame(s, ring, i).len)

    # -- syscalls ---------------------------------------------------------------------
    @operation(ACT)
    @abc.abstractmethod
    def send_ring(self, s: Sock, dst: Dst | None = (0, 0),
                  flags: int = 0) -> int:
        """sendto(fd, NULL, 0, flags, dst): TX-ring send (R5.1). ``dst`` = (portid, group)
        or None for the connected peer."""

    @operation(ACT)
    @abc.abstractmethod
    def send(self, s: Sock, data: bytes, dst: Dst = (0, 0)) -> int: ...

    @operation(ACT)
    @abc.abstractmethod
    def recv(self, s: Sock) -> bytes | None:
        """recv(MSG_DONTWAIT): the next queued message, or None (EAGAIN)."""

    @operation(READ)
    @abc.abstractmethod
    def diag_rings(self, s: Sock) -> tuple[RingReq | None, RingReq | None]:
        """(RX, TX) ring geometry as netlink_diag reports it with NDIAG_SHOW_RING_CFG
        (R1.8); None where the kernel leaves the attribute out."""

    @operation(ACT)
    @abc.abstractmethod
    def poll(self, s: Sock) -> PollMask:
        """poll() with timeout 0; returns the revents mask (has side effects, R6.1)."""

    @operation(ACT)
    @abc.abstractmethod
    def so_error(self, s: Sock) -> Errno: ...

    @operation(READ)
    @abc.abstractmethod
    def rmem_charged(self, s: Sock) -> bool:
        """Is any receive memory charged to the socket (SO_MEMINFO rmem_alloc > 0)?
        Only zero / non-zero: the model's truesize is approximate (M3, R7.4)."""

    @operation(ACT)
    @abc.abstractmethod
    def sendmsg_noiov(self, s: Sock, dst: Dst = (0, 0)) -> int:
        """sendmsg() with msg_iovlen == 0: must *not* be a ring send (R5.1, bug 1.3)."""

    @operation(ACT)
    @abc.abstractmethod
    def join_group(self, s: Sock, group: int) -> None:
        """setsockopt(NETLINK_ADD_MEMBERSHIP, group)."""

    @operation(ACT)
    @abc.abstractmethod
    def connect(self, s: Sock, dst: Dst) -> None: ...

    @operation(ACT)
    @abc.abstractmethod
    def set_rcvbuf(self, s: Sock, size: int) -> None:
        """setsockopt(SOL_SOCKET, SO_RCVBUF, size): the receive buffer becomes
        max(2 * min(size, rmem_max), SOCK_MIN_RCVBUF), the limit of R4.13, R7.2 and D21."""

    # -- kernel producers (test driver) ----------------------------------------------
    @operation(ACT)
    @abc.abstractmethod
    def drv_alloc(self, dst: Sock, size: int) -> Handle:
        """Driver ALLOC for socket ``dst``: returns a handle; OSError(ENOBUFS) if full."""

    @operation(ACT)
    @abc.abstractmethod
    def drv_xmit(self, h: Handle) -> int: ...

    @operation(ACT)
    @abc.abstractmethod
    def drv_free(self, h: Handle) -> None: ...

    @operation(ACT)
    @abc.abstractmethod
    def drv_plain(self, dst: Sock, size: int) -> int: ...

    @abc.abstractmethod
    def dump_request(self, s: int, seq: int, count: int, size: int) -> bytes:
        """Bytes of a driver DUMP request that socket ``s`` can send (plain or ring)."""

    @operation(DERIVED)
    def send_dump(self, s: Sock, seq: int, count: int, size: int) -> int:
        """send() a driver DUMP request: a step that names the request, not its bytes
        (they carry the driver's family id, which differs between kernels)."""
        return self.send(s, self.dump_request(s, seq, count, size))

    # -- observation --------------------------------------------------------------------
    @abc.abstractmethod
    def events(self) -> list[Event]:
        """Trace decisions since the previous call, in order."""

    def kernel_handle(self, h: int) -> int:
        """The driver's handle number of ``h`` (the held message's seq and fill byte)."""
        return h

    def drv_family(self) -> int | None:
        """The test driver's generic netlink family id (None: no driver)."""
        return None

    def accepts(self, method: str, args: tuple, kernel: tuple, model: tuple) -> bool:
        """Is the kernel's outcome (("ok", value) | ("err", errno)) allowed, given this
        backend's own outcome for the same call? Exact equality unless overridden."""
        return kernel == model

    def close_all(self) -> None:  # noqa: B027 - optional hook
        pass


PORT_SPACING = 0x1000  # portids per backend: socket ids 1..PORT_SPACING-1
_port_bases = itertools.count(0x4E4D0000, PORT_SPACING)
_window: tuple[int, int] | None = None  # confine_ports


def next_port_base() -> int:
    """Socket ``sid`` of a backend is bound to portid ``base + sid``: explicit, so that the
    model and the kernel agree on every portid (they appear in ring bytes), and fresh per
    backend so a lingering socket of an earlier test never collides."""
    base = next(_port_bases)
    if _window is not None and not _window[0] <= base < _window[1] - PORT_SPACING:
        raise RuntimeError(f"port base {base:#x} outside this process' window "
                           f"[{_window[0]:#x}, {_window[1]:#x})")
    return base


def confine_ports(lo: int, hi: int) -> None:
    """This process (and its workers) bind portids in [lo, hi) only, apart from the other
    processes running backends at the same time (the plan run beside the suite); the
    window also filters the trace they read (port_window, genl.Tracer)."""
    global _port_bases, _window
    _port_bases, _window = itertools.count(lo, PORT_SPACING), (lo, hi)


def port_window() -> tuple[int, int] | None:
    return _window


def stride_port_bases(k: int, n: int) -> None:
    """In worker ``k`` of ``n`` processes forked from one (differential.run_parallel): every
    ``n``-th port base from the parent's next one on, so no two workers share a portid."""
    global _port_bases
    first = next(_port_bases)  # the same in every worker
    _port_bases = itertools.count(first + k * PORT_SPACING, n * PORT_SPACING)


def skip_port_bases(past: int) -> None:
    """In the parent after its workers: continue at ``past`` or later (a worker's next
    base), so that no later backend takes a portid of theirs."""
    global _port_bases
    _port_bases = itertools.count(max(past, next(_port_bases)), PORT_SPACING)


def err(e: int) -> OSError:
    return OSError(e, errno.errorcode.get(e, str(e)))
