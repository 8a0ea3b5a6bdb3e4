"""The state of one system and the operation facade (one method per syscall or kernel
event). Each method returns an Outcome; the rules live in the topic modules.
"""

from __future__ import annotations

import errno
import functools
from typing import NamedTuple

from spec import check_ids

from . import driver, dump, kernel, nfnetlink, poll, ring_setup, rx, tx
from .memory import MemoryOps
from .outcome import Blocked, Event, Failed, Outcome, op
from .process import MM, File, FileTable, Task
from .seams import Seams
from .sock import Sock
from .tasks import TaskOps
from .uapi import (
    NETLINK_ADD_MEMBERSHIP,
    NETLINK_CAP_ACK,
    NETLINK_DROP_MEMBERSHIP,
    NETLINK_GENERIC,
    NETLINK_NO_ENOBUFS,
    NETLINK_ROUTE,
    NETLINK_USERSOCK,
    POLLERR,
    POLLHUP,
    SOL_NETLINK,
    dump_request,
)

NGROUPS = 32
SOL_SOCKET, SO_RCVBUF = 1, 8
SOCK_MIN_RCVBUF = 2048 + 256        # TCP_SKB_MIN_TRUESIZE
# the test driver's generic netlink family id unless told the kernel's (a kernel numbers
# families as they register)
DRV_FAMILY = 0x20
NONROOT_SEND = frozenset({NETLINK_USERSOCK})                   # NL_CFG_F_NONROOT_SEND
NONROOT_RECV = frozenset({NETLINK_ROUTE, NETLINK_GENERIC})      # NL_CFG_F_NONROOT_RECV


# Rule ids a decision point names are checked once each: an id not in spec/rules.toml
# raises KeyError the first time it is applied (spec/test_catalogue.py also checks the
# literal ids in the model's text).
_checked = functools.cache(check_ids)
_NONE: frozenset[str] = frozenset()


def ffs(mask: int) -> int:
    """nl_groups bitmask → group number (lowest set bit, 1-based; 0 for none)."""
    return (mask & -mask).bit_length()


class SockInfo(NamedTuple):
    portid: int
    sk_err: int
    congested: bool
    drops: int
    rx_head: int
    tx_head: int
    rx_pending: int
    tx_pending: int
    mapped: int
    queue_len: int
    dump_running: bool
    rmem: int = 0               # sk_rmem_alloc as the model approximates it (M3)


class World(TaskOps, MemoryOps):
    """One system: tasks, sockets, rings, mappings, held kernel messages, the trace."""

    def __init__(self, page_size: int = 4096, goodsize: int = 3776, skb_overhead: int = 320,
                 rcvbuf: int = 212992, sndbuf: int = 212992, mem_limit: int = 64 << 20,
                 done_policy: str = "6.12", dump_autosize: bool = False,
                 drv_family: int = DRV_FAMILY, pid: int = 1000, netlink_mmap: bool = True,
                 seams: Seams | None = None) -> None:
        """Parameters are described in model/README.md ("Parameters"); ``netlink_mmap=False``
        models a kernel without the series (R2.1, R3.1, R9.14); ``seams`` replaces one of
        the model's decisions (a mutant, model/seams.py)."""
        self.netlink_mmap = netlink_mmap
        self.seams = seams or Seams()
        self.page_size = page_size
        self.goodsize = goodsize
        self.skb_overhead = skb_overhead
        self.rcvbuf = rcvbuf
        self.sndbuf = sndbuf
        self.mem_limit = mem_limit
        self.done_policy = done_policy
        self.dump_autosize = dump_autosize
        self.drv_family = drv_family
        self.tasks: dict[int, Task] = {pid: Task(pid, pid, FileTable(), MM())}
        self.main = pid
        self._next_pid = pid + 1
        self._next_mid = 1
        self._next_handle = 1
        self._rover = -4096
        self._next_msg = 0
        self.ports: dict[tuple, Sock] = {}          # ((netns, proto), portid) -> socket
        self.mc_list: dict[tuple, list[Sock]] = {}  # (netns, proto) -> subscribed sockets
        self._next_net = 1
        self.held: dict = {}
        self.ledger: dict[int, str] = {}
        self.trace: list = []
        self.applied: set[str] = set()

    # -- helpers used by the topic modules ------------------------------------------
    def apply(self, *ids: str) -> None:
        """A decision point names the rules (spec/rules.toml ids: "R2.5.3", "R4.3d",
        "D16", "M4") it applies; they collect in ``applied`` until ``take_applied``."""
        self.applied.update(_checked(*ids))

    def take_applied(self) -> frozenset[str]:
        """The rule ids applied since the last call (the decisions of the operations
        run meanwhile), and start afresh."""
        if not self.applied:
            return _NONE  # most calls: the lockstep clears before each operation
        out, self.applied = frozenset(self.applied), set()
        return out

    def emit(self, kind, portid, decision, reason, frame, length) -> None:
        self.trace.append(Event(kind, portid & 0xFFFFFFFF, decision, reason, frame, length))

    def new_msg(self) -> int:
        mid = self._next_msg
        self._next_msg += 1
        self.ledger[mid] = "pending"
        return mid

    def fate(self, mid: int, fate: str) -> None:
        self.ledger[mid] = fate

    def truesize(self, size: int) -> int:
        """Approximate SKB_TRUESIZE (rcvbuf accounting is not byte-exact in the model)."""
        return size + 256 + self.skb_overhead

    def _out(self, start: int, r: int = 0, value=None) -> Outcome:
        ev = tuple(self.trace[start:])
        if r < 0:
            return Outcome(None, -r, ev)
        return Outcome(r if value is None else value, 0, ev)

    def _task(self, task: int | None) -> Task:
        return self.tasks[self.main if task is None else task]

    def _file(self, fd: int, task: int | None) -> File:
        f = self._task(task).files.fds.get(fd)
        if f is None:
            raise Failed(errno.EBADF)
        return f

    # -- sockets ------------------------------------------------------------------------
    def socket(self, proto: int = NETLINK_GENERIC, task: int | None = None) -> Outcome:
        t = self._task(task)
        fd = t.files.lowest_free()
        t.files.fds[fd] = File(Sock(proto, net=t.net, rcvbuf=self.rcvbuf), fd_refs=1)
        return Outcome(fd)

    def portid(self, fd: int, task: int | None = None) -> int:
        return self._file(fd, task).sock.portid

    def _insert(self, sk: Sock, portid: int) -> int:
        portid &= 0xFFFFFFFF
        if (sk.table, portid) in self.ports:
            return -errno.EADDRINUSE
        sk.portid, sk.bound, sk.hashed = portid, True, True
        self.ports[(sk.table, sk.portid)] = sk
        return 0

    def _autobind(self, sk: Sock, t: Task) -> None:
        """netlink_autobind: the tgid, else a negative portid (6.12 randomises the
        start of that search: compare portids by identity, not value)."""
        if sk.bound:
            return
        if self._insert(sk, t.tgid) == 0:
            return
        while self._insert(sk, self._rover) != 0:
            self._rover -= 1
        self._rover -= 1

    @op
    def bind(self, fd: int, portid: int = 0, groups: int = 0,
             task: int | None = None) -> Outcome:
        t = self._task(task)
        sk = self._file(fd, task).sock
        r = 0
        if groups and not self._may_listen(t, sk):
            return Outcome(None, errno.EPERM)
        if sk.bound:
            if portid & 0xFFFFFFFF != sk.portid:
                return Outcome(None, errno.EINVAL)
        elif portid:
            r = self._insert(sk, portid)
        else:
            self._autobind(sk, t)
        if r == 0:
            keep = {g for g in sk.groups if g > 32}
            self._set_groups(sk, keep | {b + 1 for b in range(32) if groups >> b & 1})
        return self._out(len(self.trace), r)

    def _set_groups(self, sk: Sock, groups: set) -> None:
        lst = self.mc_list.setdefault(sk.table, [])
        if groups and not sk.groups:
            lst.append(sk)                     # sk_add_bind_node: newest first on walk
        elif sk.groups and not groups:
            lst.remove(sk)
        sk.groups = groups

    @op
    def connect(self, fd: int, portid: int, groups: int = 0,
                task: int | None = None) -> Outcome:
        t = self._task(task)
        sk = self._file(fd, task).sock
        if (portid or groups) and not self._may_send(t, sk):
            return Outcome(None, errno.EPERM)
        self._autobind(sk, t)
        sk.connected = True
        sk.dst_portid = portid & 0xFFFFFFFF
        sk.dst_group = ffs(groups)
        return Outcome(0)

    def _may_send(self, t: Task, sk: Sock) -> bool:
        return sk.proto in NONROOT_SEND or t.cap_net_admin

    def _may_listen(self, t: Task, sk: Sock) -> bool:
        return sk.proto in NONROOT_RECV or t.cap_net_admin

    @op
    def setsockopt_int(self, fd: int, optname: int, value: int, level: int = SOL_NETLINK,
                       task: int | None = None) -> Outcome:
        sk = self._file(fd, task).sock
        if level == SOL_SOCKET and optname == SO_RCVBUF:     # sock_setsockopt
            sk.rcvbuf = max(2 * min(value, self.rcvbuf), SOCK_MIN_RCVBUF)
            return Outcome(0)
        if level != SOL_NETLINK:
            return Outcome(None, errno.ENOPROTOOPT)
        if optname in (NETLINK_ADD_MEMBERSHIP, NETLINK_DROP_MEMBERSHIP):
            if not self._may_listen(self._task(task), sk):
                return Outcome(None, errno.EPERM)
            if not 0 < value <= NGROUPS:
                return Outcome(None, errno.EINVAL)
            add = optname == NETLINK_ADD_MEMBERSHIP
            self._set_groups(sk, sk.groups | {value} if add else sk.groups - {value})
        elif optname == NETLINK_NO_ENOBUFS:
            sk.no_enobufs = bool(value)
            if value:
                sk.congested = False
        elif optname == NETLINK_CAP_ACK:
            sk.cap_ack = bool(value)
        else:
            return Outcome(None, errno.ENOPROTOOPT)
        return Outcome(0)

    def subscribe(self, fd: int, group: int, task: int | None = None) -> Outcome:
        return self.setsockopt_int(fd, NETLINK_ADD_MEMBERSHIP, group, task=task)

    @op
    def setsockopt_ring(self, fd: int, tx: bool, req, optlen: int = 16,
                        privileged: bool | None = None, level: int = SOL_NETLINK,
                        task: int | None = None) -> Outcome:
        """R1.1, R2.x (ring_setup). ``privileged`` defaults to the task's CAP_NET_ADMIN."""
        f = self._file(fd, task)
        if privileged is None:
            privileged = self._task(task).cap_net_admin
        if level != SOL_NETLINK:
            self.apply("R1.1")
            return Outcome(None, errno.ENOPROTOOPT)
        if not self.netlink_mmap:           # 6.12's int prologue, then no case 6/7
            self.apply("R2.1", "R9.14")
            return Outcome(None, errno.EFAULT if req is None and optlen >= 4
                           else errno.ENOPROTOOPT)
        start = len(self.trace)
        e = ring_setup.set_ring(self, f.sock, 7 if tx else 6, req, optlen, privileged)
        return self._out(start, -e)

    # -- I/O ------------------------------------------------------------------------------
    def _kernel_rcv(self, sk: Sock, t: Task):
        return lambda data: kernel.rcv_skb(self, sk, data, t.cap_net_admin)

    @op
    def sendmsg(self, fd: int, data: bytes | None = None, dst: tuple | None = (0, 0),
                dontwait: bool = False, task: int | None = None) -> Outcome:
        """R5.1: ``data=None`` on a TX-ring socket processes the ring (D3); otherwise
        the normal path, where 6.12 refuses an empty message with ENODATA before any
        other check (M8). ``dst`` is a sockaddr_nl (portid, nl_groups bitmask); None =
        the connected destination."""
        t = self._task(task)
        f = self._file(fd, task)
        sk = f.sock
        ring = data is None and sk.tx is not None
        if sk.tx is not None:
            self.apply("R5.1", "R9.6")
        if not ring and not data:
            self.apply("M8")
            return Outcome(None, errno.ENODATA)
        start = len(self.trace)
        if dst is None:
            dst_portid, dst_group = sk.dst_portid, sk.dst_group
        else:
            dst_portid, dst_group = dst[0] & 0xFFFFFFFF, ffs(dst[1])   # sockaddr_nl
            if (dst_portid or dst_group) and not self._may_send(t, sk):
                return Outcome(None, errno.EPERM)
        self._autobind(sk, t)
        krcv = self._kernel_rcv(sk, t)
        if ring:
            self.apply("R5.8")
            r = self.seams.ring_send(self, t, sk, f, dst_portid, dst_group, dontwait, krcv)
        else:
            r = tx.plain_send(self, t, sk, data, dst_portid, dst_group, dontwait, krcv)
        return self._out(start, r)

    @op
    def recvmsg(self, fd: int, bufsize: int = 65536, dontwait: bool = True,
                task: int | None = None) -> Outcome:
        """R4.14: the receive queue only; may continue a dump (R7.3)."""
        f = self._file(fd, task)
        start = len(self.trace)
        data, r = rx.recvmsg(self, f.sock, bufsize, dontwait, lambda sk: dump.dump(self, sk))
        return self._out(start, r, data)

    @op
    def poll(self, fd: int, events: int | None = None, block: bool = False,
             task: int | None = None) -> Outcome:
        """R6.x; with ``events`` the mask is filtered as poll(2) does. ``block``: a poll
        with no timeout; raises Blocked if nothing is ready (it would sleep until a
        delivery or error report wakes it, R6.6)."""
        sk = self._file(fd, task).sock
        start = len(self.trace)
        mask = poll.poll(self, sk)
        if events is not None:
            mask &= events | POLLERR | POLLHUP
        if block and not mask:
            raise Blocked("poll would sleep until the next wake-up (R6.6)")
        return self._out(start, 0, mask)

    @op
    def so_error(self, fd: int, task: int | None = None) -> Outcome:
        f = self._file(fd, task)
        e, f.sock.sk_err = f.sock.sk_err, 0
        return Outcome(e)

    # -- kernel senders -------------------------------------------------------------------
    def _handle(self, handle: int | None) -> int:
        if handle is None:
            handle = self._next_handle
        self._next_handle = max(self._next_handle, handle + 1)
        return handle

    def drv_alloc(self, dst_portid: int, size: int, handle: int | None = None,
                  net: int = 0) -> Outcome:
        """R4.2-R4.4 with D6. ``handle``: the kernel's handle number, if known; ``net``:
        the netns of the process driving the test driver."""
        start = len(self.trace)
        h = self._handle(handle)
        e = driver.alloc(self, dst_portid & 0xFFFFFFFF, size, h, (net, NETLINK_GENERIC))
        return self._out(start, -e, h)

    def drv_xmit(self, handle: int) -> Outcome:
        if not driver.known(self, handle):
            return Outcome(None, errno.ENOENT)
        start = len(self.trace)
        r = driver.xmit(self, handle)
        return Outcome(r, 0, tuple(self.trace[start:]))

    def drv_free(self, handle: int) -> Outcome:
        if not driver.known(self, handle):
            return Outcome(None, errno.ENOENT)
        start = len(self.trace)
        driver.free(self, handle)
        return self._out(start)

    def drv_plain(self, dst_portid: int, size: int, net: int = 0) -> Outcome:
        start = len(self.trace)
        r = driver.plain(self, dst_portid & 0xFFFFFFFF, size, net)
        return Outcome(r, 0, tuple(self.trace[start:]))

    def drv_dump(self, fd: int, count: int, size: int, seq: int = 0,
                 task: int | None = None) -> Outcome:
        return self.sendmsg(fd, dump_request(self.drv_family, seq, count, size), (0, 0),
                            task=task)

    def nfqueue_alloc(self, dst_portid: int, data: bytes, ldiff: int = 0,
                      handle: int | None = None, net: int = 0) -> Outcome:
        start = len(self.trace)
        h = self._handle(handle)
        e = nfnetlink.queue_alloc(self, dst_portid & 0xFFFFFFFF, data, h, ldiff, net)
        return self._out(start, -e, h)

    def nflog_alloc(self, dst_portid: int, inst_size: int, data: bytes,
                    handle: int | None = None, net: int = 0) -> Outcome:
        start = len(self.trace)
        h = self._handle(handle)
        e = nfnetlink.log_alloc(self, dst_portid & 0xFFFFFFFF, inst_size, data, h, net)
        return self._out(start, -e, h)

    @op
    def set_filter(self, fd: int, reject_all: bool, task: int | None = None) -> Outcome:
        """SO_ATTACH_FILTER with a drop-everything program (True) or SO_DETACH_FILTER."""
        self._file(fd, task).sock.reject_all = reject_all
        return Outcome(0)

    @op
    def ring_cfg(self, fd: int, task: int | None = None) -> Outcome:
        """R1.8 (patch 0010): the ring geometry netlink_diag reports with
        NDIAG_SHOW_RING_CFG; a ring not configured is left out (None, D15). Without the
        series no ring can be configured, so both are None."""
        sk = self._file(fd, task).sock
        self.apply("R1.8")
        if sk.rx is None or sk.tx is None:
            self.apply("D15")
        return Outcome((sk.rx.req if sk.rx else None, sk.tx.req if sk.tx else None))

    # -- inspection ------------------------------------------------------------------------
    def sock_info(self, fd: int, task: int | None = None) -> SockInfo:
        sk = self._file(fd, task).sock
        return SockInfo(sk.portid, sk.sk_err, sk.congested, sk.drops,
                        sk.rx.head if sk.rx else -1, sk.tx.head if sk.tx else -1,
                        sk.rx.pending if sk.rx else 0, sk.tx.pending if sk.tx else 0,
                        sk.mapped, len(sk.queue), sk.dump is not None, sk.rmem)
