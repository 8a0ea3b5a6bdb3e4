"""``python -m vm soak``: run the gate N times on one kernel and count outcomes by cause.

A gate is judged by how often it fails a good kernel.  ``soak`` measures that: it runs
``python -m vm gate`` (through :func:`vm.trial.run_gate`, one guest at a time) ``--runs``
times on the same kernel and prints one table row per *cause* (PASS, each distinct FAIL
headline with addresses and timestamps blanked out, each infrastructure failure), with
the run directories of the non-passing runs.  Infrastructure failures the gate retried
(and that then passed) are counted as boots of their own: they are what a mitigation is
meant to remove.  With no spurious FAIL the 95% upper bound of the FAIL rate is printed
(exact binomial, ``1 - 0.05 ** (1 / n)``), since "0 of 50" is not "0%".

``--rejudge DIR`` judges the guest runs of an earlier soak again with the current judge
(console, status, JUnit and kselftest output are all in the run dirs): the same boots,
classified by today's rules.  A run that was one boot then and is an infrastructure
failure now was not retried then; it is counted as ERROR.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import boot, build, console, dryrun, judge, kselftest, paths, results, trial
from .errors import GateError

log = logging.getLogger(__name__)

# what the gate prints when it retries an infrastructure failure (vm/cli.py)
RETRY_LINE = re.compile(r"gate: infrastructure failure on attempt \d+ \((?P<dir>[^)]*)\): "
                        r"(?P<why>.*?); retrying once$")


def normalise(headline: str) -> str:
    """A headline with what differs between occurrences of one cause blanked out: hex
    addresses, offsets, timestamps, pids, counts."""
    s = re.sub(r"\[\s*\d+\.\d+\]", "", headline)
    s = re.sub(r"\b0x[0-9a-f]+\b|\b[0-9a-f]{8,}\b", "X", s)
    s = re.sub(r"\+X/X", "", s)
    s = re.sub(r"\d+", "N", s)
    return " ".join(s.split())


@dataclass
class Run:
    """One gate invocation of the soak."""

    index: int
    exit: int
    cause: str  # "PASS" or the normalised verdict headline
    retried: list[str] = field(default_factory=list)  # infra failures the gate retried
    run_dir: str | None = None
    guest_seconds: float | None = None
    log: str = ""

    @property
    def boots(self) -> int:
        return 1 + len(self.retried)


KIND = {0: "pass", 1: "FAIL", 2: "error", 3: "infra"}


def run_of(index: int, t: trial.Trial) -> Run:
    text = Path(t.log).read_text(errors="replace") if t.log else ""
    retried = [normalise(m.group("why")) for m in map(RETRY_LINE.search, text.splitlines())
               if m]
    cause = "PASS" if t.exit == 0 else normalise(t.headline)
    return Run(index, t.exit, cause, retried, t.run_dir, t.guest_seconds, t.log)


VERDICT_LINE = re.compile(r"^gate: (PASS|FAIL|ERROR|error):", re.M)
# the boot lines of the gate's log (vm/boot.py): where each guest ran and how it ended
_BOOT_START = re.compile(r"\(console: (?P<dir>\S+)/console\.log\)")
_BOOT_END = re.compile(r"boot: guest finished in (?P<s>[\d.]+) s \(command status (?P<status>\S+),"
                       r" vng status (?P<vng>[^,)]+)(?P<hang>, HANG)?\)")


def _int(text: str) -> int | None:
    return None if text == "None" else int(text)


def boots_in(gate_log: str) -> list[boot.BootResult]:
    """The guest runs a gate log names, read back from their run dirs."""
    out, run_dir = [], None
    for line in gate_log.splitlines():
        m = _BOOT_START.search(line)
        if m:
            run_dir = Path(m.group("dir"))
            continue
        m = _BOOT_END.search(line)
        if m and run_dir is not None:
            log_path = run_dir / "console.log"
            text = log_path.read_text(errors="replace") if log_path.exists() else ""
            out.append(boot.BootResult(_int(m.group("status")), console.clean(text), log_path,
                                       run_dir, bool(m.group("hang")), float(m.group("s")),
                                       "tcg", _int(m.group("vng"))))
            run_dir = None
    return out


def rejudge_boot(b: boot.BootResult) -> judge.Verdict:
    """The verdict today's judge gives one finished guest run (suite and kselftest)."""
    junit = b.run_dir / "junit.xml"
    try:
        parsed = results.parse_junit(junit) if junit.exists() else None
    except ET.ParseError:  # a guest killed while writing it
        parsed = None
    v = judge.judge_tests(b, junit, parsed)
    if (b.run_dir / kselftest.OUTPUT).exists() and not v.infra:
        v = kselftest.judge(v, kselftest.collect(b.run_dir), b.run_dir)
    return v


def rejudge_run(index: int, gate_log: Path) -> Run:
    boots = boots_in(gate_log.read_text(errors="replace"))
    if not boots:
        return Run(index, 2, "no guest run in the gate log", log=str(gate_log))
    verdicts = [rejudge_boot(b) for b in boots]
    last = verdicts[-1]
    retried = [normalise(v.headline) for v in verdicts[:-1] if v.infra]
    cause = "PASS" if last.ok else normalise(f"gate: {last.word}: {last.headline}")
    return Run(index, last.exit_code, cause, retried, str(boots[-1].run_dir), None,
               str(gate_log))


def upper_bound_95(failures: int, n: int) -> float | None:
    """Exact one-sided 95% upper bound of a rate with 0 events in n trials (else None:
    with events the observed count is what gets reported)."""
    if n == 0 or failures:
        return None
    return 1 - 0.05 ** (1 / n)


def table(runs: list[Run]) -> str:
    """Rows by (outcome, cause), retried infrastructure failures as rows of their own."""
    rows: dict[tuple[str, str], list[str]] = {}
    for r in runs:
        rows.setdefault((KIND.get(r.exit, f"exit {r.exit}"), r.cause), []).append(
            "" if r.exit == 0 else (r.run_dir or r.log))
        for why in r.retried:
            rows.setdefault(("infra, retried", why), []).append(r.log)
    n = len(runs)
    boots = sum(r.boots for r in runs)
    fails = sum(1 for r in runs if r.exit == 1)
    lines = [f"soak: {n} gate runs, {boots} boots", f"{'outcome':<15} {'count':>5}  cause",
             f"{'-' * 15} {'-' * 5}  {'-' * 40}"]
    for (kind, cause), where in sorted(rows.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"{kind:<15} {len(where):>5}  {cause}")
        lines += [f"{'':<22}{w}" for w in where[:5] if w]
    ub = upper_bound_95(fails, n)
    lines.append(f"FAIL verdicts: {fails} of {n}"
                 + (f" (95% upper bound of the FAIL rate: {ub:.1%})" if ub is not None else ""))
    infra = sum(1 for r in runs if r.exit == 3) + sum(len(r.retried) for r in runs)
    ub = upper_bound_95(infra, boots)
    lines.append(f"infrastructure failures: {infra} of {boots} boots"
                 + (f" (95% upper bound: {ub:.1%})" if ub is not None else ""))
    return "\n".join(lines)


def add_parser(sub) -> None:
    p = sub.add_parser("soak", help="run the gate N times on one kernel; print outcomes by "
                       "cause (spurious failure rate)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--runs", type=int, metavar="N", help="gate runs")
    what.add_argument("--rejudge", type=Path, metavar="SOAK_DIR",
                      help="judge an earlier soak's guest runs again with today's rules")
    p.add_argument("--kernel", type=Path, metavar="BZIMAGE",
                   help="kernel to boot (default: the series' kernel through the cache)")
    p.add_argument("--profile", choices=("fast", "debug"), default="fast")
    p.add_argument("--dry-run", action="store_true",
                   help="print the gate command each run would be, run nothing")
    p.add_argument("gate_args", nargs=argparse.REMAINDER,
                   help="after --: arguments for every `python -m vm gate` run")


def dry_run(args, gate_args: list[str]) -> int:
    """The N gate commands, from the builder the soak runs them with (``python -m vm gate
    --dry-run ...`` prints each one's build and boot)."""
    bz = args.kernel or Path("<the series' kernel: python -m vm build --dry-run>")
    out = paths.cache_root() / "runs" / dryrun.RUN_DIR
    return dryrun.show([dryrun.cmd_line(trial.gate_command(
        bz, profile=args.profile, junit=out / f"run-{i:03d}" / "junit.xml", fail_fast=False,
        gate_args=gate_args), cwd=paths.REPO) for i in range(1, args.runs + 1)])


def cmd_soak(args) -> int:
    gate_args = list(args.gate_args)
    if gate_args and gate_args[0] == "--":
        gate_args = gate_args[1:]
    if args.rejudge is not None:
        logs = sorted(args.rejudge.glob("run-*/gate.log"))
        if not logs:
            raise GateError(f"{args.rejudge} has no run-*/gate.log: not a soak directory")
        done = [p for p in logs if VERDICT_LINE.search(p.read_text(errors="replace"))]
        if len(done) < len(logs):
            log.info("soak: %d gate run(s) without a verdict (running, or killed) left out",
                     len(logs) - len(done))
        text = table([rejudge_run(i, p) for i, p in enumerate(done, 1)])
        print(f"re-judged with today's rules: {args.rejudge}\n{text}")
        return 0
    if args.runs < 1:
        raise GateError(f"--runs must be at least 1, not {args.runs}")
    if "--kernel" in gate_args or "-x" in gate_args or "--fail-fast" in gate_args:
        raise GateError("give --kernel before --, and no --fail-fast: the soak runs the "
                        "whole suite on one kernel", "python -m vm soak --help")
    if args.kernel is not None and not args.kernel.exists():
        raise GateError(f"kernel image {args.kernel} does not exist")
    if args.dry_run:
        return dry_run(args, gate_args)
    bz = args.kernel or build.ensure_kernel(profile=args.profile, series_dir=paths.PATCHES,
                                            require_series=True).bzimage
    out = boot.new_run_dir(paths.cache_root(), "soak")
    log.info("soak: %d gate runs on %s, gate args %s; results in %s", args.runs, bz,
             gate_args or "(none)", out)
    runs: list[Run] = []
    t0 = time.monotonic()
    for i in range(1, args.runs + 1):
        t = trial.run_gate(bz, out / f"run-{i:03d}", label=f"soak {i}/{args.runs}",
                           profile=args.profile, fail_fast=False, gate_args=gate_args)
        runs.append(run_of(i, t))
        r = runs[-1]
        log.info("soak %d/%d: %s (%s)%s; %.0f min so far", i, args.runs,
                 KIND.get(r.exit, r.exit), r.cause,
                 f", after {len(r.retried)} retried infrastructure failure(s)" if r.retried
                 else "", (time.monotonic() - t0) / 60)
        (out / "soak.json").write_text(json.dumps(
            {"kernel": str(bz), "gate_args": gate_args, "runs": [asdict(x) for x in runs]},
            indent=1))
    text = table(runs)
    (out / "soak.txt").write_text(text + "\n")
    print(text)
    log.info("soak: table and JSON in %s", out)
    return 0 if not any(r.exit == 1 for r in runs) else 1
