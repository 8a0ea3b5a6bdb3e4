"""Deliberately broken implementations, for checking that the suite catches them.

A mutant is the model with one rule changed the way a faulty patch would change it; it
plays the kernel's part against the unmodified model in :class:`Lockstep`
(``make_backend("mutant:NAME")``). While no patched kernel is at hand this shows the
scenarios and the differential machine detect a broken port and shrink it to a short
replayable sequence; ``python -m conformance replay FILE --backend mutant:NAME``."""

from __future__ import annotations

import dataclasses

from model.seams import Seams
from model.uapi import NETLINK_ROUTE, UNUSED

from .model import ModelBackend


def _no_exclusivity(orig):
    """The seed's bug D2 fixes: no exclusivity test at all. Since D16 every send copies
    anyway, so the visible damage is the tracepoint: threads, dup, fork and a second
    mapping are all reported `exclusive`."""
    def exclusivity(sk, task, dst_portid, dst_group, file):
        return "dst_not_kernel" if dst_portid or dst_group else "exclusive"
    return exclusivity


def _no_file_exclusivity(orig):
    """The model twin of conformance/kernel-mutants/no-file-exclusivity: the file
    reference count is not checked, so a dup()ed descriptor is reported `exclusive`
    instead of `file_shared`."""
    def exclusivity(sk, task, dst_portid, dst_group, file):
        return orig(sk, task, dst_portid, dst_group, _Unshared(file))
    return exclusivity


def _zero_copy_kept(orig):
    """The zero-copy patch left in the series although D16 dropped it: an exclusive
    NETLINK_ROUTE ring send is reported `zerocopy` (D7/D8 as they were)."""
    def ring_send(w, task, sk, *args):
        start = len(w.trace)
        r = orig(w, task, sk, *args)
        if sk.proto == NETLINK_ROUTE:
            w.trace[start:] = [e._replace(decision="zerocopy")
                               if e.kind == "tx" and e.reason == "exclusive" else e
                               for e in w.trace[start:]]
        return r
    return ring_send


class _Unshared:
    """A file whose descriptor count always reads 1."""
    fd_refs = 1

    def __init__(self, file) -> None:
        self._file = file

    def __getattr__(self, name):
        return getattr(self._file, name)


def _dump_space_3_10(orig):
    """The 3.10 off-by-one (bug history 1.4): wrap by subtracting frame_max, not N."""
    def space(ring):
        fmax = ring.frame_nr - 1
        n = ring.head + fmax // 2
        if n > fmax:
            n -= fmax
        return ring.status(ring.head) == UNUSED and ring.status(n) == UNUSED
    return space


MUTANTS = {  # name -> (the seam it replaces, how: original -> replacement)
    "no_exclusivity": ("exclusivity", _no_exclusivity),
    "no_file_exclusivity": ("exclusivity", _no_file_exclusivity),
    "zero_copy_kept": ("ring_send", _zero_copy_kept),
    "dump_space_3_10": ("dump_space", _dump_space_3_10),
}


def mutated(mutant: str) -> Seams:
    """The model's seams with ``mutant``'s one change."""
    if mutant not in MUTANTS:
        raise ValueError(f"unknown mutant {mutant!r}; known: {', '.join(MUTANTS)}")
    seam, make = MUTANTS[mutant]
    return dataclasses.replace(Seams(), **{seam: make(getattr(Seams(), seam))})


class MutantBackend(ModelBackend):
    def __init__(self, mutant: str, **kw) -> None:
        super().__init__(seams=mutated(mutant), **kw)
        self.name = f"mutant:{mutant}"
