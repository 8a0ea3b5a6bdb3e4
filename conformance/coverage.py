"""Which rules of spec/rules.toml the suite covers: ``python -m conformance.coverage
[--ran FILE | --scenarios [DIR]]``.

Two measures. *Cited*: a test covers the rules its function name carries
(``test_r4_11_...`` -> R4.11, ``test_d2_...`` -> D2) and those its docstring cites
("(R4.5)"); an operation script (``scripts/*.nls``, ``corpus/*.nls``) those its comment
header cites. *Ran*: the model names the rules each decision applies (``World.apply``);
the lockstep backend counts, per rule id, the operations the kernel and the model agreed
on that the model decided with it (:class:`Tally`). A gate run's guest writes those counts
to ``rule-coverage.json`` in its run directory; the gate turns them into
``rule-coverage.md`` (:func:`write_report`): every rule, decision and model assumption
with its agreed operations, and the ones never reached. Without a kernel,
``--scenarios`` runs the scenarios with the model checked against itself
(:func:`run_scenarios`) and reports the same counts: the rules the scenarios reach."""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from spec import ENTRIES, base_rule
from spec.cite import rules_cited_by_tests

HERE = Path(__file__).resolve().parent
FILE = "rule-coverage.json"  # written by the guest (conformance/conftest.py)
REPORT = "rule-coverage.md"  # written by the gate next to it
KINDS = ("rule", "decision", "model")  # the entries a decision point may name


@functools.cache
def _with_bases(rules: frozenset[str]) -> frozenset[str]:
    """The ids and their rules ("R2.5.3" -> also "R2.5"); cached, as lockstep runs add
    the same few sets of ids for every operation (a frame read: R1.4 R1.7)."""
    return frozenset({*rules, *map(base_rule, rules)})


class Tally:
    """Operations the kernel and the model agreed on: how many, and per rule id how many
    of them the model decided with it: as it named the id ("R2.5.3", "R4.3d", "D16")
    and, for a step or case, its rule ("R2.5", "R4.3")."""

    def __init__(self, ops: int = 0, agreed: dict[str, int] | None = None) -> None:
        self.ops = ops
        self.agreed = Counter(agreed or {})

    def add(self, rules: Iterable[str]) -> None:
        self.ops += 1
        self.agreed.update(_with_bases(frozenset(rules)))

    def __iadd__(self, other: Tally) -> Tally:
        self.ops += other.ops
        self.agreed.update(other.agreed)
        return self

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps({"ops": self.ops, "agreed": dict(sorted(self.agreed.items()))},
                                   indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> Tally:
        doc = json.loads(path.read_text())
        return cls(doc["ops"], doc["agreed"])


# The kernel lockstep runs of this process (make_backend("kernel")); conftest.py writes
# it to the run directory at the end of the session.
RAN = Tally()


def entries() -> list[str]:
    return [k for k, e in ENTRIES.items() if e.kind in KINDS]


def summary(t: Tally) -> str:
    ids = entries()
    never = [r for r in ids if not t.agreed[r]]
    return (f"rules exercised with agreement: {len(ids) - len(never)} of {len(ids)} "
            f"({t.ops} agreed operations); never reached: {' '.join(never) or 'none'}")


def report(t: Tally, source: str) -> str:
    """Markdown: every rule, decision and model assumption with its agreed operations
    (and those of its steps and cases), then the ones never reached."""
    parts: dict[str, list[str]] = {}
    for rid, n in sorted(t.agreed.items()):
        if rid != base_rule(rid):
            parts.setdefault(base_rule(rid), []).append(f"{rid}: {n}")
    lines = ["# Rule coverage from what ran", "",
             f"Source: `{source}`. Operations the kernel and the model agreed on: {t.ops}.",
             "An operation counts for every rule the model applied to decide it "
             "(`World.apply`, model/RULES.md).", "", summary(t), "",
             "| id | title | agreed operations | steps and cases |", "|---|---|---|---|"]
    for r in entries():
        e = ENTRIES[r]
        title = e.title + (f" ({e.status})" if e.status else "")
        lines.append(f"| {r} | {title} | {t.agreed[r]} | {', '.join(parts.get(r, []))} |")
    lines += ["", "## Never reached", ""]
    for r in entries():
        if not t.agreed[r]:
            e = ENTRIES[r]
            why = f": untested, {' '.join(e.untested.split())}" if e.untested else ""
            lines.append(f"- {r} {e.title}{why}")
    return "\n".join(lines) + "\n"


def write_report(d: Path) -> str | None:
    """``rule-coverage.md`` from ``rule-coverage.json`` in run directory ``d``; returns
    the one-line summary (None when the run left no counts)."""
    src = d / FILE
    if not src.is_file():
        return None
    t = Tally.load(src)
    (d / REPORT).write_text(report(t, str(src)))
    return summary(t)


# The backend that runs each scenario on the model checked in lockstep against the model
# (backends/__init__.py): the gate's kernel+model pairing minus the kernel, counted in RAN.
SELF_LOCKSTEP = "model+model"


def run_scenarios(d: Path) -> int:
    """Run the host's conformance scenarios once more each on the ``model+model`` lockstep
    backend with run directory ``d``, where conftest.py writes their counts (``FILE``).
    Returns pytest's exit status."""
    (d / FILE).unlink(missing_ok=True)
    env = {**os.environ, "NLMMAP_EXTRA_BACKEND": SELF_LOCKSTEP, "NLMMAP_RUN_DIR": str(d)}
    return subprocess.call([sys.executable, "-m", "pytest", str(HERE), "-q",
                            "-p", "no:cacheprovider", "-m", "not kernel and not vm",
                            "-k", SELF_LOCKSTEP], env=env, cwd=HERE.parent)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance.coverage", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    how = ap.add_mutually_exclusive_group()
    how.add_argument("--ran", type=Path, metavar="FILE",
                     help=f"a gate run's {FILE} (or its run directory): add the operations "
                          "agreed on per rule")
    how.add_argument("--scenarios", type=Path, nargs="?", const=True, metavar="DIR",
                     help=f"run the scenarios on the model against itself ({SELF_LOCKSTEP}) "
                          f"and add what they reach; {FILE} and {REPORT} go to DIR (default: "
                          "a new temporary directory)")
    a = ap.parse_args(argv)
    ran, rc = None, 0
    if a.scenarios is not None:
        d = Path(tempfile.mkdtemp(prefix="nlmmap-coverage-")) if a.scenarios is True \
            else a.scenarios
        d.mkdir(parents=True, exist_ok=True)
        rc = run_scenarios(d)
        if write_report(d) is None:
            print(f"the scenarios left no counts in {d} (pytest exit status {rc})")
            return rc or 1
        print(f"counts and report: {d / FILE}, {d / REPORT}")
        a.ran = d
    if a.ran is not None:
        ran = Tally.load(a.ran / FILE if a.ran.is_dir() else a.ran)
    ids = [k for k, e in ENTRIES.items() if e.kind in ("rule", "decision")]
    cov = rules_cited_by_tests(sorted(HERE.glob("test_*.py")) + sorted(HERE.glob("*/*.nls")))
    for r in ids:
        names = ", ".join(t.split("::")[1] for t in cov.get(r, [])[:3])
        agreed = f"{ran.agreed[r]:7d}  " if ran else ""
        print(f"{r:7s} {len(cov.get(r, [])):3d}  {agreed}{names}")
    have = [r for r in ids if r in cov]
    print(f"rules and decisions with a scenario: {len(have)} / {len(ids)}")
    print("without: " + " ".join(r for r in ids if r not in cov))
    if ran:
        print(summary(ran))
    return rc


if __name__ == "__main__":
    sys.exit(main())
