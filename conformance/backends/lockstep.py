"""Run every operation on the kernel and on the model, compare, return the kernel's.

This is the kernel-side ``backend`` fixture: each scenario asserts its story on the
kernel's results, and in addition every call (result or errno, frame headers and bytes,
poll masks, queued messages) and every tracepoint decision is compared with the model's
prediction. The first disagreement raises :class:`Divergence` naming the call and the
rules the model applied to decide it; every agreement is counted for those rules
(``tally``, conformance/coverage.py).
"""

from __future__ import annotations

import abc

from ..coverage import Tally
from ..script import READS, Names, outcome_text
from .base import ACT, READ, Backend, err, operations


class Divergence(AssertionError):
    pass


def _outcome(fn, *args, **kw):
    try:
        return ("ok", fn(*args, **kw))
    except OSError as e:
        return ("err", e.errno)


def translate_held(data: bytes, hmap: dict[int, int]) -> bytes:
    """Rewrite the test driver's held messages (type 0x7ff0, seq = handle, payload filled
    with handle & 0xff) from the kernel's handle numbers to the model's, so that bytes
    can be compared although the two number their handles independently."""
    import struct

    from ..genl import HELD_TYPE
    out = bytearray(data)
    off = 0
    while off + 16 <= len(out):
        ln, t, _f, seq, _pid = struct.unpack_from("=IHHII", out, off)
        if ln < 16 or off + ln > len(out):
            break
        if t == HELD_TYPE and seq in hmap:
            new = hmap[seq]
            struct.pack_into("=I", out, off + 8, new)
            body = out[off + 16:off + ln]
            if body == bytes([seq & 0xFF]) * len(body):
                out[off + 16:off + ln] = bytes([new & 0xFF]) * len(body)
        off += (ln + 3) & ~3
    return bytes(out)


def _decided(rules) -> str:
    """The divergence message's line naming the model's rules: built only on a
    divergence, not for each of the ~20 agreed operations of a differential step."""
    return f"the model decided it by: {' '.join(sorted(rules)) or 'no rule'}\n"


def _forward(name: str):
    def call(self, *a, **kw):
        return self._call(name, *a, **kw)
    call.__name__ = name
    return call


def forwarding(cls):
    """Give ``cls`` a comparing forwarder for every ACT and READ operation it does not
    implement itself; what stays abstract then is a real gap."""
    for name in {**operations(ACT), **operations(READ)}:
        if name not in vars(cls):
            setattr(cls, name, _forward(name))
    return abc.update_abstractmethods(cls)


@forwarding
class Lockstep(Backend):
    """``model`` is a :class:`~conformance.backends.model.ModelBackend` (its ``rules()``);
    ``tally`` collects the agreements (a fresh one by default)."""

    def __init__(self, kernel: Backend, model: Backend, log: list | None = None,
                 tally: Tally | None = None) -> None:
        self.k = kernel
        self.m = model
        self.name = f"{kernel.name}+{model.name}"
        self.log = log if log is not None else []  # the steps so far but reads (script.Step)
        self.names = Names(model)
        self.tally = tally if tally is not None else Tally()
        self._events: list = []
        self.hmap: dict[int, int] = {}  # driver handle: kernel's number -> model's number

    def _model(self, fn, *args, **kw):
        """The model's outcome of one operation and the rules it applied to decide it."""
        self.m.rules()  # left over by an operation that raised (Blocked, NotModelled)
        mo = _outcome(fn, *args, **kw)
        return mo, self.m.rules()

    def _call(self, name: str, *args, **kw):
        ko = _outcome(getattr(self.k, name), *args, **kw)
        mo, rules = self._model(getattr(self.m, name), *args, **kw)
        self._compare(name, args, ko, mo, rules, kw)
        if ko[0] == "err":
            raise err(ko[1])
        return ko[1]

    def _step(self, name, args, kw, mo):
        step = self.names.step(name, args, kw or {})
        step.result = self.names.outcome(name, mo)  # the model's: what a script expects
        return step

    def _steps(self, read: bool) -> str:
        """The script before the diverging operation (a read is not in the log)."""
        return "\n  ".join(map(str, self.log if read else self.log[:-1]))

    def _compare(self, name, args, ko, mo, rules, kw=None) -> None:
        read = name in READS
        if not read:  # a read's step is written only into a divergence message
            self.log.append(self._step(name, args, kw, mo))
        kt = ko
        if ko[0] == "ok" and isinstance(ko[1], bytes) and self.hmap:
            kt = ("ok", translate_held(ko[1], self.hmap))
        if not self.m.accepts(name, args, kt, mo):
            step = self._step(name, args, kw, mo) if read else self.log[-1]
            got = outcome_text(name, self.names.outcome(name, ko))
            raise Divergence(f"kernel and model disagree on\n  {step}\n  kernel: {got}\n"
                             f"{_decided(rules)}script so far (reads left out):\n  "
                             + self._steps(read))
        if not read:
            ke, me = self.k.events(), self.m.events()
            if ke != me:
                raise Divergence(f"tracepoint decisions differ after\n  {self.log[-1]}\n  "
                                 f"kernel: {self.names.events(ke)}\n  model:  "
                                 f"{self.names.events(me)}\n{_decided(rules)}script so far "
                                 "(reads left out):\n  " + self._steps(read))
            self._events.extend(ke)
        self.tally.add(rules)

    # every other ACT/READ operation is forwarded to both and compared (@forwarding)
    def drv_alloc(self, dst, size):
        ko = _outcome(self.k.drv_alloc, dst, size)
        handle = self.k.kernel_handle(ko[1]) if ko[0] == "ok" else None
        mo, rules = self._model(self.m.drv_alloc, dst, size, handle=handle)
        if handle is not None and mo[0] == "ok":
            self.hmap[handle] = self.m.kernel_handle(mo[1])
        self._compare("drv_alloc", (dst, size), ko, mo, rules)
        if ko[0] == "err":
            raise err(ko[1])
        return ko[1]

    def kernel_handle(self, h):
        return self.k.kernel_handle(h)

    def drv_family(self):
        return self.k.drv_family()

    def dump_request(self, s, seq, count, size):
        return self.k.dump_request(s, seq, count, size)

    def events(self):
        """The kernel's decisions since the last call (already compared with the model)."""
        out, self._events = self._events, []
        return out

    def close_all(self):
        try:
            self.k.close_all()
        finally:
            self.m.close_all()

