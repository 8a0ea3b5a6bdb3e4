"""Generic netlink client for the series' test driver (patches/INTERFACES.md) and a
tracefs reader for the netlink:netlink_mmap_rx / netlink_mmap_tx tracepoints."""

from __future__ import annotations

import errno
import os
import re
import struct

from model.outcome import Event

from .uapi import (
    NETLINK_GENERIC,
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    FeatureAbsent,
    nlmsg,
    nlmsgerr_code,
    open_netlink,
    parse_nlmsgs,
)

GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2

FAMILY = "NLMMAP_TEST"
CMD_ALLOC = 1
CMD_XMIT = 2
CMD_FREE = 3
CMD_PLAIN = 4
CMD_DUMP = 5
A_PORTID = 1
A_SIZE = 2
A_HANDLE = 3
A_RESULT = 4
A_COUNT = 5
HELD_TYPE = 0x7FF0
DUMP_TYPE = 0x7FF1
PLAIN_FILL = 0xA5


def nla(atype: int, payload: bytes) -> bytes:
    ln = 4 + len(payload)
    return struct.pack("=HH", ln, atype) + payload + b"\0" * ((-ln) % 4)


def nla_u32(atype: int, v: int) -> bytes:
    return nla(atype, struct.pack("=I", v & 0xFFFFFFFF))


def parse_nla(data: bytes) -> dict[int, bytes]:
    out = {}
    off = 0
    while off + 4 <= len(data):
        ln, t = struct.unpack_from("=HH", data, off)
        if ln < 4:
            break
        out[t & 0x3FFF] = bytes(data[off + 4:off + ln])
        off += (ln + 3) & ~3
    return out


def genl_msg(family: int, cmd: int, flags: int, seq: int, attrs: bytes = b"",
             version: int = 1) -> bytes:
    return nlmsg(family, flags, seq, struct.pack("=BBH", cmd, version, 0) + attrs)


def held_message(handle: int, size: int) -> bytes:
    """The message the driver builds for ALLOC (INTERFACES.md), padded to 4 bytes as
    nlmsg_put() reserves it (the skb/frame length is NLMSG_ALIGN(16 + size))."""
    return (struct.pack("=IHHII", 16 + size, HELD_TYPE, 0, handle, 0)
            + bytes([handle & 0xFF]) * size + b"\0" * ((-size) % 4))


def plain_message(size: int) -> bytes:
    return (struct.pack("=IHHII", 16 + size, HELD_TYPE, 0, 0, 0)
            + bytes([PLAIN_FILL]) * size + b"\0" * ((-size) % 4))


class GenlClient:
    """A plain (ring-less) NETLINK_GENERIC socket talking to one family."""

    def __init__(self, family_name: str = FAMILY) -> None:
        self.sock = open_netlink(NETLINK_GENERIC)
        self.seq = 1
        self.family = self._resolve(family_name)

    def close(self) -> None:
        self.sock.close()

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def request(self, family: int, cmd: int, attrs: bytes = b"") -> list[tuple]:
        """Send one request with NLM_F_ACK, return the non-error replies; raises
        OSError(-error) on an NLMSG_ERROR with a non-zero code."""
        seq = self._next()
        self.sock.send(genl_msg(family, cmd, NLM_F_REQUEST | NLM_F_ACK, seq, attrs))
        replies = []
        while True:
            data = self.sock.recv(65536)
            for m in parse_nlmsgs(data):
                if m[3] != seq:
                    continue
                if m[1] == NLMSG_ERROR:
                    code = nlmsgerr_code(m[5])
                    if code:
                        raise OSError(-code, f"genl cmd {cmd}: {os.strerror(-code)}")
                    return replies
                replies.append(m)

    def _resolve(self, name: str) -> int:
        try:
            replies = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                   nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        except OSError as e:
            if e.errno == errno.ENOENT:
                raise FeatureAbsent(
                    f"feature absent: generic netlink family {name} not registered "
                    "(kernel built without CONFIG_NETLINK_MMAP_TEST?)") from None
            raise
        attrs = parse_nla(replies[0][5][4:])
        return struct.unpack("=H", attrs[CTRL_ATTR_FAMILY_ID][:2])[0]

    def _result(self, replies: list[tuple], attr: int, fmt: str) -> int:
        for m in replies:
            attrs = parse_nla(m[5][4:])
            if attr in attrs:
                return struct.unpack(fmt, attrs[attr][:4])[0]
        raise AssertionError(f"test driver reply lacks attribute {attr}: {replies!r}")


class TestDriver(GenlClient):
    """NLMMAP_TEST commands (INTERFACES.md)."""

    __test__ = False  # not a pytest class

    def alloc(self, dst_portid: int, size: int) -> int:
        r = self.request(self.family, CMD_ALLOC,
                         nla_u32(A_PORTID, dst_portid) + nla_u32(A_SIZE, size))
        return self._result(r, A_HANDLE, "=I")

    def xmit(self, handle: int) -> int:
        return self._result(self.request(self.family, CMD_XMIT, nla_u32(A_HANDLE, handle)),
                            A_RESULT, "=i")

    def free(self, handle: int) -> None:
        self.request(self.family, CMD_FREE, nla_u32(A_HANDLE, handle))

    def plain(self, dst_portid: int, size: int) -> int:
        r = self.request(self.family, CMD_PLAIN,
                         nla_u32(A_PORTID, dst_portid) + nla_u32(A_SIZE, size))
        return self._result(r, A_RESULT, "=i")

    def dump_request(self, seq: int, count: int, size: int) -> bytes:
        """The DUMP request bytes; the *ring socket* must send it (dumps go to the
        requester)."""
        return genl_msg(self.family, CMD_DUMP, NLM_F_REQUEST | NLM_F_DUMP, seq,
                        nla_u32(A_COUNT, count) + nla_u32(A_SIZE, size))


__all__ = ["TestDriver", "GenlClient", "Tracer", "NLMSG_DONE"]


# --- tracefs -------------------------------------------------------------------------

TRACEFS_CANDIDATES = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
_RX_RE = re.compile(r"netlink_mmap_rx: portid=(\d+) decision=(\w+) reason=(\w+) "
                    r"frame=(-?\d+) len=(\d+)")
_TX_RE = re.compile(r"netlink_mmap_tx: portid=(\d+) frame=(-?\d+) len=(\d+) mode=(\w+) "
                    r"reason=(\w+)")


def parse_trace(text: str) -> list[Event]:
    out = []
    for line in text.splitlines():
        m = _RX_RE.search(line)
        if m:
            out.append(Event("rx", int(m[1]), m[2], m[3], int(m[4]), int(m[5])))
            continue
        m = _TX_RE.search(line)
        if m:
            out.append(Event("tx", int(m[1]), m[4], m[5], int(m[2]), int(m[3])))
    return out


def trace_filter(only: tuple[int, int] | None, without: tuple[int, int] | None) -> str:
    """The tracefs filter of the netlink tracepoints: events of portids in ``only``, not
    in ``without`` ("0" clears a filter)."""
    terms = ([f"(portid >= {only[0]} && portid < {only[1]})"] if only else []) + \
        ([f"(portid < {without[0]} || portid >= {without[1]})"] if without else [])
    return " && ".join(terms) or "0"


class Tracer:
    """Enables the two netlink tracepoints and returns the events since the last call.

    One per process (:meth:`get`): the tracepoints are enabled once and stay enabled.
    Toggling them per test patches kernel text (static keys) hundreds of times, and under
    TCG with two vCPUs that was seen to end in "Oops: int3" in unrelated code."""

    EVENTS = ("netlink_mmap_rx", "netlink_mmap_tx")
    _instance: Tracer | None = None
    _buffer: str | None = None  # a tracefs instance of this process (use_instance)
    _portids: tuple[int, int] | None = None  # its events' portid range (use_instance)
    _not_portids: tuple[int, int] | None = None  # another process' range (exclude)

    @classmethod
    def get(cls) -> Tracer:
        if cls._instance is None:
            cls._instance = cls(cls._buffer)
        cls._instance.take()  # drop what earlier tests left behind
        return cls._instance

    @classmethod
    def use_instance(cls, name: str, portids: tuple[int, int] | None = None) -> None:
        """From now on this process reads the trace of tracefs instance ``name`` (its own
        ring buffer, created when first needed and then kept: removing it would patch
        kernel text again), not the global one it may share with its parent; with
        ``portids`` = [lo, hi), only the events of those portids: the kernel filters the
        rest out, so another process' flood (the stress test's) cannot fill the buffer."""
        cls._instance, cls._buffer, cls._portids = None, name, portids

    @classmethod
    def exclude(cls, portids: tuple[int, int]) -> None:
        """This process' trace leaves out the events of portids [lo, hi): those of the
        differential plan running beside the suite (its tests count the ring decisions
        of the program they run)."""
        cls._instance, cls._not_portids = None, portids

    def __init__(self, instance: str | None = None) -> None:
        self.root = self._find_root()
        if instance is not None:
            self.root = f"{self.root}/instances/{instance}"
            os.makedirs(self.root, exist_ok=True)
        for ev in self.EVENTS:
            path = f"{self.root}/events/netlink/{ev}/enable"
            if not os.path.exists(path):
                raise FeatureAbsent(f"feature absent: tracepoint netlink:{ev} not found "
                                    f"under {self.root}/events/netlink")
            with open(f"{self.root}/events/netlink/{ev}/filter", "w") as f:
                f.write(trace_filter(self._portids if instance is not None else None,
                                     self._not_portids))
            with open(path, "w") as f:
                f.write("1")
        with open(f"{self.root}/tracing_on", "w") as f:
            f.write("1")
        self.clear()
        # trace_pipe consumes what it returns: one non-blocking read per check
        self.pipe = os.open(f"{self.root}/trace_pipe", os.O_RDONLY | os.O_NONBLOCK)

    @staticmethod
    def _find_root() -> str:
        for root in TRACEFS_CANDIDATES:
            if os.path.exists(f"{root}/trace"):
                return root
        root = TRACEFS_CANDIDATES[0]
        try:
            os.makedirs(root, exist_ok=True)
            r = os.system(f"mount -t tracefs nodev {root} 2>/dev/null")
        except OSError:
            r = 1
        if r != 0 or not os.path.exists(f"{root}/trace"):
            raise FeatureAbsent("feature absent: tracefs not available (mount tracefs on "
                                "/sys/kernel/tracing failed)")
        return root

    def clear(self) -> None:
        with open(f"{self.root}/trace", "w") as f:
            f.write("")

    def take(self) -> list[Event]:
        chunks = []
        while True:
            try:
                b = os.read(self.pipe, 1 << 16)
            except BlockingIOError:
                break
            if not b:
                break
            chunks.append(b)
        return parse_trace(b"".join(chunks).decode(errors="replace"))
