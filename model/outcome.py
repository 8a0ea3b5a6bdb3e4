"""Values the model returns: outcomes, trace events, byte patterns, and exceptions.

A ``Pattern`` is how the model says "any of these byte strings is allowed" (SibylFS
style): port decision D6 leaves the payload of a RESERVED frame unspecified, so reads
return known bytes plus unknown ranges instead of a single value.
"""

from __future__ import annotations

import errno
import functools
from typing import NamedTuple


class Event(NamedTuple):
    """A tracepoint decision (patches/INTERFACES.md), the one event type of the project:
    the model predicts it, conformance/genl.py parses the kernel's, backends compare them.
    ``sock`` is the socket as the tracepoint names it (its portid); ``Backend.events()``
    renumbers it to the backend's socket id. For ``kind == "tx"`` the decision is the
    mode, always ``copy`` (D16), and the reason D2's exclusivity classification."""

    kind: str
    sock: int
    decision: str
    reason: str
    frame: int
    len: int


class Outcome(NamedTuple):
    """Result of one operation: ``value`` on success, positive ``err`` on failure, and
    the trace events the operation emitted."""

    value: object = None
    err: int = 0
    events: tuple = ()

    @property
    def ok(self) -> bool:
        return self.err == 0


class Pattern(NamedTuple):
    """Bytes with unspecified ranges ``unknown`` = ((start, end), ...)."""

    data: bytes
    unknown: tuple = ()

    @property
    def known(self) -> bool:
        return not self.unknown

    def __bytes__(self) -> bytes:
        return self.data

    def matches(self, actual: bytes) -> bool:
        if len(actual) != len(self.data):
            return False
        pos = 0
        for start, end in self.unknown:
            if actual[pos:start] != self.data[pos:start]:
                return False
            pos = end
        return actual[pos:] == self.data[pos:]


class Blocked(Exception):
    """A blocking call would sleep forever in a sequential model."""


class NotModelled(Exception):
    """The model cannot predict this request (e.g. a real rtnetlink dump)."""


class Failed(OSError):
    """An errno found before the operation did anything; ``op`` turns it into an
    Outcome (plain-value methods let it propagate as an OSError)."""

    def __init__(self, err: int) -> None:
        super().__init__(err, errno.errorcode.get(err, str(err)))


def op(fn):
    """Operation wrapper: an up-front ``Failed`` errno becomes ``Outcome(None, errno)``."""
    @functools.wraps(fn)
    def wrapper(self, *args, **kw):
        try:
            return fn(self, *args, **kw)
        except Failed as e:
            return Outcome(None, e.errno)
    return wrapper
