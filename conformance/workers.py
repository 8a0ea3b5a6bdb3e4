"""Forked worker processes sharing one differential run (drawing on the model, or
running a plan on the kernel): their counts, rule tallies and first failure.

The machine and the plan runner are single-threaded; the gate's guest has two vCPUs."""

from __future__ import annotations

import gc
import glob
import os
import time
import traceback
from collections import Counter
from multiprocessing import connection, get_context

from .backends import prepare_worker
from .rundir import results_dir
from .script import SUFFIX, Step

PROGRESS_EVERY = 20.0  # seconds between progress lines (the gate kills a silent guest)
# A worker's examples between full garbage collections. Automatic collection traversed
# hypothesis' growing heap over and over: once per 25 examples (1000 steps) instead took
# 10% off the host's time per step, for 16 MB more memory.
GC_EVERY = 25


class Progress:
    """The counts of one differential run (drawn by hypothesis, or run from a plan),
    shared by the machines hypothesis makes for it. With ``gc_every`` (a worker of
    :func:`parallel`, automatic collection off) it also collects cyclic garbage once
    every that many examples."""

    def __init__(self, report=None, gc_every: int = 0) -> None:
        self.steps = 0  # machine steps (rules executed, or planned and run)
        self.ops: Counter = Counter()  # backend calls by operation (each compared)
        self.errors: Counter = Counter()  # (operation, errno) both backends answered
        self.examples = 0
        self.started = self.last_report = time.monotonic()
        self.report = report  # callable(str) or None
        self.gc_every = gc_every
        self.plan: list = []  # drawn for a plan: each sequence's calls (plans.Example)

    def count(self, steps: int, calls: list[Step]) -> None:
        """One sequence of ``steps`` machine steps done, its backend ``calls`` recorded."""
        self.steps += steps
        self.examples += 1
        self.ops.update(c.op for c in calls)
        self.tick()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def tick(self) -> None:
        if self.gc_every and self.examples % self.gc_every == 0:
            gc.collect()
        now = time.monotonic()
        if self.report and now - self.last_report >= PROGRESS_EVERY:
            self.last_report = now
            self.report(f"differential: {self.steps} steps, {self.examples} sequences, "
                        f"{now - self.started:.0f} s")


class Stopped(BaseException):
    """Raised in a worker of :func:`parallel` when another worker has failed: a
    BaseException, so hypothesis passes it on instead of shrinking it as a failure."""


def workers() -> int:
    """How many processes a run uses by default: one per CPU this process may run on (the
    gate's guest has 2), or ``NLMMAP_DIFF_WORKERS``."""
    return int(os.environ.get("NLMMAP_DIFF_WORKERS", 0)) or len(os.sched_getaffinity(0))


def parallel(job, n: int, backend_name: str, progress) -> Progress:
    """Run ``job(done, k, stop)`` in ``n`` forked workers; sum their :class:`Progress`
    and rule tallies; raise the first failure (its reproducer under the name of
    ``backend_name``'s single-process run)."""
    from .backends.base import skip_port_bases
    from .coverage import RAN, Tally

    ctx = get_context("fork")
    stop = ctx.Event()
    pipes, procs = [], []
    for k in range(n):
        ours, theirs = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, name=f"differential-{k}",
                           args=(k, n, job, theirs, stop), daemon=True)
        proc.start()
        theirs.close()
        pipes.append(ours)
        procs.append(proc)
    done = Progress(progress)
    results = _collect(done, pipes, procs, stop)
    for k in sorted(results):
        r = results[k]
        skip_port_bases(r["next_port_base"])
        if "tally" in r:
            RAN.__iadd__(Tally(*r["tally"]))
        done.plan += r.get("plan", [])
    failed = [k for k, r in results.items() if "failure" in r]
    if failed:
        raise AssertionError(_adopt_repro(backend_name, failed[0], results[failed[0]]))
    return done


def _worker(k, n, job, conn, stop) -> None:
    """One process of :func:`parallel`: runs ``job`` and sends its counts (or its
    failure) to the parent through ``conn``."""
    from .backends.base import next_port_base
    from .coverage import RAN

    prepare_worker(k, n)
    RAN.ops, RAN.agreed = 0, Counter()  # forked with the parent's: send only this run's
    gc.freeze()  # what the parent made stays (and its pages stay shared)
    gc.disable()
    done = Progress(gc_every=GC_EVERY)
    done.report = lambda _line: conn.send(("progress", done.steps, done.examples))
    out = {}
    try:
        job(done, k, stop)
        out["tally"] = (RAN.ops, dict(RAN.agreed))
    except Stopped:
        pass
    except BaseException as e:  # noqa: BLE001 - any failure of the run goes to the parent
        out["failure"] = "".join(traceback.format_exception(e))
    out.update(steps=done.steps, examples=done.examples, ops=done.ops, errors=done.errors,
               plan=done.plan, next_port_base=next_port_base())
    conn.send(("done", out))
    conn.close()


def _collect(done: Progress, pipes, procs, stop) -> dict[int, dict]:
    """Read the workers' messages until all have finished; sums their counts into
    ``done``. A progress line is reported once every running worker has reported since
    the previous line: a hung worker silences it, so the gate still sees the hang."""
    live = dict(enumerate(pipes))
    counts = {k: (0, 0) for k in live}
    heard: set[int] = set()
    results: dict[int, dict] = {}
    while live:
        for conn in connection.wait(list(live.values())):
            k = next(j for j, c in live.items() if c is conn)
            try:
                msg = conn.recv()
            except EOFError:
                procs[k].join()
                msg = ("done", {"failure": f"differential worker {k} died (exit status "
                                           f"{procs[k].exitcode}) without a result",
                                "next_port_base": 0})
            if msg[0] == "progress":
                counts[k] = msg[1:]
                heard.add(k)
            else:
                results[k] = r = msg[1]
                del live[k]
                counts[k] = (r.get("steps", counts[k][0]), r.get("examples", counts[k][1]))
                if "failure" in r:
                    stop.set()
            done.steps = sum(c[0] for c in counts.values())
            done.examples = sum(c[1] for c in counts.values())
            if live and heard >= set(live):
                heard.clear()
                done.last_report = 0.0
                done.tick()
    for proc in procs:
        proc.join()
    for r in results.values():
        done.ops.update(r.get("ops", {}))
        done.errors.update(r.get("errors", {}))
    return results


def _adopt_repro(backend_name: str, k: int, result: dict) -> str:
    """The failure message of worker ``k``, its reproducer renamed to the name of a
    single-process run (the one the gate collects); other workers' reproducers (of a
    failure found meanwhile, not shrunk) are removed."""
    canonical = os.path.join(results_dir(), f"nlmmap-repro-{backend_name}{SUFFIX}")
    message = result["failure"]
    mine = f"{canonical}.{k}"
    if os.path.exists(mine):
        os.replace(mine, canonical)
        message = message.replace(mine, canonical)
    for other in glob.glob(glob.escape(canonical) + ".*"):
        os.unlink(other)
    return f"differential worker {k} of the parallel run failed:\n{message}"
