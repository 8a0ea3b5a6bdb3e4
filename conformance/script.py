"""Operation scripts: one line of text per :class:`~conformance.backends.base.Backend`
operation, with its expected result. Scenario scripts (``scripts/``), the regression
corpus (``corpus/``), differential reproducers and the lockstep checker's messages are
all written in it::

    # rules: R3.8 R3.9
    socket = s0
    set_ring s0 rx {4096,4,4096,4} = ok
    mmap s0 = m0
    drv_alloc s0 40 = h0
    frame s0 rx 0 = RESERVED
    send s1 10000000f07f00000100000000000000 dst=@s0 = 16
    set_ring s0 rx {0,0,0,0} = -1 EBUSY
    so_error s0 = ENOBUFS

``OP ARG... [NAME=ARG...] = RESULT``: the operation's required parameters in order, then
its optional ones that differ from their defaults by name. Ids are names bound by the
operation that made them (``s0`` sockets, ``m0`` mappings, ``fd0`` descriptors, ``t0``
forked children and threads, ``h0`` driver messages); ``@s0`` is socket s0's portid, found
through ``portid()`` when the script runs, so a script does not depend on the numbers one
run happened to use. Errors are ``-1 ENAME`` (packetdrill's form); ``ok`` is the result
of an operation that returns nothing; a line without ``= RESULT`` is run, not checked.
Bytes are hex, ``ab*40`` is 40 bytes 0xab, ``??*8`` 8 bytes the model leaves
unspecified, ``+`` joins pieces, ``''`` is empty. Netlink messages in results are
compared with portids and driver handle numbers renamed (``@sN`` -> 0x4E4D0000 + N, the
message of ``hN`` -> N + 1): a kernel numbers its driver messages itself.

The text form of each parameter and result comes from the annotations of the
``Backend`` methods (``Sock``, ``Portid``, ``Status``, ...): an operation declared there
with known types has its text form, and ``test_script_format.py`` fails for one that
has not.
"""

from __future__ import annotations

import dataclasses
import errno
import inspect
import os
import re
import struct
import types
import typing
from collections import Counter
from itertools import takewhile
from typing import Any, NamedTuple

from model.outcome import Pattern
from model.world import DRV_FAMILY

from .backends.base import (
    READ,
    Backend,
    Dst,
    Errno,
    Fd,
    Handle,
    IsTx,
    Map,
    PollMask,
    Portid,
    Proto,
    Ring,
    Sock,
    Status,
    Task,
    operations,
)
from .genl import HELD_TYPE
from .ring import FrameHdr
from .uapi import (
    NETLINK_GENERIC,
    NETLINK_NETFILTER,
    NETLINK_ROUTE,
    NETLINK_USERSOCK,
    NLMSG_ERROR,
    POLLERR,
    POLLIN,
    POLLOUT,
    POLLRDNORM,
    POLLWRNORM,
    STATUS_NAMES,
    RingReq,
)

SUFFIX = ".nls"
CANON_PORT = 0x4E4D0000  # the portid of s0 in compared message bytes
CANON_FAMILY = DRV_FAMILY  # the driver's family id in compared bytes: the model's own
ECHO_TYPE = 16 + 4 + 4  # an error's echoed request type: after its nlmsghdr, errno, nlmsg_len


class Ref(NamedTuple):
    """A symbolic id: ``s0``, ``m1``, ``fd0``, ``t2``, ``h0``."""

    kind: str
    n: int

    def __str__(self) -> str:
        return f"{self.kind}{self.n}"


class Port(NamedTuple):
    """The portid of a named socket (``@s0``)."""

    sock: Ref

    def __str__(self) -> str:
        return f"@{self.sock}"


class ScriptError(ValueError):
    """A line that is not a valid step."""


# -- text of one value, by type ------------------------------------------------------------

class Codec:
    """Text of one value of a type (``text``/``parse``) and its symbolic form
    (``sym``: a backend's value -> what the script says; ``real``: the reverse)."""

    def text(self, v) -> str:
        return str(v)

    def parse(self, t: str):
        raise NotImplementedError

    def sym(self, v, names: Names):
        return v

    def real(self, v, names: Names):
        return v


class IntCodec(Codec):
    def parse(self, t):
        return int(t, 0)


class BoolCodec(Codec):
    def text(self, v):
        return "true" if v else "false"

    def parse(self, t):
        return {"true": True, "false": False}[t]


class NamedInts(Codec):
    """An int written by name where it has one (status, protocol, errno)."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names
        self.values = {n: v for v, n in names.items()}

    def text(self, v):
        return self.names.get(v, str(v))

    def parse(self, t):
        return self.values[t] if t in self.values else int(t, 0)


class Flags(Codec):
    """A bit mask written as ``IN|OUT`` (0 is ``0``, unnamed bits in hex)."""

    def __init__(self, bits: dict[int, str]) -> None:
        self.bits = bits

    def text(self, v):
        names = [n for b, n in self.bits.items() if v & b]
        rest = v & ~sum(b for b in self.bits if v & b)
        return "|".join(names + ([hex(rest)] if rest else [])) or "0"

    def parse(self, t):
        values = {n: b for b, n in self.bits.items()}
        return sum(values[p] if p in values else int(p, 0) for p in t.split("|"))


class Choice(Codec):
    """One of a few words standing for values (``rx``/``tx``)."""

    def __init__(self, words: dict) -> None:
        self.words = words

    def text(self, v):
        return next(w for w, x in self.words.items() if x == v)

    def parse(self, t):
        return self.words[t]


class RefCodec(Codec):
    """An id the backend chose, written as the name the script gave it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def parse(self, t):
        m = re.fullmatch(r"(fd|[smth])(\d+)", t)
        if not m or m[1] != self.kind:
            raise ScriptError(f"{t!r} is not a {self.kind}N name")
        return Ref(self.kind, int(m[2]))

    def sym(self, v, names):
        return names.ref(self.kind, v)

    def real(self, v, names):
        if v not in names.ids:
            raise ScriptError(f"{v} is used before a step made it")
        return names.ids[v]


class PortCodec(Codec):
    """``@s0`` (a named socket's portid) or a number (0: the kernel)."""

    def parse(self, t):
        return Port(RefCodec("s").parse(t[1:])) if t.startswith("@") else int(t, 0)

    def sym(self, v, names):
        ref = names.ports.get(v)
        return Port(ref) if ref is not None else v

    def real(self, v, names):
        return names.portids[v.sock] if isinstance(v, Port) else v


class DstCodec(Codec):
    """(portid, group mask): ``@s0``, ``0/4``."""

    port = PortCodec()

    def text(self, v):
        return self.port.text(v[0]) + (f"/{v[1]}" if v[1] else "")

    def parse(self, t):
        p, _, g = t.partition("/")
        return (self.port.parse(p), int(g, 0) if g else 0)

    def sym(self, v, names):
        return (self.port.sym(v[0], names), v[1])

    def real(self, v, names):
        return (self.port.real(v[0], names), v[1])


RUN = 8  # a byte repeated this often is written ab*N


class BytesCodec(Codec):
    """Hex with ``ab*N`` runs and ``??*N`` unspecified bytes, pieces joined by ``+``."""

    def text(self, v):
        if isinstance(v, Pattern):
            pieces, pos = [], 0
            for start, end in v.unknown:
                pieces += self._known(v.data[pos:start]) + [f"??*{end - start}"]
                pos = end
            pieces += self._known(v.data[pos:])
        else:
            pieces = self._known(v)
        return "+".join(pieces) or "''"

    @staticmethod
    def _known(data: bytes) -> list[str]:
        pieces, hexrun = [], ""
        for m in re.finditer(rb"(.)\1*", data, re.S):
            run = m[0]
            if len(run) >= RUN:
                pieces += [hexrun] if hexrun else []
                pieces.append(f"{run[0]:02x}*{len(run)}")
                hexrun = ""
            else:
                hexrun += run.hex()
        return pieces + ([hexrun] if hexrun else [])

    def parse(self, t):
        if t == "''":
            return b""
        data, unknown = bytearray(), []
        for piece in t.split("+"):
            if "*" in piece:
                b, n = piece.split("*")
                if b == "??":
                    unknown.append((len(data), len(data) + int(n)))
                    data += bytes(int(n))
                else:
                    data += bytes([int(b, 16)]) * int(n)
            else:
                data += bytes.fromhex(piece)
        return Pattern(bytes(data), tuple(unknown)) if unknown else bytes(data)

    def sym(self, v, names):
        data = names.rewrite(bytes(v), forward=True)
        pattern = getattr(v, "pattern", None)
        if pattern is None or pattern.known:
            return data
        blank = bytearray(data)
        for start, end in pattern.unknown:
            blank[start:end] = bytes(end - start)
        return Pattern(bytes(blank), tuple(pattern.unknown))

    def real(self, v, names):
        return names.rewrite(v, forward=False)


class RingReqCodec(Codec):
    """struct nl_mmap_req as C writes it: ``{block_size,block_nr,frame_size,frame_nr}``."""

    def text(self, v):
        return "{" + ",".join(str(x) for x in dataclasses.astuple(v)) + "}"

    def parse(self, t):
        m = re.fullmatch(r"\{(-?\d+),(-?\d+),(-?\d+),(-?\d+)\}", t)
        if not m:
            raise ScriptError(f"{t!r} is not {{block_size,block_nr,frame_size,frame_nr}}")
        return RingReq(*(int(x) for x in m.groups()))


STATUS = NamedInts(STATUS_NAMES)


class FrameCodec(Codec):
    """A frame header: ``VALID len=56`` (fields that are 0 left out, the sender's pid when
    it is this process ``pid=self``)."""

    FIELDS = ("len", "group", "pid", "uid", "gid")

    def text(self, v):
        out = [STATUS.text(v.status)]
        for f in self.FIELDS:
            x = getattr(v, f)
            if x:
                out.append(f"{f}={'self' if f == 'pid' and x == os.getpid() else x}")
        return " ".join(out)

    def parse(self, t):
        status, *fields = t.split()
        kv = dict(f.split("=", 1) for f in fields)
        if set(kv) - set(self.FIELDS):
            raise ScriptError(f"unknown frame header fields in {t!r}")
        return FrameHdr(STATUS.parse(status), *(
            os.getpid() if kv.get(f) == "self" else int(kv.get(f, "0"), 0)
            for f in self.FIELDS))


class Optional(Codec):
    def __init__(self, inner: Codec) -> None:
        self.inner = inner

    def text(self, v):
        return "none" if v is None else self.inner.text(v)

    def parse(self, t):
        return None if t == "none" else self.inner.parse(t)

    def sym(self, v, names):
        return None if v is None else self.inner.sym(v, names)

    def real(self, v, names):
        return None if v is None else self.inner.real(v, names)


class Either(Codec):
    """A union of types whose texts cannot be confused (``RingReq | bytes``)."""

    def __init__(self, members: list[tuple[type, Codec]]) -> None:
        self.members = members

    def _codec(self, v) -> Codec:
        return next(c for tp, c in self.members if isinstance(v, tp)
                    or tp is bytes and isinstance(v, Pattern))

    def text(self, v):
        return self._codec(v).text(v)

    def parse(self, t):
        for _tp, c in self.members:
            try:
                return c.parse(t)
            except (ValueError, KeyError):
                continue
        raise ScriptError(f"{t!r} is none of {[tp.__name__ for tp, _ in self.members]}")

    def sym(self, v, names):
        return self._codec(v).sym(v, names)

    def real(self, v, names):
        return self._codec(v).real(v, names)


class Sequence(Codec):
    """A list ``[a,b]`` or a tuple ``a b`` (tuples only as results: space separated)."""

    def __init__(self, items: list[Codec], tuple_: bool) -> None:
        self.items, self.tuple = items, tuple_

    def _each(self, v) -> list[Codec]:
        return self.items if self.tuple else self.items * len(v)

    def text(self, v):
        texts = [c.text(x) for c, x in zip(self._each(v), v, strict=True)]
        return " ".join(texts) if self.tuple else "[" + ",".join(texts) + "]"

    def parse(self, t):
        if self.tuple:
            return tuple(c.parse(x) for c, x in zip(self.items, t.split(), strict=True))
        if not (t.startswith("[") and t.endswith("]")):
            raise ScriptError(f"{t!r} is not a [list]")
        parts = t[1:-1].split(",") if t != "[]" else []
        return [self.items[0].parse(x) for x in parts]

    def sym(self, v, names):
        out = [c.sym(x, names) for c, x in zip(self._each(v), v, strict=True)]
        return tuple(out) if self.tuple else out

    def real(self, v, names):
        out = [c.real(x, names) for c, x in zip(self._each(v), v, strict=True)]
        return tuple(out) if self.tuple else out


class Done(Codec):
    """The result of an operation that returns nothing."""

    def text(self, v):
        return "ok"

    def parse(self, t):
        if t != "ok":
            raise ScriptError(f"{t!r}: this operation returns nothing (ok)")


POLL_BITS = {POLLIN: "IN", POLLOUT: "OUT", POLLERR: "ERR", POLLRDNORM: "RDNORM",
             POLLWRNORM: "WRNORM"}
CODECS: dict[Any, Codec] = {
    int: IntCodec(), bool: BoolCodec(), bytes: BytesCodec(), RingReq: RingReqCodec(),
    FrameHdr: FrameCodec(), type(None): Done(),
    Sock: RefCodec("s"), Map: RefCodec("m"), Fd: RefCodec("fd"), Task: RefCodec("t"),
    Handle: RefCodec("h"), Portid: PortCodec(), Dst: DstCodec(),
    Ring: Choice({"rx": "rx", "tx": "tx"}), IsTx: Choice({"rx": False, "tx": True}),
    Status: STATUS, Errno: NamedInts(errno.errorcode),
    Proto: NamedInts({NETLINK_ROUTE: "route", NETLINK_USERSOCK: "usersock",
                      NETLINK_NETFILTER: "netfilter", NETLINK_GENERIC: "generic"}),
    PollMask: Flags(POLL_BITS),
}


def codec(tp) -> Codec:
    """The text form of an annotated type (KeyError: the type has none)."""
    if tp in CODECS:
        return CODECS[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        inner = codec(rest[0]) if len(rest) == 1 else Either([(a, codec(a)) for a in rest])
        return Optional(inner) if len(rest) < len(args) else inner
    if origin in (tuple, list):
        return Sequence([codec(a) for a in args], origin is tuple)
    raise KeyError(f"no text form for {tp!r}")


# -- operations --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Param:
    name: str
    codec: Codec
    default: Any  # inspect.Parameter.empty: required


@dataclasses.dataclass(frozen=True)
class Signature:
    params: tuple[Param, ...]
    result: Codec
    binds: str | None  # the kind of id the result names (socket() -> s)


def signature(fn) -> Signature:
    """The text form of an operation, from its annotations (KeyError: a type has none)."""
    hints = typing.get_type_hints(fn)
    params = tuple(Param(p.name, codec(hints[p.name]), p.default)
                   for p in list(inspect.signature(fn).parameters.values())[1:])
    result = codec(hints["return"])
    return Signature(params, result, result.kind if isinstance(result, RefCodec) else None)


SIGNATURES = {op: signature(getattr(Backend, op)) for op in operations()}
READS = frozenset(operations(READ))  # memory reads: no decisions to compare after them


def _arg_forms(sig: Signature) -> tuple:
    """Per parameter: name, required, default, and the codec's ``sym`` (None where the
    value is its own symbolic form). Names.step runs for every recorded call (~20 per
    differential step); this spares it the per-parameter lookups."""
    return tuple((p.name, p.default is inspect.Parameter.empty, p.default,
                  None if type(p.codec).sym is Codec.sym else p.codec.sym)
                 for p in sig.params)


ARG_FORMS = {op: _arg_forms(sig) for op, sig in SIGNATURES.items()}


@dataclasses.dataclass
class Step:
    """One line: operation, arguments (symbolic, by parameter name; optional ones only
    when not their default) and the expected outcome: ("ok", value), ("err", errno) or
    None (not checked). A step of a differential plan (differential.plan) also carries
    the model's tracepoint decisions (``Names.events`` text; None: not checked) and the
    rules it decided the step by, counted into the rule tally once the kernel agreed."""

    op: str
    args: dict[str, Any]
    result: tuple | None = None
    events: str | None = None
    rules: frozenset = frozenset()

    def __str__(self) -> str:
        return format_step(self)


def format_step(step: Step) -> str:
    sig = SIGNATURES[step.op]
    out = [step.op]
    for p in sig.params:
        if p.name in step.args:
            t = p.codec.text(step.args[p.name])
            out.append(t if p.default is inspect.Parameter.empty else f"{p.name}={t}")
    if step.result is not None:
        kind, v = step.result
        out += ["=", f"-1 {errno.errorcode.get(v, v)}" if kind == "err" else sig.result.text(v)]
    return " ".join(out)


def parse_step(line: str) -> Step:
    toks = line.split()
    if not toks or toks[0] not in SIGNATURES:
        raise ScriptError(f"unknown operation in {line!r}")
    sig = SIGNATURES[toks[0]]
    result = None
    if "=" in toks:
        i = toks.index("=")
        toks, rtext = toks[:i], " ".join(toks[i + 1:])
        m = re.fullmatch(r"-1 (E[A-Z0-9]+|\d+)", rtext)
        if m:
            result = ("err", getattr(errno, m[1], None) or int(m[1]))
        else:
            result = ("ok", sig.result.parse(rtext))
    required = [p for p in sig.params if p.default is inspect.Parameter.empty]
    byname = {p.name: p for p in sig.params}
    pos = [t for t in toks[1:] if not re.match(r"[a-z_]+=", t)]
    if len(pos) != len(required):
        raise ScriptError(f"{toks[0]} takes {len(required)} arguments before the named "
                          f"ones ({' '.join(p.name for p in required)}): {line!r}")
    args = {p.name: p.codec.parse(t) for p, t in zip(required, pos, strict=True)}
    for t in toks[1 + len(pos):]:
        name, _, value = t.partition("=")
        if name not in byname or name in args:
            raise ScriptError(f"{toks[0]} has no optional parameter {name!r}: {line!r}")
        args[name] = byname[name].codec.parse(value)
    return Step(toks[0], args, result)


def parse(text: str) -> list[Step]:
    """The steps of a script (``#`` starts a comment)."""
    steps = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            try:
                steps.append(parse_step(line))
            except (ScriptError, ValueError, KeyError) as e:
                raise ScriptError(f"line {n}: {e}") from None
    return steps


def header(text: str) -> list[str]:
    """The leading comment lines of a script, without ``#``."""
    return [ln[1:].strip() for ln in takewhile(lambda ln: ln.startswith("#"),
                                                text.splitlines())]


def render(steps: list[Step], comments: list[str] = ()) -> str:
    return "".join(f"# {c}\n".replace("# \n", "#\n") for c in comments) + "".join(
        f"{s}\n" for s in steps)


# -- symbolic <-> a backend's values -------------------------------------------------------

class Names:
    """The names of one run's ids and what they stand for on its backend (``b`` answers
    ``portid`` and ``kernel_handle``)."""

    def __init__(self, b: Backend) -> None:
        self.b = b
        self.ids: dict[Ref, int] = {}
        self.refs: dict[tuple[str, int], Ref] = {}
        self.portids: dict[Ref, int] = {}
        self.ports: dict[int, Ref] = {}  # portid -> the first socket bound to it
        # canonical number of hN (N + 1) -> the driver's number for it; a kernel reuses
        # the numbers of messages sent or freed, so the reverse is not a function
        self.handles: dict[int, int] = {}
        self.count: Counter = Counter()

    def ref(self, kind: str, v: int) -> Ref:
        try:
            return self.refs[kind, v]
        except KeyError:
            raise ScriptError(f"{kind} id {v} was not made by a recorded step") from None

    def bind(self, kind: str, v: int, ref: Ref | None = None) -> Ref:
        ref = ref or Ref(kind, self.count[kind])
        self.count[kind] = max(self.count[kind], ref.n + 1)
        self.ids[ref] = v
        self.refs[kind, v] = ref
        if kind == "s":
            self.portids[ref] = p = self.b.portid(v)
            self.ports.setdefault(p, ref)
        elif kind == "h":
            self.handles[ref.n + 1] = self.b.kernel_handle(v)
        return ref

    def step(self, op: str, args: tuple, kw: dict) -> Step:
        """The step of a call as the backend saw it (result not yet known)."""
        out = {}
        n = len(args)
        for i, (name, required, default, sym) in enumerate(ARG_FORMS[op]):
            v = args[i] if i < n else kw.get(name, default)
            if required or v != default:
                out[name] = v if sym is None else sym(v, self)
        return Step(op, out)

    def outcome(self, op: str, outcome: tuple, expect: tuple | None = None) -> tuple:
        """The symbolic form of a call's ("ok", value) / ("err", errno); an id it made is
        bound to ``expect``'s name if given, else to the next free one."""
        sig = SIGNATURES[op]
        if outcome[0] == "err":
            return outcome
        if sig.binds:
            named = expect[1] if expect and expect[0] == "ok" else None
            return ("ok", self.bind(sig.binds, outcome[1], named))
        return ("ok", sig.result.sym(outcome[1], self))

    def call(self, step: Step) -> tuple[list, dict]:
        """Positional and keyword arguments of a step on this backend."""
        sig = SIGNATURES[step.op]
        args, kw = [], {}
        for p in sig.params:
            if p.name in step.args:
                v = p.codec.real(step.args[p.name], self)
                if p.default is inspect.Parameter.empty:
                    args.append(v)
                else:
                    kw[p.name] = v
        return args, kw

    def agree(self, step: Step, got: tuple, raw: tuple) -> bool:
        """Does a call's outcome (``got`` symbolic, ``raw`` as the backend gave it) meet
        the step's expected one? A message held under a driver number the kernel gave
        again to a later message is canonical only in the backend's numbers: the expected
        bytes are compared once more with the canonical numbers mapped back."""
        kind, want = step.result
        if got[0] != kind:
            return False
        if same(want, got[1]):
            return True
        if kind != "ok" or not self.handles or not isinstance(raw[1], bytes):
            return False
        real = self.rewrite(bytes(want), forward=False)
        return same(Pattern(real, want.unknown) if isinstance(want, Pattern) else real, raw[1])

    def events(self, evs: list) -> str:
        """Trace decisions (model.outcome.Event), sockets by name."""
        return "; ".join(f"{e.kind} {self.refs.get(('s', e.sock), e.sock)} {e.decision}/"
                         f"{e.reason} frame={e.frame} len={e.len}" for e in evs) or "none"

    def rewrite(self, data: bytes, forward: bool) -> bytes:
        """Netlink messages in ``data`` with this run's portids, driver handle numbers and
        driver family id (in the request an error or ACK echoes) replaced by the
        canonical ones (``forward``) or back."""
        ports = {p: CANON_PORT + ref.n for p, ref in self.ports.items()}
        handles = {k: c for c, k in self.handles.items()}  # a reused number: its latest
        family = self.b.drv_family()
        families = {} if family in (None, CANON_FAMILY) else {family: CANON_FAMILY}
        if not forward:
            ports = {v: k for k, v in ports.items()}
            handles = dict(self.handles)
            families = {v: k for k, v in families.items()}
        if not ports and not handles and not families:
            return data
        out = bytearray(data)
        off = 0
        while off + 16 <= len(out):
            ln, typ, _flags, seq, pid = struct.unpack_from("=IHHII", out, off)
            if ln < 16:
                break
            if pid in ports:
                struct.pack_into("=I", out, off + 12, ports[pid])
            if typ == NLMSG_ERROR and min(ln, len(out) - off) >= ECHO_TYPE + 2:
                echoed = struct.unpack_from("=H", out, off + ECHO_TYPE)[0]
                if echoed in families:
                    struct.pack_into("=H", out, off + ECHO_TYPE, families[echoed])
            if typ == HELD_TYPE and seq in handles:
                new = handles[seq]
                struct.pack_into("=I", out, off + 8, new)
                body = out[off + 16:off + ln]
                if body == bytes([seq & 0xFF]) * len(body):
                    out[off + 16:off + 16 + len(body)] = bytes([new & 0xFF]) * len(body)
            off += (ln + 3) & ~3
        return bytes(out)


def same(expect, actual) -> bool:
    """Does an actual symbolic value meet the expected one (unspecified bytes match
    anything)?"""
    if isinstance(expect, Pattern) or isinstance(actual, Pattern):
        e = expect if isinstance(expect, Pattern) else Pattern(expect)
        a = actual if isinstance(actual, Pattern) else Pattern(actual)
        return len(e.data) == len(a.data) and e.matches(a.data) and a.matches(e.data)
    return expect == actual


def outcome_text(op: str, outcome: tuple) -> str:
    return format_step(Step(op, {}, outcome)).split(" = ", 1)[1]


class Mismatch(AssertionError):
    """``step`` (1-based) of the script differs."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step


def run(steps: list[Step], b: Backend, tally=None) -> list[Step]:
    """Run ``steps`` on ``b``, checking each expected result and tracepoint decisions;
    returns the steps with the results ``b`` gave. A result that differs raises
    :class:`Mismatch` with the script so far. ``tally`` (coverage.Tally) counts each
    agreed step for its rules."""
    names = Names(b)
    done: list[Step] = []
    for n, step in enumerate(steps, 1):
        args, kw = names.call(step)
        try:
            out = ("ok", getattr(b, step.op)(*args, **kw))
        except OSError as e:
            out = ("err", e.errno)
        got = names.outcome(step.op, out, step.result)
        if step.result is not None and not names.agree(step, got, out):
            raise Mismatch(f"step {n} differs on {b.name}:\n  {step}\n  got: "
                           f"{outcome_text(step.op, got)}\nscript so far:\n  "
                           + "\n  ".join(map(str, done)), n)
        if step.events is not None:
            seen = names.events(b.events())
            if seen != step.events:
                raise Mismatch(f"tracepoint decisions differ on {b.name} after step {n}:\n"
                               f"  {step}\n  got:      {seen}\n  expected: {step.events}\n"
                               "script so far:\n  " + "\n  ".join(map(str, done)), n)
        if tally is not None:
            tally.add(step.rules)
        done.append(Step(step.op, step.args, got))
    return done


class Recorder:
    """Proxy that writes every declared operation called through it as a step (its
    result as the wrapped backend answered it) and forwards everything. With
    ``observe`` (the model, making a differential plan) a step also keeps the backend's
    tracepoint decisions (of an ACT operation) and the rules it applied."""

    def __init__(self, backend: Backend, observe: bool = False) -> None:
        self.b = backend
        self.names = Names(backend)
        self.steps: list[Step] = []
        self.observe = observe

    def __getattr__(self, name):
        attr = getattr(self.b, name)
        if name not in SIGNATURES:
            return attr

        acts = name not in READS

        def call(*args, **kw):
            step = self.names.step(name, args, kw)
            self.steps.append(step)
            try:
                r = attr(*args, **kw)
            except OSError as e:
                step.result = ("err", e.errno)
                raise
            finally:
                if self.observe:
                    if acts:
                        step.events = self.names.events(self.b.events())
                    step.rules = self.b.rules()
            step.result = self.names.outcome(name, ("ok", r))
            return r
        call.__name__ = name
        # kept: __getattr__ runs only for names not found, so the next call goes straight
        # to the recording wrapper (the differential makes ~20 calls a step)
        setattr(self, name, call)
        return call

    def script(self, comments: list[str] = ()) -> str:
        return render(self.steps, comments)
