"""Recording and replaying sequences of backend operations.

A :class:`Recorder` wraps a backend and logs every call as ``[method, args]`` with JSON-able
arguments; :func:`save` writes the log, :func:`replay` re-runs it on a fresh backend
(``model``, or ``kernel`` = kernel checked against the model in lockstep)::

    python -m conformance replay FILE [--backend model|kernel]
"""

from __future__ import annotations

import json
import os
import time

from .backends import make_backend
from .backends.base import Backend, operations
from .rundir import results_dir
from .uapi import RingReq

RECORDED = frozenset(operations())  # every declared operation, observations included


def _enc(v):
    if isinstance(v, RingReq):
        return {"RingReq": [v.block_size, v.block_nr, v.frame_size, v.frame_nr]}
    if isinstance(v, bytes | bytearray):
        return {"bytes": bytes(v).hex()}
    if isinstance(v, tuple | list):
        return {"tuple": [_enc(x) for x in v]}
    return v


def _dec(v):
    if isinstance(v, dict):
        if "RingReq" in v:
            return RingReq(*v["RingReq"])
        if "bytes" in v:
            return bytes.fromhex(v["bytes"])
        if "tuple" in v:
            return tuple(_dec(x) for x in v["tuple"])
    return v


class Recorder:
    """Proxy that records every declared operation (observations included, so a replay
    compares the same things) and forwards everything."""

    def __init__(self, backend: Backend) -> None:
        self.b = backend
        self.ops: list[list] = []

    def __getattr__(self, name):
        attr = getattr(self.b, name)
        if name not in RECORDED:
            return attr

        def call(*args):
            self.ops.append([name, [_enc(a) for a in args]])
            return attr(*args)
        call.__name__ = name
        return call


def save(ops: list[list], error: str, backend: str, path: str | None = None) -> str:
    if path is None:
        path = os.path.join(results_dir(), f"nlmmap-repro-{backend}-{int(time.time())}.json")
    with open(path, "w") as f:
        json.dump({"backend": backend, "error": error, "ops": ops}, f, indent=1)
    return path


def replay(path: str, backend: str | None = None, verbose: bool = True) -> int:
    """Re-run a recorded sequence. Returns 0 if it runs clean, 1 if it fails again."""
    with open(path) as f:
        doc = json.load(f)
    name = backend or doc.get("backend", "model")
    b = make_backend(name)
    try:
        for i, (op, args) in enumerate(doc["ops"]):
            args = [_dec(a) for a in args]
            try:
                r = getattr(b, op)(*args)
                out = f"-> {r!r}"
            except OSError as e:
                out = f"-> OSError {e.errno}"
            if verbose:
                print(f"{i:4d} {op}{tuple(args)!r} {out}")
    except AssertionError as e:
        print(f"FAILED on {name}: {e}")
        return 1
    finally:
        b.close_all()
    print(f"replay of {len(doc['ops'])} operations on {name}: no divergence")
    return 0
