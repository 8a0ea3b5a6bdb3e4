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

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from .backends import make_backend
from .replay import save
from .rundir import results_dir
from .script import SUFFIX, Mismatch, Step
from .workers import Progress, Stopped, parallel, workers

PLAN_ENV = "NLMMAP_DIFF_PLAN"
BESIDE_ENV = "NLMMAP_DIFF_BESIDE"  # 1: run the plan beside the suite (Beside)
# the plan run beside the suite binds portids here, far from the suite's (0x4E4D0000 on)
BESIDE_PORTS = (0x564D0000, 0x574D0000)


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
    except TypeError:  # unhashable: kept as it is
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
    decisions compared (script.run), agreed rules counted into the session's tally; the
    sequences dealt round-robin to ``n`` forked workers (default :func:`workers`). The
    first difference fails with the sequence up to it written as a reproducer."""
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


def run_beside(plan_path: str, result_path: str, backend: str = "kernel-only") -> int:
    """``python -m conformance execute``: run a plan as :class:`Beside` starts it, in a
    network namespace of its own (the suite's checks of /proc/net/netlink and socket
    dumps do not see its sockets), at SCHED_IDLE (it takes only CPU time the suite leaves
    idle: the suite's time-bound races keep theirs), with portids and a trace filter
    apart from the suite's. Writes the outcome as JSON for :meth:`Beside.wait`.
    ``backend``: what runs the plan (the host's tests use the model)."""
    from .backends.base import confine_ports
    from .coverage import RAN
    from .netsetup import unshare_net

    unshare_net()
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    confine_ports(*BESIDE_PORTS)
    examples, seed = load_plan(plan_path)
    out = {"seed": seed, "sequences": len(examples), "netns": os.stat("/proc/self/ns/net").st_ino,
           "policy": os.sched_getscheduler(0)}
    t0 = time.monotonic()
    try:
        done = execute(examples, make=lambda: make_backend(backend),
                       progress=lambda line: print(line, flush=True))
        out.update(steps=done.steps, examples=done.examples, ops=done.ops,
                   errors=[[op, e, n] for (op, e), n in done.errors.items()],
                   tally=[RAN.ops, RAN.agreed])
    except AssertionError as e:
        out["failure"] = str(e)
    out["seconds"] = time.monotonic() - t0
    tmp = f"{result_path}.tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, result_path)
    return 0


class Beside:
    """The gate's differential plan run beside the suite (started by conformance/
    conftest.py at configure time, with ``NLMMAP_DIFF_BESIDE=1``): the suite's
    single-threaded tests leave a vCPU idle most of the time, and a plan needs no
    pytest. Tests that measure system-wide state are marked ``alone`` and run after
    the differential test has waited for it."""

    def __init__(self, plan_path: str, run_dir: str, backend: str = "kernel-only") -> None:
        self.result = Path(run_dir) / "differential-beside.json"
        self.log = Path(run_dir) / "differential-beside.log"
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "conformance", "execute", plan_path,
                 "--result", str(self.result), "--backend", backend],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                cwd=Path(__file__).resolve().parent.parent)

    def wait(self, say) -> Progress:
        """Wait for the run, passing its progress lines to ``say`` as they come (a
        stalled run falls silent, and the gate's silence timeout judges it); returns its
        counts, its tally added to this process' rule tally; raises its failure."""
        from .coverage import RAN, Tally

        seen = 0
        while True:
            ended = self.proc.poll() is not None
            lines = self.log.read_text().splitlines()
            for line in lines[seen:]:
                say(line)
            seen = len(lines)
            if ended:
                break
            time.sleep(0.5)
        if not self.result.exists():
            raise AssertionError(f"the differential run beside the suite (pid "
                                 f"{self.proc.pid}) ended with status {self.proc.returncode} "
                                 f"and no result; its output: {self.log}")
        out = json.loads(self.result.read_text())
        if "failure" in out:
            raise AssertionError(out["failure"])
        RAN.__iadd__(Tally(*out["tally"]))
        done = Progress()
        done.started -= out["seconds"]
        done.steps, done.examples = out["steps"], out["examples"]
        done.ops.update(out["ops"])
        done.errors.update({(op, e): n for op, e, n in out["errors"]})
        return done

    def stop(self) -> None:
        """End a run no test waited for (the session stopped early)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
