"""``python -m vm merge DIR...``: the shards of one gate (``--shard I/N``) as one verdict.

Every gate run records ``verdict.json`` (exit status, headline, shard, seed, kernel,
times) in its run directory; ``gate --out DIR`` copies that and the result files
(:data:`FILES`) to DIR, which is what a CI job uploads.  ``merge`` reads such directories
and writes into ``--out`` (default: a new run directory):

* ``junit.xml``: every shard's ``<testsuite>``, named with its shard;
* ``junit.ktap``: one KTAP with the conformance suite (all shards' cases) and the
  kselftest suite;
* ``kcidb.json``: the shards' KCIDB data merged (one checkout and build, every test),
  validated with kcidb-io;
* ``rule-coverage.json`` and ``.md``: the rules the kernel and the model agreed on, the
  shards' counts added (conformance/coverage.py);
* ``verdict.json`` and the printed verdict: PASS (exit 0) only if all N shards of the
  same kernel are there and passed; a shard that FAILed makes the merge FAIL (1); else a
  shard's error status (2, ...) is the merge's.  Shards of different kernels, seeds or
  shard counts are an error (2): they are not one gate.
"""

from __future__ import annotations

import json
import logging
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from conformance import coverage as rule_coverage

from . import boot, kcidb, kselftest, paths, results
from .errors import GateError
from .results import Results

log = logging.getLogger(__name__)

RECORD = "verdict.json"
FILES = ("junit.xml", "junit.ktap", "kcidb.json", kselftest.OUTPUT, RECORD, "console.log",
         "dmesg.txt", rule_coverage.FILE, rule_coverage.REPORT)
EXTRA = ("nlmmap-repro-*.nls", "differential-*.txt")


def record(run_dir: Path, *, code: int, headline: str, shard, seed: int | None,
           kernel: Path, seconds: dict[str, float]) -> Path:
    path = run_dir / RECORD
    path.write_text(json.dumps({
        "exit": code, "headline": headline, "shard": str(shard), "seed": seed,
        "kernel": str(kernel), "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "run_dir": str(run_dir)}, indent=1) + "\n")
    return path


def export(run_dir: Path, out: Path) -> None:
    """Copy the run's result files to ``out`` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    copied = [f for f in FILES if (run_dir / f).exists()]
    for f in copied:
        shutil.copyfile(run_dir / f, out / f)
    for pattern in EXTRA:
        for p in run_dir.glob(pattern):
            shutil.copyfile(p, out / p.name)
    log.info("gate: results copied to %s (%s)", out, ", ".join(copied))


def add_parser(sub) -> None:
    p = sub.add_parser("merge", help="merge the result directories of a sharded gate "
                       "(gate --shard I/N --out DIR) into one verdict")
    p.add_argument("dirs", nargs="+", type=Path, metavar="DIR")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="where the merged results go (default: a new run directory)")
    p.add_argument("--dry-run", action="store_true",
                   help="check the directories and print what would be merged")


class Shard:
    """One shard's result directory."""

    def __init__(self, d: Path):
        if not (d / RECORD).is_file():
            raise GateError(f"{d} is not a gate result directory (no {RECORD})",
                            "python -m vm gate --shard I/N --out DIR")
        self.dir = d
        self.rec = json.loads((d / RECORD).read_text())
        self.index, self.count = (int(x) for x in self.rec["shard"].split("/"))
        junit = d / "junit.xml"
        self.conformance = results.parse_junit(junit) if junit.exists() else None
        ks = d / kselftest.OUTPUT
        self.kselftest = kselftest.parse(ks.read_text(errors="replace")) if ks.exists() \
            else None
        kc = d / "kcidb.json"
        self.kcidb = json.loads(kc.read_text()) if kc.exists() else None
        rc = d / rule_coverage.FILE
        self.rules = rule_coverage.Tally.load(rc) if rc.exists() else None

    @property
    def build_ids(self) -> set[str]:
        return {b["id"] for b in (self.kcidb or {}).get("builds", [])}


def check(shards: list[Shard]) -> list[str]:
    """Why these are not the shards of one gate (empty: they are, all of them)."""
    problems = []
    counts = {s.count for s in shards}
    if len(counts) > 1:
        problems.append(f"shard counts differ: {sorted(counts)}")
    n = max(counts)
    have = sorted(s.index for s in shards)
    if len(set(have)) != len(have):
        problems.append(f"a shard is given twice: {have}")
    missing = sorted(set(range(1, n + 1)) - set(have))
    if missing:
        problems.append("missing shard(s) " + ", ".join(f"{i}/{n}" for i in missing))
    if len({s.rec.get("seed") for s in shards}) > 1:
        problems.append("different base seeds (give every shard the same --seed)")
    builds = {frozenset(s.build_ids) for s in shards}
    if len(builds) > 1:
        problems.append("the shards tested different kernels: "
                        + " vs ".join(sorted(",".join(sorted(b)) for b in builds)))
    return problems


def merged_junit(shards: list[Shard]) -> ET.Element:
    root = ET.Element("testsuites", name="nlmmap gate (merged shards)")
    for s in shards:
        j = s.dir / "junit.xml"
        if not j.exists():
            continue
        for suite in ET.parse(j).getroot().iter("testsuite"):
            suite.set("name", f"{suite.get('name', 'pytest')} shard {s.index}/{s.count}")
            root.append(suite)
    return root


def merged_rules(shards: list[Shard], out: Path) -> str | None:
    """The shards' rule coverage added up into ``out``: the one-line summary, or None
    when no shard left one."""
    have = [s.rules for s in shards if s.rules is not None]
    if not have:
        return None
    total = rule_coverage.Tally()
    for t in have:
        total += t
    total.write(out / rule_coverage.FILE)
    return rule_coverage.write_report(out)


def exit_code(shards: list[Shard], problems: list[str]) -> int:
    codes = [int(s.rec["exit"]) for s in shards]
    if 1 in codes:
        return 1
    bad = [c for c in codes if c != 0]
    if bad:
        return bad[0]
    return 2 if problems else 0


def merge(dirs: list[Path], out: Path) -> int:
    shards = sorted((Shard(d) for d in dirs), key=lambda s: s.index)
    problems = check(shards)
    out.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(merged_junit(shards)).write(out / "junit.xml", encoding="utf-8",
                                               xml_declaration=True)
    conf = Results([c for s in shards if s.conformance for c in s.conformance.cases])
    suites = [("nlmmap_conformance", conf)]
    suites += [(kselftest.SUITE, s.kselftest) for s in shards if s.kselftest is not None]
    (out / "junit.ktap").write_text(results.to_ktap_suites(suites))
    kc = kcidb.write(kcidb.merge([s.kcidb for s in shards if s.kcidb]), out / "kcidb.json")
    rules = merged_rules(shards, out)
    code = exit_code(shards, problems)
    lines = [f"shard {s.index}/{s.count}: {s.rec['headline']} (guest "
             f"{s.rec['seconds'].get('guest', 0):.0f} s, total "
             f"{s.rec['seconds'].get('total', 0):.0f} s; {s.dir})" for s in shards]
    summary = "; ".join(f"{name}: {r.summary()}" for name, r in suites)
    slowest = max(s.rec["seconds"].get("total", 0) for s in shards)
    word = {0: "PASS", 1: "FAIL"}.get(code, "error")
    head = (f"gate: {word}: {len(shards)} shard(s) merged: {summary}" if not problems else
            f"gate: {word}: shards are not one complete gate: {'; '.join(problems)}")
    report = [head, *("  " + x for x in lines),
              f"  wall time with the shards in parallel: {slowest:.0f} s (slowest shard)",
              f"  {kc}", f"  JUnit: {out / 'junit.xml'}", f"  KTAP: {out / 'junit.ktap'}",
              *([f"  {rules} ({out / rule_coverage.REPORT})"] if rules else [])]
    (out / RECORD).write_text(json.dumps({
        "exit": code, "headline": head, "shards": [s.rec for s in shards],
        "problems": problems}, indent=1) + "\n")
    print("\n".join(report))
    return code


def cmd_merge(args) -> int:
    for d in args.dirs:
        if not d.is_dir():
            raise GateError(f"{d} is not a directory", "python -m vm merge DIR...")
    if args.dry_run:
        shards = [Shard(d) for d in args.dirs]
        for s in shards:
            print(f"would merge shard {s.index}/{s.count} from {s.dir}: {s.rec['headline']}")
        for p in check(shards):
            print(f"problem: {p}")
        print(f"would write junit.xml, junit.ktap, kcidb.json, {RECORD} to "
              f"{args.out or 'a new run directory'}")
        return 0
    out = args.out or boot.new_run_dir(paths.cache_root(), "merge")
    return merge(args.dirs, out)
