"""Differential plans: the machine's sequences drawn on the model (differential.plan),
each backend call kept with the model's result, tracepoint decisions and rules; run
later on a backend (the kernel) with every call compared.

The machine's choices depend on what it reads back (frame statuses, portids); up to the
first disagreement the kernel's answers are the model's, so a plan reaches the same first
divergence a lockstep run would. The gate draws the plan on the host before the boot:
drawing and the model cost the guest, whose Python runs ~7x slower under TCG, about half
of its time per step. A failure is not shrunk: its reproducer is the sequence up to the
call that differed. Nothing here imports hypothesis.
"""

from __future__ import annotations

import os
import pickle
from typing import NamedTuple

from .backends import make_backend
from .replay import save
from .rundir import results_dir
from .script import SUFFIX, Mismatch, Step
from .workers import Progress, Stopped, parallel, workers

PLAN_ENV = "NLMMAP_DIFF_PLAN"


class Example(NamedTuple):
    """One sequence of a plan: its machine steps and its backend calls, each with the
    model's result, tracepoint decisions and rules (script.Step)."""

    steps: int
    calls: list[Step]


def save_plan(path: str, examples: list[Example], seed: int) -> None:
    """Pickle the plan with equal calls (and equal values within calls) as one object:
    most calls are the same frame-header reads, and the guest loads each only once
    (10,000 steps: 22 MB and 1.1 s to load on the host before, see patches/TESTING.md)."""
    memo: dict = {}
    calls = [Example(ex.steps, [_shared_call(c, memo) for c in ex.calls]) for ex in examples]
    with open(path, "wb") as f:
        pickle.dump({"seed": seed, "examples": calls}, f, protocol=pickle.HIGHEST_PROTOCOL)


def _shared(v, memo: dict):
    """The first object seen equal to ``v`` (lists and tuples by their shared items)."""
    if isinstance(v, (list, tuple)) and not hasattr(v, "_fields"):
        items = [_shared(x, memo) for x in v]
        key = (type(v), *map(id, items))  # the memo keeps the items (and so their ids)
        return memo.setdefault(key, items if isinstance(v, list) else tuple(items))
    try:
        return memo.setdefault((type(v), v), v)
    except TypeError:  # unhashable (a byte pattern): kept as it is
        return v


def _shared_call(c: Step, memo: dict) -> Step:
    args = tuple((k, _shared(v, memo)) for k, v in c.args.items())
    result = _shared(c.result, memo)
    key = (Step, c.op, args, id(result), c.events, c.rules)
    if key not in memo:
        memo[key] = Step(c.op, dict(args), result, c.events, _shared(c.rules, memo))
    return memo[key]


def load_plan(path: str) -> tuple[list[Example], int]:
    """(sequences, seed) of a plan file written by :func:`save_plan` (the gate's host)."""
    with open(path, "rb") as f:
        doc = pickle.load(f)
    return doc["examples"], doc["seed"]


def execute(examples: list[Example], make=None, progress=None,
            n: int | None = None) -> Progress:
    """Run a plan's sequences, each on a fresh backend from ``make()`` (default: the
    kernel, unchecked: the plan holds the model's side), every call's result and
    decisions compared (script.run), agreed
    rules counted into the session's tally; the sequences dealt round-robin to ``n``
    forked workers (default :func:`workers`). The first difference fails with the
    sequence up to it written as a reproducer."""
    n = n or workers()

    def run_share(done: Progress, k: int, stop) -> None:
        from . import script
        from .coverage import RAN

        for ex in examples[k::n]:
            if stop is not None and stop.is_set():
                raise Stopped
            b = make() if make else make_backend("kernel-only")
            try:
                script.run(ex.calls, b, tally=RAN)
            except Mismatch as e:
                raise AssertionError(_save_planned(ex.calls[:e.step], str(e), k)) from None
            finally:
                b.close_all()
            done.errors.update((c.op, c.result[1]) for c in ex.calls
                               if c.result is not None and c.result[0] == "err")
            done.count(ex.steps, ex.calls)

    if n == 1:
        done = Progress(progress)
        run_share(done, 0, None)
        return done
    return parallel(run_share, n, "kernel", progress)


def _save_planned(calls: list[Step], error: str, k: int) -> str:
    """Write a planned sequence up to its failing call (with the model's results) as the
    kernel's reproducer of worker ``k``; returns the failure message naming it."""
    path = save(calls, error, "kernel",
                os.path.join(results_dir(), f"nlmmap-repro-kernel{SUFFIX}.{k}"))
    return f"{error}\nreplayable sequence written to {path}"
