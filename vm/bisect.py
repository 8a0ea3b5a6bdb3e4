"""``python -m vm bisect``: the first patch of a series at which a test fails.

Prefix k of the series = its first k patches (0 = the base kernel). Each prefix is built
through the cache as a variant series (:mod:`vm.trial`) and only the test is run
(``gate -k EXPR --fail-fast``). As kernel CI bisections do, a prefix is *bad* only when
the failure reproduces: a failing run is repeated once; fail + fail is bad, fail + pass
is *flaky* (reported, and counted as good: the failure did not reproduce). A prefix that
cannot be judged (does not apply or build, gate error) is *skipped* and the search goes
around it. Both ends are checked first: the bad end (default: the whole series) must
fail reproducibly, the good end (``--good K``, default 0) must pass -- a test that needs
the test driver cannot pass before the driver's patch, so start after it.

``--mutant NAME --after K`` bisects the series with the kernel mutant NAME inserted
after patch K (the patches after it must still apply): the demonstration that the
bisection finds a regression wherever it is introduced.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import boot, dryrun, mutants, paths, series, trial
from .errors import GateError

log = logging.getLogger(__name__)

GOOD, BAD, FLAKY, SKIP = "good", "bad", "flaky", "skip"


@dataclass
class Step:
    k: int  # prefix length
    verdict: str  # good | bad | flaky | skip
    runs: list[str]  # outcome of each run: pass | fail | error
    seconds: float = 0.0
    detail: str = ""


@dataclass
class Result:
    first_bad: int | None  # prefix length whose last patch is the first bad one
    lo: int  # last known good prefix
    hi: int  # first known bad prefix
    steps: list[Step] = field(default_factory=list)

    @property
    def flaky(self) -> list[int]:
        return [s.k for s in self.steps if s.verdict == FLAKY]

    @property
    def skipped(self) -> list[int]:
        return [s.k for s in self.steps if s.verdict == SKIP]


class BisectError(GateError):
    """The ends do not behave (good end fails, bad end passes or is flaky); ``result``
    holds the steps made so far."""

    def __init__(self, message: str, result: Result | None = None) -> None:
        super().__init__(message)
        self.result = result


Oracle = Callable[[int], tuple[str, str]]  # prefix -> (pass|fail|error, detail)


def judge(k: int, oracle: Oracle) -> Step:
    """Run the test at prefix k; a failure is run again and is bad only if it repeats."""
    t0 = time.monotonic()
    first, detail = oracle(k)
    runs = [first]
    if first == "pass":
        verdict = GOOD
    elif first == "error":
        verdict = SKIP
    else:
        again, detail2 = oracle(k)
        runs.append(again)
        if again == "fail":
            verdict = BAD
        elif again == "pass":
            verdict = FLAKY
            detail = f"failed once ({detail}), passed on the rerun"
        else:
            verdict, detail = SKIP, detail2
    step = Step(k, verdict, runs, time.monotonic() - t0, detail)
    log.info("bisect: prefix %d: %s (%s)%s", k, verdict, ", ".join(runs),
             f": {detail}" if detail and verdict != GOOD else "")
    return step


def _next(lo: int, hi: int, skipped: set[int]) -> int | None:
    """The untested prefix strictly between lo and hi closest to the middle."""
    mid = (lo + hi) // 2
    for d in range(hi - lo):
        for c in (mid - d, mid + d):
            if lo < c < hi and c not in skipped:
                return c
    return None


def search(oracle: Oracle, *, good: int, bad: int) -> Result:
    """Binary search for the first bad prefix in (good, bad]; both ends are verified."""
    if not 0 <= good < bad:
        raise BisectError(f"need 0 <= good < bad, got good={good} bad={bad}")
    res = Result(None, good, bad)
    steps = res.steps
    end = judge(bad, oracle)
    steps.append(end)
    if end.verdict != BAD:
        why = {GOOD: "passes", FLAKY: "does not reproduce (failed, then passed)",
               SKIP: f"cannot be judged: {end.detail}"}[end.verdict]
        raise BisectError(f"the test {why} at the bad end (prefix {bad}): nothing to "
                          "bisect", res)
    start = judge(good, oracle)
    steps.append(start)
    if start.verdict == BAD:
        raise BisectError(f"the test fails at the good end too (prefix {good}, reproduced: "
                          f"{start.detail}); choose a later --good (a test that needs the "
                          "test driver or the tracepoints cannot pass before their "
                          "patches)", res)
    if start.verdict == SKIP:
        raise BisectError(f"the good end (prefix {good}) cannot be judged: {start.detail}",
                          res)
    lo, hi, skipped = good, bad, set()
    while (k := _next(lo, hi, skipped)) is not None:
        step = judge(k, oracle)
        steps.append(step)
        if step.verdict == BAD:
            hi = k
        elif step.verdict == SKIP:
            skipped.add(k)
        else:
            lo = k
    res.first_bad, res.lo, res.hi = (hi if hi - lo == 1 else None), lo, hi
    return res


def _name(names: list[str], k: int) -> str:
    return names[k - 1] if k else "(base kernel, no patch)"


def render_steps(res: Result, names: list[str]) -> str:
    """The transcript: one row per judged prefix, in the order they were judged."""
    lines = ["| # | prefix | last patch | runs | verdict | seconds |",
             "|---:|---:|---|---|---|---:|"]
    for i, s in enumerate(res.steps, 1):
        lines.append(f"| {i} | {s.k}/{len(names)} | `{_name(names, s.k)}` | "
                     f"{', '.join(s.runs)} | {s.verdict} | {s.seconds:.0f} |")
    return "\n".join(lines) + "\n"


def render(res: Result, names: list[str]) -> str:
    """The transcript and the answer."""
    def name(k: int) -> str:
        return _name(names, k)

    lines = [render_steps(res, names)]
    if res.first_bad is not None:
        lines.append(f"first bad patch: {name(res.first_bad)} ({res.first_bad}/{len(names)})")
    else:
        lines.append(f"first bad patch: one of prefixes {res.lo + 1}..{res.hi} "
                     f"({', '.join(name(k) for k in range(res.lo + 1, res.hi + 1))}): "
                     f"skipped {', '.join(map(str, res.skipped))}")
    if res.flaky:
        lines.append(f"flaky (failed once, passed on the rerun; counted good): prefixes "
                     f"{', '.join(map(str, res.flaky))}")
    return "\n".join(lines) + "\n"


# ---- the command -------------------------------------------------------------------------

def add_parser(sub) -> None:
    p = sub.add_parser("bisect", help="find the first patch of the series at which a test "
                       "fails (each prefix built through the cache; failures re-run)")
    p.add_argument("--test", required=True, metavar="EXPR", help="pytest -k expression")
    p.add_argument("--series-dir", type=Path, default=paths.PATCHES, metavar="DIR")
    p.add_argument("--profile", choices=("fast", "debug"), default="fast")
    p.add_argument("--good", type=int, default=0, metavar="K",
                   help="a prefix where the test passes (default 0: the base kernel)")
    p.add_argument("--bad", type=int, default=None, metavar="K",
                   help="a prefix where it fails (default: the whole series)")
    p.add_argument("--mutant", metavar="NAME",
                   help="insert conformance/kernel-mutants/NAME.diff into the series first")
    p.add_argument("--after", type=int, default=None, metavar="K",
                   help="with --mutant: after patch K (default: at the end)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the build and gate commands of the first prefixes it would "
                   "judge (the rest depends on their verdicts), run nothing")
    p.add_argument("gate_args", nargs=argparse.REMAINDER,
                   help="after --: more options for every gate run")


def entries_of(args) -> list[series.Patch]:
    patches = series.read_series(args.series_dir)
    if not args.mutant:
        if args.after is not None:
            raise GateError("--after needs --mutant")
        return patches
    (m,) = mutants.load(only=[args.mutant])
    entries = trial.insert(patches, m.as_patch(), args.after)
    pristine = trial.Pristine(trial.touched(entries))
    try:
        why = pristine.check(entries)
    finally:
        pristine.close()
    if why:
        raise GateError(f"{m.name} inserted after patch {args.after}: {why}",
                        "a mutant can only go where the code it changes exists and where "
                        "the later patches still apply on top of it")
    log.info("bisect: %s inserted after patch %s of %d: the variant applies", m.name,
             args.after if args.after is not None else len(patches), len(patches))
    return entries


def dry_run(args, entries: list[series.Patch], bad: int, gate_args: list[str]) -> int:
    """The bad end, the good end and the first midpoint: build and gate commands."""
    first = _next(args.good, bad, set())
    lines = [f"# bisect {args.test!r} over {len(entries)} entries, good {args.good}, bad {bad}:"
             f" judged first {bad} (bad end), {args.good} (good end)"
             + (f", then {first} (midpoint)" if first is not None else "")
             + "; a failure is re-run before it counts"]
    for k in (bad, args.good, *([first] if first is not None else [])):
        plan, _bz, _tree = dryrun.build_plan(profile=args.profile, series_dir=args.series_dir,
                                             patches=entries[:k])
        lines += [f"# prefix {k} ({_name([p.name for p in entries], k)}):", *plan,
                  "$ " + shlex.join(trial.gate_command(
                      Path(f"<bzImage of prefix {k}>"), profile=args.profile,
                      junit=Path(f"<run dir>/prefix-{k:02d}/run-1/junit.xml"), kexpr=args.test,
                      gate_args=gate_args))]
    return dryrun.show(lines)


def cmd_bisect(args) -> int:
    entries = entries_of(args)
    names = [p.name for p in entries]
    bad = len(entries) if args.bad is None else args.bad
    # only the test decides: the series' kselftest (a second gate suite) is left out
    gate_args = ["--no-kselftest",
                 *(args.gate_args[1:] if args.gate_args[:1] == ["--"] else args.gate_args)]
    if args.dry_run:
        return dry_run(args, entries, bad, gate_args)
    run_dir = boot.new_run_dir(paths.cache_root(), "bisect")
    log.info("bisect: %r over %d entries of %s%s, good %d, bad %d; results in %s", args.test,
             len(entries), args.series_dir, f" + {args.mutant}" if args.mutant else "",
             args.good, bad, run_dir)
    runs: dict[int, int] = {}

    def oracle(k: int) -> tuple[str, str]:
        runs[k] = runs.get(k, 0) + 1
        work = run_dir / f"prefix-{k:02d}" / f"run-{runs[k]}"
        label = f"prefix {k} ({names[k - 1] if k else 'base'}) run {runs[k]}"
        try:
            sdir = trial.variant_dir(run_dir / f"prefix-{k:02d}" / "series", args.series_dir,
                                     entries, k)
            kern = trial.build_variant(sdir, args.profile)
            t = trial.run_gate(kern.bzimage, work, label=label, profile=args.profile,
                               kexpr=args.test, gate_args=gate_args)
        except GateError as e:
            return "error", e.message
        return t.outcome, t.caught_by if t.outcome == "fail" else t.headline

    try:
        res = search(oracle, good=args.good, bad=bad)
    except BisectError as e:
        if e.result is not None:
            _write(run_dir, args.test, names, e.result, error=e.message)
        raise
    print(_write(run_dir, args.test, names, res), end="")
    return 0 if res.first_bad is not None else 1


def _write(run_dir: Path, test: str, names: list[str], res: Result, error: str = "") -> str:
    text = render(res, names) if not error else render_steps(res, names) + f"\n{error}\n"
    (run_dir / "bisect.md").write_text(f"bisect --test {test!r}\n\n" + text)
    (run_dir / "bisect.json").write_text(json.dumps(
        {"test": test, "series": names, "first_bad": res.first_bad, "error": error or None,
         "steps": [asdict(s) for s in res.steps]}, indent=1) + "\n")
    return text
